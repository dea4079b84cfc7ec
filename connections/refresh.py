"""Keeping a sign-in's access token fresh: refreshed shortly before it expires (the check
schedule brings the next check forward to then) and once when the provider answers 401.

Refresh tokens rotate and are single-use, so two workers must never spend the same one. The one
that refreshes holds a claim on the connection row (a conditional UPDATE of
`refresh_claimed_until`, which only one worker can win, on SQLite and PostgreSQL alike); the
others wait for it to finish and use the token it stored. The claim is a lease: a worker that dies
mid-refresh blocks the others for at most the lease. No transaction is held open across the
network call.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connections.models import Connection
from koda.audit import audit_record, provider_target
from koda.context import Context
from providers import oauth
from providers.base import Provider
from providers.fields import AuthMethod
from providers.values import Credential, Outcome, VerificationResult

log = logging.getLogger("koda.login")

WAIT_STEP_SECONDS = 0.1


def _lease_seconds() -> float:
    # Up to three token URLs are tried, each within the verification timeout.
    return 3 * settings.KODA_VERIFY_TIMEOUT_SECONDS + 5


def refresh_due(connection: Connection) -> bool:
    """A sign-in whose access token expires within KODA_TOKEN_REFRESH_MARGIN_SECONDS."""
    if connection.auth_method != AuthMethod.LOGIN or connection.credential_expires_at is None:
        return False
    margin = timedelta(seconds=settings.KODA_TOKEN_REFRESH_MARGIN_SECONDS)
    return connection.credential_expires_at <= timezone.now() + margin


def expiry(tokens: oauth.Tokens) -> datetime | None:
    return datetime.fromtimestamp(tokens.expires_at, UTC) if tokens.expires_at else None


@sensitive_variables()
def credential_refresh(
    *,
    provider: Provider,
    connection: Connection,
    credential: Credential,
    ctx: Context,
    force: bool = False,
) -> tuple[Credential, VerificationResult | None]:
    """The credential to verify or use: `credential` itself, or with a fresh access token when
    it is due (or `force`, after a 401). When the refresh fails, the second value is the result
    to record in place of a check: revoked_credentials for a refused refresh token (sign in
    again), a transient outcome when the provider could not answer."""
    if credential.method != AuthMethod.LOGIN or not (force or refresh_due(connection)):
        return credential, None
    if not credential.get("refresh_token") or provider.login_flow() is None:
        return credential, None  # nothing to refresh with: the check will tell
    seen = credential.get("access_token")
    if not _claim(connection.pk):
        return _after_other_worker(connection.pk, credential), None
    try:
        current = Connection.objects.filter(pk=connection.pk).first()
        if current is None:
            return credential, None  # disconnected meanwhile; the caller finds out
        stored = current.credential
        if stored.get("access_token") != seen:
            return stored, None  # another worker refreshed between our read and our claim
        try:
            tokens = oauth.refresh(provider.login_flow(), stored.get("refresh_token"))
        except oauth.LoginFailed as exc:
            return stored, _failed(provider, exc, ctx)
        return _store(current.pk, stored, tokens), None
    finally:
        Connection.objects.filter(pk=connection.pk).update(refresh_claimed_until=None)


def _claim(pk: int) -> bool:
    now = timezone.now()
    free = Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now)
    lease = now + timedelta(seconds=_lease_seconds())
    return bool(Connection.objects.filter(free, pk=pk).update(refresh_claimed_until=lease))


def _after_other_worker(pk: int, credential: Credential) -> Credential:
    """Wait for the worker holding the claim, then use what it stored."""
    deadline = time.monotonic() + _lease_seconds()
    while time.monotonic() < deadline:
        row = Connection.objects.filter(pk=pk).values_list("refresh_claimed_until").first()
        if row is None:
            return credential
        if row[0] is None or row[0] < timezone.now():
            break
        time.sleep(WAIT_STEP_SECONDS)
    current = Connection.objects.filter(pk=pk).first()
    return current.credential if current is not None else credential


@sensitive_variables()
def _store(pk: int, stored: Credential, tokens: oauth.Tokens) -> Credential:
    """Keep the new tokens (the new refresh token always replaces the spent one)."""
    secrets = {**stored.secrets, **tokens.secrets()}
    with transaction.atomic():
        current = Connection.objects.select_for_update().filter(pk=pk).first()
        if current is None or current.credential != stored:
            # Signed in again (or out) while the refresh ran: the newer credential stands.
            log.info("a refreshed token was discarded: the credential changed meanwhile")
            return current.credential if current is not None else stored
        current.secrets = secrets
        current.credential_expires_at = expiry(tokens)
        current.save(update_fields=["secrets", "credential_expires_at", "updated_at"])
    return Credential(stored.method, stored.values, secrets)


def _failed(provider: Provider, exc: oauth.LoginFailed, ctx: Context) -> VerificationResult:
    flow = provider.login_flow()
    label = provider.method(AuthMethod.LOGIN).label
    if exc.permanent:
        outcome = Outcome.REVOKED_CREDENTIALS
        message = f"{provider.name} no longer renews this sign-in: {exc.message}"
        remedy = f"Sign in again ({label}) on {provider.name}'s page in Koda."
    else:
        outcome = (
            Outcome.UNREACHABLE
            if exc.reason == oauth.UNREACHABLE
            else (Outcome.PROVIDER_UNAVAILABLE)
        )
        message = f"Could not renew the {provider.name} sign-in: {exc.message}"
        remedy = "Koda tries again at the next check; the current token works until it expires."
    audit_record(
        ctx=ctx,
        action="login.refresh_failed",
        target=provider_target(provider.id),
        diff={
            "outcome": str(outcome),
            "reason": exc.reason,
            "http_status": exc.http_status,
            "permanent": exc.permanent,
        },
    )
    return VerificationResult(
        ok=False,
        outcome=outcome,
        message=message[:500],
        remedy=remedy,
        http_status=exc.http_status,
        raw_error=exc.raw_error,
        probe=f"POST {flow.token_urls[0]} (refresh)",
        checked_at=timezone.now().isoformat(),
    )
