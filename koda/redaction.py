"""Secrets in text: the masked container for a credential's secret parts, the hint shown in their
place, and the redaction applied to provider bodies, exception texts and log records. Pure Python
(no database), so the provider layer can use it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping


class SecretValues(Mapping[str, str]):
    """The secret parts of a credential (a key; later an access and a refresh token), read-only.

    Its repr names the parts but never their values, so a traceback's locals, a debug page or a
    log line that prints it shows nothing secret.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = {str(k): str(v) for k, v in (values or {}).items() if v}

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"SecretValues({', '.join(f'{k}=…' for k in self._values)})"

    __str__ = __repr__


# Vendors' published key prefixes. Only these are shown: a prefix guessed from the key's own
# characters could reveal part of its random body.
_KNOWN_PREFIXES = (
    "sk-ant-api03-",
    "sk-ant-oat01-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-or-v1-",
    "sk-kimi-",
    "sk-",
    "sk_",
    "gsk_",
    "xai-",
    "pplx-",
    "AIza",
    "koda_",
)


def secret_hint(secret: str) -> str:
    """A safe reminder of a key: its published prefix and last 4 characters (`sk-proj-…abcd`)."""
    secret = secret.strip()
    if len(secret) < 12:
        # Too short to show any part of it safely; its length still tells two keys apart.
        return f"… ({len(secret)} characters)"
    head = next((p for p in _KNOWN_PREFIXES if secret.startswith(p)), "")
    return f"{head}…{secret[-4:]}"


REDACTED = "[REDACTED]"

# Shapes of credentials that may appear in text we did not produce (provider bodies, exceptions).
_KEY_SHAPES = re.compile(
    r"(?:sk-ant-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,}"
    r"|xai-[A-Za-z0-9]{16,}|gsk_[A-Za-z0-9]{16,}|pplx-[A-Za-z0-9]{16,}|koda_[A-Za-z0-9_\-]{20,}"
    r"|(?<=Bearer )[A-Za-z0-9._~+/\-]{8,}=*)"
)


def redact(text: str, *secrets: str) -> str:
    """Remove the given secrets (and any long fragment of them) and key-shaped strings from text.

    Providers echo keys whole or in part (`sk-proj-****…abcd`, `xa***ys`), so beside each exact
    secret its first and last 8-character runs are removed too when the secret is long enough.
    """
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        if len(secret) >= 20:
            for fragment in (secret[:12], secret[-12:]):
                text = text.replace(fragment, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Logging filter that strips key-shaped strings from every record (defence in depth)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Format the traceback now, redacted; handlers reuse exc_text as it is.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
