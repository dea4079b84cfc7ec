"""Writing the audit trail. Every configure, verify, default change, disconnect, login and policy
change goes through `audit_record` (design §6)."""

from __future__ import annotations

import re
from typing import Any

from koda.context import Context
from koda.models import AuditEvent

# Keys that may never appear in a diff, whatever their value. A caller that tries is a bug.
_SECRET_KEY_NAMES = re.compile(
    r"(api_key|secret|password|token(?!_name)|authorization|verifier|^code$)", re.I
)


class SecretInAuditDiff(ValueError):
    pass


def _check_no_secret_keys(value: Any, path: str = "") -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if _SECRET_KEY_NAMES.search(str(key)) and key != "secret_hint":
                raise SecretInAuditDiff(f"audit diff may not carry {path}{key}")
            _check_no_secret_keys(inner, f"{path}{key}.")
    elif isinstance(value, list):
        for inner in value:
            _check_no_secret_keys(inner, path)


def audit_record(*, ctx: Context, action: str, target: str, diff: dict | None = None) -> AuditEvent:
    diff = diff or {}
    _check_no_secret_keys(diff)
    user = ctx.user if ctx.user is not None and ctx.user.pk is not None else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=ctx.actor.label[:200],
        via=ctx.via,
        action=action,
        target=target,
        client_address=ctx.client_address,
        diff=diff,
    )
