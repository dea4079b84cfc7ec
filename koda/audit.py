"""Writing the audit trail. Every configure, verify, default change, disconnect, login and policy
change goes through `audit_record` (design §6)."""

from __future__ import annotations

import functools
import re
from typing import Any

from django.db import connection as db
from django.db.models import Field
from django.utils import timezone

from koda.context import Context
from koda.models import AuditEvent

# Keys that may never appear in a diff, whatever their value. A caller that tries is a bug.
_SECRET_KEY_NAMES = re.compile(
    r"(api_key|secret|password|token(?!_name)|authorization|verifier|^code$)", re.I
)


class SecretInAuditDiff(ValueError):
    pass


def provider_target(provider_id: str) -> str:
    """The audit target of everything done to a provider's connection (configure, verify,
    defaults, sign-in, downloads, the provider itself): what Operations reads its marks by."""
    return f"provider:{provider_id}"


def _check_no_secret_keys(value: Any, path: str = "") -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if _SECRET_KEY_NAMES.search(str(key)) and key != "secret_hint":
                raise SecretInAuditDiff(f"audit diff may not carry {path}{key}")
            _check_no_secret_keys(inner, f"{path}{key}.")
    elif isinstance(value, list):
        for inner in value:
            _check_no_secret_keys(inner, path)


def audit_record(*, ctx: Context, action: str, target: str, diff: dict | None = None) -> None:
    diff = diff or {}
    _check_no_secret_keys(diff)
    user = ctx.user if ctx.user is not None and ctx.user.pk is not None else None
    _insert(
        {
            "created_at": timezone.now(),
            "actor_id": user.pk if user is not None else None,
            "actor_label": ctx.actor.label[:200],
            "via": ctx.via,
            "action": action,
            "target": target,
            "client_address": ctx.client_address,
            "diff": diff,
        }
    )


@functools.cache
def _insert_sql(vendor: str) -> tuple[str, tuple[Field, ...]]:
    """The INSERT of one event, made once per database vendor from the model's fields. Every
    agent runtime resolve writes one (an issuance), and there building a model instance and the
    ORM's per-call compile would cost more than the write itself."""
    fields = tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key)
    quote = db.ops.quote_name
    # Quoted identifiers from the model's own metadata; the values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(AuditEvent._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    return sql, fields


def _insert(values: dict[str, Any]) -> None:
    """One row, each value prepared by its field as the ORM would (every column given)."""
    sql, fields = _insert_sql(db.vendor)
    params = [f.get_db_prep_save(values[f.attname], db) for f in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
