"""Looking for secrets where they must not be: in text, in every table's raw rows, in every
common encoding (plain, base64, hex, URL-encoded)."""

from __future__ import annotations

import base64
from urllib.parse import quote

from django.apps import apps
from django.db import connection as db


def spellings(secret: str) -> set[str]:
    raw = secret.encode()
    return {
        secret,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        quote(secret, safe=""),
    }


def leaks(text: str, secrets: list[str]) -> list[str]:
    """The secrets (by their first characters) that appear in `text` in any spelling."""
    return [s[:8] + "…" for s in secrets if any(form in text for form in spellings(s))]


def raw_rows() -> str:
    """Every row of every table, as the database returns it (encrypted columns stay cipher)."""
    chunks = []
    with db.cursor() as cursor:
        for model in apps.get_models():
            table = db.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)
