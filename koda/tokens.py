"""API tokens: creation (the plaintext is returned once), lookup by hash, revocation."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from koda.audit import audit_record
from koda.context import Context
from koda.models import ApiToken
from koda.prepared import Lookup

TOKEN_PREFIX = "koda_"


def token_digest(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough (no stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


def token_new(prefix: str) -> tuple[str, dict]:
    """A fresh token: its plaintext (returned once, never stored) and the fields a BearerToken
    row stores of it."""
    plaintext = prefix + secrets.token_urlsafe(32)
    return plaintext, {
        "token_hash": token_digest(plaintext),
        "prefix": plaintext[: len(prefix) + 4],
    }


def api_token_create(
    *, operator: AbstractBaseUser, name: str, ctx: Context
) -> tuple[ApiToken, str]:
    """Make a token for `operator`; returns the row and the plaintext, which is never stored or
    shown again."""
    plaintext, stored = token_new(TOKEN_PREFIX)
    token = ApiToken.objects.create(operator=operator, name=name.strip()[:100] or "token", **stored)
    audit_record(
        ctx=ctx,
        action="api_token.create",
        target=f"api_token:{token.pk}",
        diff={"name": token.name, "prefix": token.prefix},
    )
    return token, plaintext


def api_token_lookup(annotations: Callable[[], dict[str, Any]] | None = None) -> Lookup:
    """The lookup of an active token by its hash, compiled once (koda.prepared), the operator
    joined in. `annotations`: more to read in the same statement (an app's stamp), set on the
    token as attributes."""
    return Lookup(
        ApiToken,
        "token_hash",
        related=["operator"],
        annotations=annotations,
        revoked_at__isnull=True,
    )


# Every API call looks its token up.
_BY_HASH = api_token_lookup()


def api_token_authenticate(plaintext: str, lookup: Lookup | None = None) -> ApiToken | None:
    """The active token with this plaintext whose operator may still use the API, else None
    (found by `lookup`, one of `api_token_lookup`'s, or the plain one)."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = (lookup or _BY_HASH).first(token_digest(plaintext))
    if token is None or not (token.operator.is_active and token.operator.is_staff):
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute, so a busy script does not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_revoke(*, token: ApiToken, ctx: Context) -> None:
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        audit_record(
            ctx=ctx,
            action="api_token.revoke",
            target=f"api_token:{token.pk}",
            diff={"name": token.name},
        )
