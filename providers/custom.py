"""Operator-defined OpenAI-compatible providers: the presets, the validation of a definition,
and the adapter each definition becomes (GET {base}/models with a Bearer key).

A local server's preset (vLLM, LM Studio, a LiteLLM proxy) is configured as a local endpoint,
so loopback and private addresses are allowed for it; the others (Together, Fireworks, a generic
endpoint) as an API key, under the cloud egress rules (private addresses only with
KODA_ALLOW_PRIVATE_BASE_URLS). A LiteLLM proxy is always checked as the gateway it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.views.decorators.debug import sensitive_variables

from providers.fields import (
    AuthMethod,
    InvalidField,
    Method,
    api_key_field,
    base_url_field,
    clean_url,
    endpoint_url_field,
)
from providers.gateway import gateway_check
from providers.values import Capability, Credential, RuntimeAccess, VerificationResult
from providers.verification import HttpProvider, Probe, openai_style_models


@dataclass(frozen=True)
class Preset:
    id: str
    label: str
    base_url: str
    requires_key: bool
    local: bool
    capabilities: tuple[str, ...]
    help: str


PRESETS: dict[str, Preset] = {
    p.id: p
    for p in (
        Preset(
            "vllm",
            "vLLM",
            "http://127.0.0.1:8000/v1",
            False,
            True,
            ("chat", "embedding"),
            "vllm serve <model> (add --api-key to require a key).",
        ),
        Preset(
            "lmstudio",
            "LM Studio",
            "http://127.0.0.1:1234/v1",
            False,
            True,
            ("chat", "embedding"),
            "LM Studio's local server (Developer tab → Start server).",
        ),
        Preset(
            "litellm",
            "LiteLLM proxy",
            "http://127.0.0.1:4000",
            True,
            True,
            ("chat", "embedding"),
            "A LiteLLM proxy; the key is one of its virtual keys (sk-…).",
        ),
        Preset(
            "together",
            "Together AI",
            "https://api.together.xyz/v1",
            True,
            False,
            ("chat", "embedding"),
            "Keys at api.together.ai/settings/api-keys.",
        ),
        Preset(
            "fireworks",
            "Fireworks AI",
            "https://api.fireworks.ai/inference/v1",
            True,
            False,
            ("chat", "embedding"),
            "Keys at fireworks.ai/account/api-keys.",
        ),
        Preset(
            "generic",
            "Any OpenAI-compatible endpoint",
            "",
            True,
            False,
            ("chat",),
            "Any server that answers GET {base}/models the way OpenAI does.",
        ),
    )
}

ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
# Headers that carry credentials: a secret goes in the (encrypted) key field, never here.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-goog-api-key"}
)
MAX_HEADERS = 10
# Ids the dashboard's and the API's own paths use (/providers/new/, /providers/downloads/…).
RESERVED_IDS = frozenset({"new", "downloads", "embedding"})


class OpenAICompatible(HttpProvider):
    """One operator-defined provider, built from its row (values only: no database here)."""

    kind = "cloud"
    protocol = "openai"

    def __init__(self, definition: Any) -> None:
        preset = PRESETS.get(definition.preset, PRESETS["generic"])
        self.id = definition.id
        self.name = definition.name
        self.preset = preset.id
        self.custom = True
        self.kind = "local" if preset.local else "cloud"
        self.default_base_url = definition.base_url.rstrip("/")
        self.extra_headers = dict(definition.headers or {})
        self.capabilities = frozenset(Capability(c) for c in definition.capabilities or ())
        self.good_for = f"{preset.label}: {definition.base_url}"
        self.docs_url = ""
        self.needs_default_model = Capability.CHAT in self.capabilities
        key = api_key_field(required=definition.requires_key)
        if preset.local:
            self.methods = (
                Method(
                    AuthMethod.LOCAL_ENDPOINT,
                    "Endpoint",
                    (endpoint_url_field(self.default_base_url), key),
                    help=preset.help,
                ),
            )
            self.start_hint = f"Start the {preset.label} server."
        else:
            self.methods = (
                Method(
                    AuthMethod.API_KEY,
                    "API key",
                    (key, base_url_field(self.default_base_url)),
                    help=preset.help,
                ),
            )

    def describe(self) -> dict:
        return {**super().describe(), "custom": True, "preset": self.preset}

    @sensitive_variables()
    def auth_headers(self, credential: Credential) -> dict[str, str]:
        return {**self.extra_headers, **super().auth_headers(credential)}

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        return RuntimeAccess("openai", self.base_url(credential), dict(self.extra_headers))

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [Probe("GET", "/models", models=openai_style_models)]

    def check(self, credential: Credential) -> VerificationResult:
        if self.preset == "litellm":  # a gateway by definition: read as one
            return gateway_check(self, credential, self.base_url(credential), own=True)
        return super().check(credential)


def clean_definition(data: dict, *, taken: set[str]) -> tuple[dict, dict[str, list[str]]]:
    """The values of a new provider from what an operator sent (preset defaults filled in), and
    the errors per field. `taken`: every id in use (built-ins, aliases, existing custom ones)."""
    errors: dict[str, list[str]] = {}
    preset = PRESETS.get(str(data.get("preset") or "generic"))
    if preset is None:
        errors["preset"] = [f"One of {', '.join(PRESETS)}."]
        preset = PRESETS["generic"]
    provider_id = str(data.get("id") or "").strip()
    if not ID_PATTERN.match(provider_id):
        errors["id"] = ["2 to 32 characters: lowercase letters, digits and '-', a letter first."]
    elif provider_id in taken or provider_id in RESERVED_IDS:
        errors["id"] = [f"{provider_id!r} is taken (a built-in provider, an alias or yours)."]
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 80 or any(ord(c) < 32 for c in name):
        errors["name"] = ["1 to 80 visible characters."]
    base_url = str(data.get("base_url") or preset.base_url).strip()
    try:
        base_url = clean_url(base_url) if base_url else ""
    except InvalidField as exc:
        errors["base_url"] = [str(exc)]
    if not base_url and "base_url" not in errors:
        errors["base_url"] = ["This field is required."]
    requires_key = data.get("requires_key", preset.requires_key)
    if not isinstance(requires_key, bool):
        errors["requires_key"] = ["true or false."]
    headers = data.get("headers") or {}
    header_errors = _header_errors(headers)
    if header_errors:
        errors["headers"] = header_errors
    capabilities = data.get("capabilities", list(preset.capabilities))
    known = {str(c) for c in Capability}
    if not isinstance(capabilities, list) or not all(
        isinstance(c, str) and c in known for c in capabilities
    ):
        errors["capabilities"] = [f"A list of: {', '.join(sorted(known))}."]
    values = {
        "id": provider_id,
        "name": name,
        "preset": preset.id,
        "base_url": base_url,
        "requires_key": requires_key,
        "headers": headers if not header_errors else {},
        "capabilities": sorted(set(capabilities)) if "capabilities" not in errors else [],
    }
    return values, errors


def _header_errors(headers: Any) -> list[str]:
    if not isinstance(headers, dict):
        return ["An object of header names to values."]
    if len(headers) > MAX_HEADERS:
        return [f"At most {MAX_HEADERS} headers."]
    problems = []
    for name, value in headers.items():
        if not HEADER_NAME.match(str(name)):
            problems.append(f"{name!r} is not a header name.")
        elif name.lower() in SECRET_HEADERS:
            problems.append(f"{name} carries a credential: put the key in the key field instead.")
        elif not isinstance(value, str) or len(value) > 1024 or re.search(r"[\x00-\x1f]", value):
            problems.append(f"{name}: a value of at most 1024 visible characters.")
    return problems
