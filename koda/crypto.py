"""Secrets at rest: the encrypted model fields and the key rotation helpers.

Encryption uses django-cryptography's Fernet-style primitives (AES-CBC + HMAC-SHA256), but keyed
only by KODA_ENCRYPTION_KEY. django-cryptography's own fields derive the AES key from
CRYPTOGRAPHY_KEY yet sign with SECRET_KEY (`FernetSigner` defaults to it), which would make every
stored secret unreadable after a SECRET_KEY rotation; here both the AES and the HMAC keys are
derived from the encryption key alone, with distinct salts.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.signing import BadSignature
from django.db import models
from django_cryptography.core.signing import FernetSigner
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

from koda.redaction import SecretValues

__all__ = ["EncryptedSecretsField", "EncryptedTextField", "InvalidToken", "decrypt", "encrypt"]


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
