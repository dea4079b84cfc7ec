"""The values the provider layer trades in: outcomes, capabilities, the credential an operator
configured, the models a provider has, and the result of a verification (design §5)."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from koda.redaction import SecretValues
from providers.fields import AuthMethod


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


@dataclass(frozen=True, repr=False)
class Credential:
    """What an operator configured for one auth method, in plain values: `values` are the public
    fields, `secrets` the secret parts (decrypted only for the probe, never printed)."""

    method: AuthMethod
    values: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=SecretValues)

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", AuthMethod(self.method))
        object.__setattr__(self, "values", dict(self.values))
        object.__setattr__(self, "secrets", SecretValues(self.secrets))

    def __repr__(self) -> str:  # never print a secret, even in a traceback's locals
        return f"Credential(method={self.method!r}, values={self.values!r}, secrets=…)"

    def get(self, name: str) -> str:
        """A field's value, public or secret ("" when not set)."""
        return self.secrets.get(name) or self.values.get(name) or ""

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Every secret part, for redaction."""
        return tuple(v for v in self.secrets.values() if v)


_NOT_CHAT = re.compile(r"whisper|tts|embed|transcri|speech|audio", re.IGNORECASE)


@dataclass(frozen=True)
class Model:
    """A model a connection discovered, with what the provider says about it."""

    id: str
    name: str = ""
    capabilities: tuple[str, ...] = ()
    context_length: int | None = None
    size_bytes: int | None = None
    family: str = ""
    parameter_size: str = ""
    quantization: str = ""
    # Length of the vectors an embedding model returns, where the provider says.
    dimensions: int | None = None

    def serves(self, function: str) -> bool:
        """Whether the model can do `function` (chat, embedding, tts, stt). Most model lists
        say nothing of capabilities: such a model is taken for a chat model unless its name says
        it is a speech or embedding one (whisper-large-v3, tts-1, text-embedding-3-small)."""
        if self.capabilities:
            return function in self.capabilities
        return function == "chat" and not _NOT_CHAT.search(self.id)

    def as_dict(self) -> dict[str, Any]:
        """Only what is known: `{"id": …}` plus the fields the provider filled in."""
        data: dict[str, Any] = {"id": self.id}
        for f in fields(self)[1:]:
            value = getattr(self, f.name)
            if value not in ("", (), None):
                data[f.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["capabilities"] = tuple(values.get("capabilities") or ())
        return cls(**values)

    @classmethod
    def of(
        cls, model_id: Any, name: Any = None, capabilities: list[str] | None = None, **extra: Any
    ) -> Model:
        """A model from a provider's answer: ids and names as text, capabilities de-duplicated."""
        return cls(
            id=str(model_id),
            name=str(name) if name and str(name) != str(model_id) else "",
            capabilities=tuple(sorted(set(capabilities or ()))),
            **extra,
        )


@dataclass(frozen=True)
class Credit:
    """What a provider said is left, where its verification reads it: an amount in a unit
    (USD, CNY, characters), and the share of an allowance left when it states the allowance."""

    amount: float | None
    unit: str = ""
    share_left: float | None = None  # 0…1

    def as_dict(self) -> dict:
        return {"amount": self.amount, "unit": self.unit, "share_left": self.share_left}

    def __str__(self) -> str:
        parts = []
        if self.amount is not None:
            parts.append(f"{self.amount:,.2f} {self.unit}".strip())
        if self.share_left is not None:
            parts.append(f"{self.share_left:.0%} left")
        return ", ".join(parts) or "unknown"


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
    models: list[Model] = field(default_factory=list)
    # What was and was not checked, for the operator (shown under the verdict).
    notes: list[str] = field(default_factory=list)
    # Facts the check learned that the summary shows (a runtime's version, a server's build).
    details: dict[str, str] = field(default_factory=dict)
    # Seconds the provider asked us to wait (Retry-After), when it did.
    retry_after_seconds: int | None = None
    # Public values the check settled, to be stored with the credential (a region-bound key that
    # works on another region's host, the port a local server answered on).
    resolved_values: dict[str, str] = field(default_factory=dict)
    # Credit left, where the provider's verification shows it.
    credit: Credit | None = None

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
            "models": [m.id for m in self.models],
            "notes": list(self.notes),
            "details": dict(self.details),
            "credit": self.credit.as_dict() if self.credit else None,
        }


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    message: str
    remedy: str = ""


@dataclass(frozen=True)
class RuntimeAccess:
    """What an agent's runtime needs, beside the credential, to call a provider: which API it
    speaks (`openai` for every OpenAI-compatible one), where, and which extra (non-secret)
    headers; for files on the Koda host, where they are."""

    protocol: str
    base_url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
