"""Ollama: a server on this machine or the network (no credentials of its own, perhaps behind an
authenticating proxy), or Ollama cloud (ollama.com API keys). Facts: providers.md §4."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

from providers import http
from providers.fields import (
    AuthMethod,
    Method,
    api_key_field,
    api_key_method,
    endpoint_url_field,
)
from providers.http import ProbeResponse
from providers.transfer import Cancelled
from providers.values import (
    Capability,
    Credential,
    Credit,
    Model,
    Outcome,
    RuntimeAccess,
    Verdict,
    VerificationResult,
)
from providers.verification import ErrorFields, HttpProvider, Probe, number, text

LOCAL_DEFAULT = "http://127.0.0.1:11434"
CLOUD_DEFAULT = "https://ollama.com"
# /api/show per model gives capabilities and context length; a server with hundreds of models
# is read up to this many, within one verify timeout.
SHOW_LIMIT = 64
# Ollama's capability names (types/model/capability.go) that map onto Koda's.
_CAPABILITIES = {"completion": "chat", "embedding": "embedding", "vision": "vision"}


def _capabilities(names: Any) -> list[str]:
    if not isinstance(names, list):
        return []
    return [_CAPABILITIES[n] for n in names if isinstance(n, str) and n in _CAPABILITIES]


def _guess_capabilities(model_id: str) -> list[str]:
    return ["embedding"] if "embed" in model_id else ["chat"]


def _tags(body: Any) -> list[Model]:
    models = []
    for item in body["models"]:
        model_id = text(item.get("model") or item["name"], 256)
        details = item.get("details") if isinstance(item.get("details"), dict) else {}
        size = item.get("size")
        models.append(
            Model.of(
                model_id,
                item.get("name"),
                _capabilities(item.get("capabilities")) or _guess_capabilities(model_id),
                size_bytes=size if isinstance(size, int) and not isinstance(size, bool) else None,
                family=text(details.get("family"), 64),
                parameter_size=text(details.get("parameter_size"), 32),
                quantization=text(details.get("quantization_level"), 32),
            )
        )
    return models


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _with_show(model: Model, body: Any) -> Model:
    """A model completed by its /api/show answer (capabilities, context length, and for an
    embedding model its vector length: `<arch>.embedding_length`, providers.md §18a)."""
    if not isinstance(body, dict):
        return model
    info = body.get("model_info") if isinstance(body.get("model_info"), dict) else {}
    arch = text(info.get("general.architecture"), 64)
    capabilities = tuple(sorted(set(_capabilities(body.get("capabilities"))))) or model.capabilities
    return Model(
        id=model.id,
        name=model.name,
        capabilities=capabilities,
        context_length=_int(info.get(f"{arch}.context_length")) if arch else None,
        size_bytes=model.size_bytes,
        family=model.family,
        parameter_size=model.parameter_size,
        quantization=model.quantization,
        dimensions=_int(info.get(f"{arch}.embedding_length"))
        if arch and "embedding" in capabilities
        else None,
    )


class Ollama(HttpProvider):
    id = "ollama"
    name = "Ollama"
    kind = "local"
    docs_url = "https://docs.ollama.com/api"
    keys_url = "https://ollama.com/settings/keys"
    billing_url = "https://ollama.com/settings"
    default_base_url = LOCAL_DEFAULT
    methods = (
        Method(
            AuthMethod.LOCAL_ENDPOINT,
            "This machine's server",
            (
                endpoint_url_field(LOCAL_DEFAULT),
                api_key_field(
                    required=False,
                    label="API key (only behind an authenticating proxy)",
                    help="Ollama itself takes no key; leave empty unless a proxy asks for one.",
                ),
            ),
            help="An Ollama server on this machine or your network (ollama serve).",
        ),
        Method(
            AuthMethod.API_KEY,
            "ollama.com API key",
            api_key_method(CLOUD_DEFAULT).fields,
            help="Ollama's hosted cloud models, with a key from ollama.com.",
        ),
    )
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "Open-weight models on your own hardware, or Ollama's hosted cloud models."
    needs_default_model = True
    start_hint = "Start Ollama on that machine (ollama serve, or the desktop app)."

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        if credential.method == AuthMethod.API_KEY:  # ollama.com speaks Ollama's native API
            return RuntimeAccess("ollama", self.base_url(credential))
        # A local server also serves the OpenAI-compatible API under /v1 (providers.md §4a).
        return RuntimeAccess("openai", self.base_url(credential) + "/v1")

    def probes_for(self, credential: Credential) -> list[Probe]:
        if credential.method == AuthMethod.API_KEY:
            # /api/tags on ollama.com is public: it lists models but proves nothing about a key.
            return [
                Probe("GET", "/api/balance", check=self._balance, credit=_credit),
                Probe("GET", "/api/tags", models=_tags, send_credentials=False),
            ]
        return [
            Probe("GET", "/api/version", expect=self._local_expect, details=self._version),
            Probe("GET", "/api/tags", expect=self._local_expect, models=_tags),
        ]

    def check_at(self, credential: Credential, base: str) -> VerificationResult:
        result = super().check_at(credential, base)
        if result.ok and credential.method == AuthMethod.LOCAL_ENDPOINT:
            result.models = self._shown(credential, base, result)
        return result

    def _shown(self, credential: Credential, base: str, result: VerificationResult) -> list[Model]:
        """Read /api/show for each model (newest servers already list capabilities in /api/tags),
        within one verify timeout in all; what could not be read keeps a guess and says so."""
        deadline = time.monotonic() + settings.KODA_VERIFY_TIMEOUT_SECONDS
        models, unread = [], 0
        for index, model in enumerate(result.models):
            if index >= SHOW_LIMIT or time.monotonic() > deadline:
                unread += 1
                models.append(model)
                continue
            try:
                answer = self.request(
                    credential,
                    "POST",
                    f"{base}/api/show",
                    json_body={"model": model.id},
                    local=True,
                )
            except (http.EgressRefused, http.TransportFailed):
                answer = None
            if answer is None or answer.status != 200 or not answer.is_json:
                unread += 1
                models.append(model)
            else:
                models.append(_with_show(model, answer.json))
        if unread:
            result.notes.append(
                f"Details of {unread} model(s) could not be read from /api/show; their "
                "capabilities are guessed from their names."
            )
        return models

    @staticmethod
    def _version(body: Any) -> dict[str, str]:
        version = text(body.get("version"), 64) if isinstance(body, dict) else ""
        return {"version": version} if version else {}

    def _local_expect(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        if response.status in (401, 403):
            # Ollama has no auth of its own: something in front of it asks for a key.
            return Verdict(
                Outcome.INVALID_CREDENTIALS,
                f"Something in front of Ollama at {response.url.split('/api/')[0]} refused the "
                f"request ({response.status}): an authenticating proxy wants a key.",
                "Enter the proxy's key in the API key field, or point at Ollama directly.",
            )
        return self.expect_success(response, notes)

    def _balance(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        body = response.json if isinstance(response.json, dict) else {}
        included = body.get("included") if isinstance(body.get("included"), dict) else {}
        purchased = body.get("purchased") if isinstance(body.get("purchased"), dict) else {}
        if "balance_usd" in included or "balance_usd" in purchased:
            amounts = [number(included.get("balance_usd")), number(purchased.get("balance_usd"))]
            if all(a is None for a in amounts):
                return self.unreadable("balance")
            total = sum(a for a in amounts if a is not None)
            if total <= 0:
                return self.billing("no balance left (included and purchased are 0)")
            notes.append(f"Balance: ${total:.2f}.")
            return None
        windows = [
            w for w in (included.get("session"), included.get("weekly")) if isinstance(w, dict)
        ]
        if windows:  # legacy plans: usage windows instead of money
            remaining = [number(w.get("remaining_percent", 100)) for w in windows]
            if any(r is not None and r <= 0 for r in remaining):
                return self.billing("a usage window is exhausted (0% remaining)")
            return None
        return self.unreadable("balance")

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        # A bad key gets 401 with `{"error":"unauthorized"}` or the bare text "unauthorized".
        if response.status == 401:
            return self.invalid(fields.message or response.text.strip()[:100] or "unauthorized")
        return None

    # --- the local catalog: pull and delete (providers.md §4a) ------------------------------

    def pull(
        self,
        credential: Credential,
        name: str,
        *,
        on_progress: Callable[[int, int | None, str], None],
        should_stop: Callable[[], bool],
    ) -> None:
        """Pull a model, reading Ollama's NDJSON stream: per-layer progress (summed for the
        whole model) and each status in order. The HTTP status stays 200 when a pull fails
        midway: an `{"error": …}` line says so. Raises PullFailed or Cancelled."""
        layers: dict[str, tuple[int, int]] = {}
        base = self.base_url(credential)
        try:
            with http.stream(
                "POST",
                base + "/api/pull",
                headers=self.auth_headers(credential),
                json_body={"model": name, "stream": True},
                secrets=credential.secret_values,
                local=True,
                idle_timeout=PULL_IDLE_SECONDS,
            ) as answer:
                if answer.status != 200:
                    raise PullFailed(
                        _error_text(b"".join(answer.chunks(64 * 1024))[:65536], answer.status)
                    )
                for line in answer.lines():
                    if should_stop():
                        raise Cancelled()
                    event = _event(line)
                    if event is None:
                        continue
                    if "error" in event:
                        raise PullFailed(f"Ollama: {text(event['error'], 500)}")
                    status = text(event.get("status"), 200)
                    digest, total = text(event.get("digest"), 100), event.get("total")
                    if digest and isinstance(total, int) and not isinstance(total, bool):
                        completed = event.get("completed")
                        completed = completed if isinstance(completed, int) else 0
                        layers[digest] = (min(completed, total), total)
                    done = sum(c for c, _ in layers.values())
                    on_progress(done, sum(t for _, t in layers.values()) or None, status)
                    if status == "success":
                        return
        except (http.EgressRefused, http.TransportFailed) as exc:
            raise PullFailed(f"Could not pull from {base}: {exc}.") from None
        raise PullFailed("Ollama's stream ended before it said success.")

    def delete_model(self, credential: Credential, name: str) -> None:
        """`DELETE /api/delete`; raises PullFailed (with Ollama's message) if it is refused."""
        base = self.base_url(credential)
        try:
            answer = http.probe(
                "DELETE",
                base + "/api/delete",
                headers=self.auth_headers(credential),
                json_body={"model": name},
                secrets=credential.secret_values,
                local=True,
            )
        except (http.EgressRefused, http.TransportFailed) as exc:
            raise PullFailed(f"Could not reach {base}: {exc}.") from None
        if answer.status != 200:
            raise PullFailed(_error_text(answer.text.encode(), answer.status))


# Ollama can go quiet for minutes while it verifies a large model's digest.
PULL_IDLE_SECONDS = 300.0


class PullFailed(Exception):
    """A pull or delete Ollama refused or broke off; the message says why, for a person."""


def _event(line: bytes) -> dict | None:
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


def _error_text(body: bytes, status: int) -> str:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError, RecursionError):
        error = None
    detail = text(error, 500) if error is not None else body.decode(errors="replace").strip()[:500]
    return f"Ollama answered {status}: {detail or 'no reason given'}."


def _credit(body) -> Credit | None:
    """ollama.com's balance: included plus purchased USD, with the share of the included
    allowance left; legacy plans show only usage windows, of which the lowest counts."""
    included = body.get("included") if isinstance(body.get("included"), dict) else {}
    purchased = body.get("purchased") if isinstance(body.get("purchased"), dict) else {}
    amounts = [number(included.get("balance_usd")), number(purchased.get("balance_usd"))]
    if any(a is not None for a in amounts):
        balance, allowance = amounts[0], number(included.get("allowance_usd"))
        share = balance / allowance if balance is not None and allowance else None
        total = sum(a for a in amounts if a is not None)
        return Credit(total, "USD", None if share is None else max(0.0, min(share, 1.0)))
    windows = [w for w in (included.get("session"), included.get("weekly")) if isinstance(w, dict)]
    left = [number(w.get("remaining_percent")) for w in windows]
    left = [p for p in left if p is not None]
    return Credit(None, "", min(left) / 100) if left else None
