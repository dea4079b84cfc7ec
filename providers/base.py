"""The adapter contract every provider implements, and the verification result type.

Adapters know nothing about the database: they take a `Credential` (plain values) and return a
`VerificationResult`. They never raise for a provider-side failure (design §5).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar


class Outcome(enum.StrEnum):
    """Verification outcome codes: stable API values (design §5)."""

    OK = "ok"
    INVALID_CREDENTIALS = "invalid_credentials"
    REVOKED_CREDENTIALS = "revoked_credentials"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    BILLING = "billing"
    RATE_LIMITED = "rate_limited"
    REGION_UNSUPPORTED = "region_unsupported"
    ENDPOINT_NOT_FOUND = "endpoint_not_found"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    UNEXPECTED_RESPONSE = "unexpected_response"
    BLOCKED_DESTINATION = "blocked_destination"
    UNSUPPORTED_HOST = "unsupported_host"
    RUNTIME_MISSING = "runtime_missing"

    @property
    def is_transient(self) -> bool:
        """Transient outcomes make a connection degraded; the others make it failing."""
        return self in TRANSIENT_OUTCOMES


TRANSIENT_OUTCOMES = frozenset(
    {Outcome.RATE_LIMITED, Outcome.PROVIDER_UNAVAILABLE, Outcome.UNREACHABLE, Outcome.TIMEOUT}
)


class Capability(enum.StrEnum):
    CHAT = "chat"
    EMBEDDING = "embedding"
    TTS = "tts"
    STT = "stt"
    WEB_SEARCH = "web_search"
    VISION = "vision"


class AuthMethod(enum.StrEnum):
    API_KEY = "api_key"
    LOGIN = "login"
    LOCAL_ENDPOINT = "local_endpoint"
    LOCAL_RUNTIME = "local_runtime"
    MODEL_DOWNLOAD = "model_download"


@dataclass(frozen=True)
class CredentialField:
    """One input an auth method takes; `secret` fields are encrypted and never shown again."""

    name: str
    label: str
    kind: str = "text"  # text | url | path
    secret: bool = False
    required: bool = False
    help: str = ""
    max_length: int = 2048


API_KEY_FIELD = CredentialField("api_key", "API key", secret=True, required=True, max_length=1024)


def base_url_field(default: str) -> CredentialField:
    return CredentialField(
        "base_url", "Base URL", kind="url", help=f"Leave as {default} unless you use a gateway."
    )


@dataclass(frozen=True)
class Credential:
    """What an operator configured, in plain values (decrypted only for the probe)."""

    auth_method: str
    api_key: str = ""
    base_url: str = ""
    organization: str = ""
    project: str = ""
    endpoint_url: str = ""
    runtime_path: str = ""

    def __repr__(self) -> str:  # never print the key, even in a traceback's locals
        return f"Credential(auth_method={self.auth_method!r}, base_url={self.base_url!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.api_key,) if s)


@dataclass
class VerificationResult:
    ok: bool
    outcome: Outcome
    message: str
    remedy: str = ""
    http_status: int | None = None
    raw_error: str = ""
    probe: str = ""
    latency_ms: int = 0
    checked_at: str = ""
    models: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Seconds the provider asked us to wait (Retry-After), when it did.
    retry_after_seconds: int | None = None
    # The base URL that was verified (a region-bound key may succeed on another region's host).
    base_url: str = ""

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "outcome": str(self.outcome),
            "message": self.message,
            "remedy": self.remedy,
            "http_status": self.http_status,
            "raw_error": self.raw_error,
            "probe": self.probe,
            "latency_ms": self.latency_ms,
            "checked_at": self.checked_at,
            "models": [m["id"] for m in self.models],
            "notes": list(self.notes),
        }


class Provider:
    """Base of every adapter: metadata the catalog shows, plus `verify`.

    Subclasses set the class attributes; `verify` is implemented per provider (or per family).
    """

    id: ClassVar[str]
    name: ClassVar[str]
    kind: ClassVar[str] = "cloud"  # cloud | local
    docs_url: ClassVar[str] = ""
    keys_url: ClassVar[str] = ""  # where a key is made or revoked
    billing_url: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    auth_methods: ClassVar[dict[str, tuple[CredentialField, ...]]] = {}
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    good_for: ClassVar[str] = ""
    needs_default_model: ClassVar[bool] = False

    @classmethod
    def secret_field_names(cls) -> set[str]:
        return {f.name for fields in cls.auth_methods.values() for f in fields if f.secret}

    def verify(self, credential: Credential) -> VerificationResult:
        raise NotImplementedError(f"verification for {self.id} is not implemented yet")

    def describe(self) -> dict:
        """The catalog entry (design §7), without any connection state."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "docs_url": self.docs_url,
            "keys_url": self.keys_url,
            "default_base_url": self.default_base_url,
            "auth_methods": [
                {
                    "id": method,
                    "fields": [
                        {
                            "name": f.name,
                            "label": f.label,
                            "kind": f.kind,
                            "secret": f.secret,
                            "required": f.required,
                            "help": f.help,
                        }
                        for f in fields
                    ],
                }
                for method, fields in self.auth_methods.items()
            ],
            "capabilities": sorted(self.capabilities),
            "good_for": self.good_for,
            "needs_default_model": self.needs_default_model,
        }
