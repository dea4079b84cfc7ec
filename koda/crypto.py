"""Secrets at rest and in text: the encrypted model field, key rotation helpers, redaction.

Encryption uses django-cryptography's Fernet-style primitives (AES-CBC + HMAC-SHA256), but keyed
only by KODA_ENCRYPTION_KEY. django-cryptography's own fields derive the AES key from
CRYPTOGRAPHY_KEY yet sign with SECRET_KEY (`FernetSigner` defaults to it), which would make every
stored secret unreadable after a SECRET_KEY rotation; here both the AES and the HMAC keys are
derived from the encryption key alone, with distinct salts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.signing import BadSignature
from django.db import models
from django_cryptography.core.signing import FernetSigner
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

__all__ = [
    "EncryptedSecretsField",
    "EncryptedTextField",
    "InvalidToken",
    "SecretValues",
    "decrypt",
    "encrypt",
    "redact",
    "secret_hint",
]


def _derive(raw_key: str, salt: bytes) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=100_000)
    return kdf.derive(raw_key.encode())


@lru_cache(maxsize=8)
def fernet_for(raw_key: str) -> FernetBytes:
    """The cipher for one raw key (derivation is slow on purpose, so it is cached)."""
    return FernetBytes(
        _derive(raw_key, b"koda-field-encryption-v1"),
        FernetSigner(key=_derive(raw_key, b"koda-field-signing-v1")),
    )


def encrypt(plaintext: str, raw_key: str | None = None) -> bytes:
    return fernet_for(raw_key or settings.KODA_ENCRYPTION_KEY).encrypt(plaintext.encode())


def decrypt(token: bytes) -> str:
    """Decrypt with the current key, or KODA_ENCRYPTION_KEY_PREVIOUS during a rotation."""
    keys = [settings.KODA_ENCRYPTION_KEY, settings.KODA_ENCRYPTION_KEY_PREVIOUS]
    for raw_key in filter(None, keys):
        try:
            return fernet_for(raw_key).decrypt(token).decode()
        except (BadSignature, InvalidToken):  # wrong HMAC key, or wrong AES key
            continue
    # The message names no value: the ciphertext is not secret, but there is nothing to gain.
    raise InvalidToken("stored secret cannot be decrypted with KODA_ENCRYPTION_KEY(_PREVIOUS)")


def is_current(token: bytes) -> bool:
    try:
        fernet_for(settings.KODA_ENCRYPTION_KEY).decrypt(token)
    except (BadSignature, InvalidToken):
        return False
    return True


class EncryptedTextField(models.BinaryField):
    """A text value stored only as ciphertext (bytes) in the database.

    Only `isnull` lookups make sense on ciphertext; anything else is refused at query time.
    """

    description = "Encrypted text"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def get_lookup(self, lookup_name: str):
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or value == "":
            return None
        return connection.Database.Binary(encrypt(str(value)))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return decrypt(bytes(value))

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: models.Model) -> str:
        # dumpdata must never write the plaintext.
        return ""


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


class EncryptedSecretsField(EncryptedTextField):
    """Every secret part of a credential, together as one encrypted JSON object, so new parts
    (tokens, expiries) need no schema change. Reads back as `SecretValues` (None when empty)."""

    description = "Encrypted secret values"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not value:
            return None
        return super().get_db_prep_value(json.dumps(dict(value)), connection, prepared)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> SecretValues | None:
        text = super().from_db_value(value, expression, connection)
        return None if text is None else SecretValues(json.loads(text))


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every encrypted field of every installed model (what a key rotation re-encrypts)."""
    from django.apps import apps

    return [
        (model, f)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedTextField)
    ]


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
        return "…"  # too short to show any part of it safely
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
