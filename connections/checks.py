"""Recording one check of a connection: the immutable snapshot, and folding the result into the
connection's status and schedule. Used by every service that verifies."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from connections.models import Connection, HealthSnapshot, Status
from connections.rollups import summaries_add
from connections.signals import check_recorded
from koda.context import Context
from providers.base import Provider
from providers.values import VerificationResult


def snapshot_record(
    *,
    provider: Provider,
    connection: Connection | None,
    result: VerificationResult,
    ctx: Context,
    candidate: bool = False,
    refused: bool = False,
    models_before: list[str] | None = None,
) -> HealthSnapshot:
    """Write the immutable record of one check (its raw error is already redacted), fold it
    into the connection's rollups and incidents, and tell the apps above (`check_recorded`).
    The caller holds the connection's row lock, in a transaction. `refused`: a new credential
    was refused while one is stored (a failed rotation); `models_before`: the connection's
    model ids before this check, where the check may have changed them."""
    snapshot = HealthSnapshot.objects.create(
        provider_id=provider.id,
        connection=connection,
        ok=result.ok,
        outcome=result.outcome,
        http_status=result.http_status,
        latency_ms=result.latency_ms,
        message=result.message[:500],
        remedy=result.remedy[:500],
        raw_error=result.raw_error,
        probe=result.probe[:2100],
        trigger=ctx.via,
        actor=ctx.user if ctx.user is not None and ctx.user.pk is not None else None,
        candidate=candidate,
        credit_amount=result.credit.amount if result.credit else None,
        credit_unit=result.credit.unit if result.credit else "",
        credit_share=result.credit.share_left if result.credit else None,
    )
    incident = summaries_add(snapshot)
    check_recorded.send(
        sender=HealthSnapshot,
        snapshot=snapshot,
        incident=incident,
        refused=refused,
        models_before=models_before,
    )
    return snapshot


def next_check_delay(connection: Connection, result: VerificationResult) -> timedelta:
    """When to check again: the normal interval, or for transient failures an exponential
    backoff (and never sooner than the provider's Retry-After), capped."""
    interval = settings.KODA_HEALTH_INTERVAL_SECONDS
    if result.ok or not result.outcome.is_transient:
        return timedelta(seconds=interval)
    backoff = interval * 2 ** min(connection.consecutive_failures, 10)
    backoff = max(backoff, result.retry_after_seconds or 0)
    return timedelta(seconds=min(backoff, max(settings.KODA_HEALTH_MAX_BACKOFF_SECONDS, interval)))


# What check_apply may change: saved alone after a check (`save(update_fields=…)`), so a check
# does not re-encrypt and rewrite the credential it only read. A test holds the list true.
CHECK_FIELDS = (
    "status",
    "verified_at",
    "failing_since",
    "last_ok_at",
    "consecutive_failures",
    "details",
    "discovered_models",
    "last_outcome",
    "last_message",
    "last_remedy",
    "last_checked_at",
    "last_latency_ms",
    "next_check_at",
    "credit_amount",
    "credit_unit",
    "credit_share",
    "credit_checked_at",
    "updated_at",
)


def check_apply(connection: Connection, result: VerificationResult) -> None:
    """Fold one check into the connection's status: ok verifies, transient outcomes degrade,
    the others fail; `failing_since` marks the first check of a bad run."""
    now = timezone.now()
    if result.ok:
        connection.status, connection.verified_at, connection.failing_since = (
            Status.VERIFIED,
            now,
            None,
        )
        connection.last_ok_at = now
        connection.consecutive_failures = 0
        connection.details = dict(result.details)
        if result.models:
            connection.discovered_models = [m.as_dict() for m in result.models]
        if result.credit is not None:  # a check that did not read it leaves the last figure
            connection.credit_amount = result.credit.amount
            connection.credit_unit = result.credit.unit
            connection.credit_share = result.credit.share_left
            connection.credit_checked_at = now
    else:
        connection.status = Status.DEGRADED if result.outcome.is_transient else Status.FAILING
        connection.failing_since = connection.failing_since or now
    connection.last_outcome = result.outcome
    connection.last_message = result.message[:500]
    connection.last_remedy = result.remedy[:500]
    connection.last_checked_at = now
    connection.last_latency_ms = result.latency_ms
    connection.next_check_at = now + next_check_delay(connection, result)
    if connection.credential_expires_at is not None:
        # A sign-in: check (and so refresh) shortly before its access token expires.
        margin = timedelta(seconds=settings.KODA_TOKEN_REFRESH_MARGIN_SECONDS)
        refresh_at = connection.credential_expires_at - margin
        if refresh_at > now:
            connection.next_check_at = min(connection.next_check_at, refresh_at)
    if not result.ok:
        connection.consecutive_failures += 1
