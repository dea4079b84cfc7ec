"""Importing credentials from an existing .env file (`manage.py import_env_credentials`).

The conventional variables each SDK reads (ANTHROPIC_API_KEY, OPENAI_API_KEY with
OPENAI_ORG_ID / OPENAI_PROJECT_ID, …, and their *_BASE_URL variants) are mapped onto each
provider's declared fields, then go through the normal lifecycle: verified first, stored only if
they round-trip. A credential equal to the stored one is left alone (no network); a different
one replaces the stored one only if it verifies, so a working key is never replaced by a failing
one. A dry run verifies and stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.views.decorators.debug import sensitive_variables

from connections import services
from connections.models import Connection
from koda.context import Context
from koda.redaction import secret_hint
from providers.fields import AuthMethod
from providers.registry import PROVIDERS

# provider id → (auth method, {field: variables, first one set wins}). The key variable is first.
SOURCES: dict[str, tuple[AuthMethod, dict[str, tuple[str, ...]]]] = {
    "anthropic": (
        AuthMethod.API_KEY,
        {"api_key": ("ANTHROPIC_API_KEY",), "base_url": ("ANTHROPIC_BASE_URL",)},
    ),
    "openai": (
        AuthMethod.API_KEY,
        {
            "api_key": ("OPENAI_API_KEY",),
            "base_url": ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
            "organization": ("OPENAI_ORG_ID", "OPENAI_ORGANIZATION"),
            "project": ("OPENAI_PROJECT_ID",),
        },
    ),
    "google": (
        AuthMethod.API_KEY,
        {"api_key": ("GEMINI_API_KEY", "GOOGLE_API_KEY"), "base_url": ("GEMINI_BASE_URL",)},
    ),
    "groq": (AuthMethod.API_KEY, {"api_key": ("GROQ_API_KEY",), "base_url": ("GROQ_BASE_URL",)}),
    "mistral": (
        AuthMethod.API_KEY,
        {"api_key": ("MISTRAL_API_KEY",), "base_url": ("MISTRAL_BASE_URL",)},
    ),
    "deepseek": (
        AuthMethod.API_KEY,
        {"api_key": ("DEEPSEEK_API_KEY",), "base_url": ("DEEPSEEK_BASE_URL",)},
    ),
    "xai": (AuthMethod.API_KEY, {"api_key": ("XAI_API_KEY",), "base_url": ("XAI_BASE_URL",)}),
    "openrouter": (
        AuthMethod.API_KEY,
        {"api_key": ("OPENROUTER_API_KEY",), "base_url": ("OPENROUTER_BASE_URL",)},
    ),
    "perplexity": (
        AuthMethod.API_KEY,
        {"api_key": ("PERPLEXITY_API_KEY",), "base_url": ("PERPLEXITY_BASE_URL",)},
    ),
    "qwen": (
        AuthMethod.API_KEY,
        {"api_key": ("DASHSCOPE_API_KEY",), "base_url": ("DASHSCOPE_BASE_URL",)},
    ),
    "kimi": (
        AuthMethod.API_KEY,
        {"api_key": ("MOONSHOT_API_KEY",), "base_url": ("MOONSHOT_BASE_URL",)},
    ),
    "elevenlabs": (
        AuthMethod.API_KEY,
        {"api_key": ("ELEVENLABS_API_KEY",), "base_url": ("ELEVENLABS_BASE_URL",)},
    ),
}
# Ollama: OLLAMA_HOST is the local server (Ollama's own variable); OLLAMA_API_KEY alone is an
# ollama.com key. With both, the local server is imported (one connection per provider).
OLLAMA_LOCAL = {"endpoint_url": ("OLLAMA_HOST",)}
OLLAMA_CLOUD = {"api_key": ("OLLAMA_API_KEY",), "base_url": ("OLLAMA_BASE_URL",)}


@dataclass(frozen=True)
class ImportRow:
    """What happened to one provider: `result` is stored, replaced, unchanged, refused,
    would_store, would_refuse or skipped."""

    provider_id: str
    variables: tuple[str, ...]
    result: str
    detail: str = ""
    hint: str = ""


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str]:
    for name in names:
        value = (env.get(name) or "").strip()
        if value:
            return name, value
    return "", ""


def _ollama_host(value: str) -> str:
    """OLLAMA_HOST as Ollama reads it: `host:port` without a scheme, 0.0.0.0 meaning here."""
    if "://" not in value:
        value = f"http://{value}"
    parts = urlsplit(value)
    if parts.hostname in ("0.0.0.0", "::"):  # noqa: S104 (a listen address, not a bind)
        value = value.replace(parts.hostname, "127.0.0.1", 1)
    return value


def _plan(env: Mapping[str, str]) -> list[tuple[str, AuthMethod, dict[str, str], tuple[str, ...]]]:
    """(provider, method, field values, variables read) for every provider the file names."""
    wanted = [(provider_id, method, sources) for provider_id, (method, sources) in SOURCES.items()]
    if _first(env, OLLAMA_LOCAL["endpoint_url"])[1]:
        wanted.append(("ollama", AuthMethod.LOCAL_ENDPOINT, OLLAMA_LOCAL))
    else:
        wanted.append(("ollama", AuthMethod.API_KEY, OLLAMA_CLOUD))
    plan = []
    for provider_id, method, sources in wanted:
        values, used = {}, []
        for field, names in sources.items():
            name, value = _first(env, names)
            if value:
                values[field] = _ollama_host(value) if name == "OLLAMA_HOST" else value
                used.append(name)
        if used:
            plan.append((provider_id, method, values, tuple(used)))
    return plan


@sensitive_variables("env", "values", "credential")
def env_import(*, env: Mapping[str, str], ctx: Context, dry_run: bool = False) -> list[ImportRow]:
    rows = []
    for provider_id, method, values, used in _plan(env):
        provider = PROVIDERS[provider_id]
        if method == AuthMethod.API_KEY and not values.get("api_key"):
            rows.append(ImportRow(provider_id, used, "skipped", "a base URL but no key"))
            continue
        try:
            credential = services.connection_credential(
                provider=provider, method=method, data=values
            )
        except services.InvalidCredentialInput as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            rows.append(ImportRow(provider_id, used, "refused", f"invalid value ({problems})"))
            continue
        key = credential.secrets.get("api_key")
        hint = secret_hint(key) if key else ""
        stored = Connection.objects.filter(provider_id=provider_id).first()
        if stored is not None and stored.credential == credential:
            rows.append(ImportRow(provider_id, used, "unchanged", "already stored", hint))
            continue
        if dry_run:
            result = provider.verify(credential)
            rows.append(
                ImportRow(
                    provider_id,
                    used,
                    "would_store" if result.ok else "would_refuse",
                    str(result.outcome) if result.ok else f"{result.outcome}: {result.message}",
                    hint,
                )
            )
            continue
        configured = services.connection_configure_credential(
            provider=provider, credential=credential, ctx=ctx
        )
        if configured.connection is None:
            kept = "; the stored credential is kept" if stored is not None else ""
            detail = f"{configured.result.outcome}: {configured.result.message}{kept}"
            rows.append(ImportRow(provider_id, used, "refused", detail, hint))
        else:
            result = "replaced" if stored is not None else "stored"
            rows.append(ImportRow(provider_id, used, result, configured.connection.status, hint))
    return rows
