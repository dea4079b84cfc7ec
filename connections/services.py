"""Writes to connections. HTML views, the JSON API, commands and admin actions all call these.

The rule at the heart of it (design §1): a credential is verified before it is stored, and a
credential that does not round-trip is never saved. A refused new key leaves the stored one,
its defaults and its health untouched; the refused check is still recorded (as a candidate
snapshot) and audited, so a failed rotation is visible.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connections.models import Connection, HealthSnapshot, Status, Trigger
from koda.audit import audit_record
from koda.crypto import secret_hint
from providers.base import AuthMethod, Credential, Provider, VerificationResult


class NotConfigured(Exception):
    """The provider has no stored connection."""


class UnknownModel(ValueError):
    """The model is not one the connection discovered."""


_TRIGGERS = {
    "api": Trigger.API,
    "dashboard": Trigger.WIZARD,
    "command": Trigger.COMMAND,
    "sweep": Trigger.SWEEP,
}
# Connection fields an audit diff may show (never `secret`).
_PUBLIC_FIELDS = (
    "auth_method",
    "secret_hint",
    "base_url",
    "organization",
    "project",
    "endpoint_url",
    "runtime_path",
    "default_model",
    "status",
)


def _public(connection: Connection | None) -> dict:
    if connection is None:
        return {}
    return {name: getattr(connection, name) for name in _PUBLIC_FIELDS}


def credential_of(connection: Connection) -> Credential:
    return Credential(
        auth_method=connection.auth_method,
        api_key=connection.secret or "",
        base_url=connection.base_url,
        organization=connection.organization,
        project=connection.project,
        endpoint_url=connection.endpoint_url,
        runtime_path=connection.runtime_path,
    )


def snapshot_record(
    *,
    provider: Provider,
    connection: Connection | None,
    result: VerificationResult,
    via: str,
    actor: Any,
    candidate: bool = False,
) -> HealthSnapshot:
    """Write the immutable record of one check (its raw error is already redacted)."""
    return HealthSnapshot.objects.create(
        provider_id=provider.id,
        connection=connection,
        ok=result.ok,
        outcome=result.outcome,
        http_status=result.http_status,
        latency_ms=result.latency_ms,
        message=result.message[:500],
        raw_error=result.raw_error,
        probe=result.probe[:2100],
        trigger=_TRIGGERS.get(via, Trigger.API),
        actor=actor if getattr(actor, "pk", None) else None,
        candidate=candidate,
    )


def next_check_delay(connection: Connection, result: VerificationResult) -> timedelta:
    """When to check again: the normal interval, or for transient failures an exponential
    backoff (and never sooner than the provider's Retry-After), capped."""
    interval = settings.KODA_HEALTH_INTERVAL_SECONDS
    if result.ok or not result.outcome.is_transient:
        return timedelta(seconds=interval)
    backoff = interval * 2 ** min(connection.consecutive_failures, 10)
    backoff = max(backoff, result.retry_after_seconds or 0)
    return timedelta(seconds=min(backoff, max(settings.KODA_HEALTH_MAX_BACKOFF_SECONDS, interval)))


def _apply_check(connection: Connection, result: VerificationResult) -> None:
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
        if result.models:
            connection.discovered_models = result.models
    else:
        connection.status = Status.DEGRADED if result.outcome.is_transient else Status.FAILING
        connection.failing_since = connection.failing_since or now
    connection.last_outcome = result.outcome
    connection.last_message = result.message[:500]
    connection.last_remedy = result.remedy[:500]
    connection.last_checked_at = now
    connection.last_latency_ms = result.latency_ms
    connection.next_check_at = now + next_check_delay(connection, result)
    if not result.ok:
        connection.consecutive_failures += 1


@sensitive_variables("api_key", "credential")
def connection_configure_api_key(
    *,
    provider: Provider,
    api_key: str,
    base_url: str = "",
    organization: str = "",
    project: str = "",
    actor: Any,
    via: str,
    request: HttpRequest | None = None,
) -> tuple[Connection | None, VerificationResult]:
    """Verify an API key and, only if it round-trips, store it (encrypted).

    Returns (connection, result); connection is None when the key was refused, in which case
    nothing stored has changed.
    """
    credential = Credential(
        auth_method=AuthMethod.API_KEY,
        api_key=api_key,
        base_url=base_url,
        organization=organization,
        project=project,
    )
    result = provider.verify(credential)  # network: outside any transaction or row lock
    target = f"provider:{provider.id}"
    if not result.ok:
        existing = Connection.objects.defer("secret").filter(provider_id=provider.id).first()
        snapshot_record(
            provider=provider,
            connection=existing,
            result=result,
            via=via,
            actor=actor,
            candidate=True,
        )
        audit_record(
            actor=actor,
            via=via,
            action="connection.configure_refused",
            target=target,
            request=request,
            diff={
                "outcome": str(result.outcome),
                "secret_hint": secret_hint(api_key),
                "kept_existing": existing is not None,
            },
        )
        return None, result
    # A region-bound key may have been accepted on another region's host: store that host.
    verified_base = result.base_url.rstrip("/")
    if not base_url and verified_base and verified_base != provider.default_base_url.rstrip("/"):
        base_url = verified_base
    with transaction.atomic():
        connection = Connection.objects.select_for_update().filter(
            provider_id=provider.id
        ).first() or Connection(provider_id=provider.id)
        before = _public(connection) if connection.pk else {}
        connection.auth_method = AuthMethod.API_KEY
        connection.secret = api_key
        connection.secret_hint = secret_hint(api_key)
        connection.base_url, connection.organization, connection.project = (
            base_url,
            organization,
            project,
        )
        connection.endpoint_url = connection.runtime_path = ""
        _apply_check(connection, result)
        ids = {m["id"] for m in result.models}
        if connection.default_model not in ids:
            connection.default_model = ""
        connection.save()
        snapshot_record(
            provider=provider, connection=connection, result=result, via=via, actor=actor
        )
        audit_record(
            actor=actor,
            via=via,
            action="connection.configure",
            target=target,
            request=request,
            diff={"before": before, "after": _public(connection)},
        )
    return connection, result


def connection_verify(
    *, provider: Provider, actor: Any, via: str, request: HttpRequest | None = None
) -> tuple[Connection, VerificationResult]:
    """Re-check the stored credential and record the result on the connection."""
    connection = Connection.objects.filter(provider_id=provider.id).first()
    if connection is None:
        raise NotConfigured(provider.id)
    credential = credential_of(connection)
    result = provider.verify(credential)
    with transaction.atomic():
        current = Connection.objects.select_for_update().filter(pk=connection.pk).first()
        if current is None:
            raise NotConfigured(provider.id)  # disconnected while the check ran
        # The credential may have been replaced while the check ran: do not pin this result on
        # a credential it was not about.
        still_same = credential_of(current) == credential
        if still_same:
            _apply_check(current, result)
            current.save()
        snapshot_record(
            provider=provider,
            connection=current,
            result=result,
            via=via,
            actor=actor,
            candidate=not still_same,
        )
        if via != "sweep":  # scheduled checks leave snapshots, not audit events
            audit_record(
                actor=actor,
                via=via,
                action="connection.verify",
                target=f"provider:{provider.id}",
                request=request,
                diff={"outcome": str(result.outcome), "status": current.status},
            )
    return current, result


def connection_set_default_model(
    *, provider: Provider, model: str, actor: Any, via: str, request: HttpRequest | None = None
) -> Connection:
    with transaction.atomic():
        connection = (
            Connection.objects.select_for_update()
            .defer("secret")
            .filter(provider_id=provider.id)
            .first()
        )
        if connection is None:
            raise NotConfigured(provider.id)
        if model not in {m["id"] for m in connection.discovered_models}:
            raise UnknownModel(model)
        before = connection.default_model
        connection.default_model = model
        connection.save(update_fields=["default_model", "updated_at"])
        audit_record(
            actor=actor,
            via=via,
            action="connection.default_model",
            target=f"provider:{provider.id}",
            request=request,
            diff={"before": before, "after": model},
        )
    return connection


@transaction.atomic
def connection_disconnect(
    *, provider: Provider, actor: Any, via: str, request: HttpRequest | None = None
) -> None:
    """Delete the stored credential and state. Health snapshots stay (provider_id is kept)."""
    connection = Connection.objects.select_for_update().filter(provider_id=provider.id).first()
    if connection is None:
        raise NotConfigured(provider.id)
    before = _public(connection)
    connection.delete()
    audit_record(
        actor=actor,
        via=via,
        action="connection.disconnect",
        target=f"provider:{provider.id}",
        diff={"before": before},
        request=request,
    )
