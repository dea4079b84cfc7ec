"""Verify: re-check the stored credential and record the result; a runtime's failed call recorded
like a check."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from connections.checks import CHECK_FIELDS, check_apply, snapshot_record
from connections.models import Connection, HealthSnapshot
from connections.refresh import credential_refresh
from connections.services.common import NotConfigured, locked_connection
from koda.audit import audit_record, provider_target
from koda.context import Context, Via
from koda.prepared import Lookup
from providers.base import Provider
from providers.fields import AuthMethod
from providers.values import VerificationResult

# A check's two reads of its connection (before the network call, and under the row lock
# after it), compiled once: sweeps make them for every connection, every interval.
_BY_PROVIDER = Lookup(Connection, "provider_id")
_LOCKED_BY_PROVIDER = Lookup(Connection, "provider_id", for_update=True)


def connection_verify(*, provider: Provider, ctx: Context) -> tuple[Connection, VerificationResult]:
    """Re-check the stored credential and record the result on the connection."""
    connection = _BY_PROVIDER.first(provider.id)
    if connection is None:
        raise NotConfigured(provider.id)
    credential, failure = credential_refresh(
        provider=provider, connection=connection, credential=connection.credential, ctx=ctx
    )
    result = failure or provider.verify(credential)
    if failure is None and credential.method == AuthMethod.LOGIN and result.http_status == 401:
        # Once on a 401: the access token may have been revoked early; a refresh tells.
        credential, failure = credential_refresh(
            provider=provider, connection=connection, credential=credential, ctx=ctx, force=True
        )
        result = failure or provider.verify(credential)
    with transaction.atomic():
        current = _LOCKED_BY_PROVIDER.first(provider.id)
        if current is None or current.pk != connection.pk:
            raise NotConfigured(provider.id)  # disconnected (and perhaps connected again)
        # The credential may have been replaced while the check ran: do not pin this result on
        # a credential it was not about.
        still_same = current.credential == credential
        models_before = current.model_ids
        if still_same:
            check_apply(current, result)
            current.save(update_fields=CHECK_FIELDS)
        snapshot_record(
            provider=provider,
            connection=current,
            result=result,
            ctx=ctx,
            candidate=not still_same,
            models_before=models_before,
        )
        if ctx.via != Via.SWEEP:  # scheduled checks leave snapshots, not audit events
            audit_record(
                ctx=ctx,
                action="connection.verify",
                target=provider_target(provider.id),
                diff={"outcome": str(result.outcome), "status": current.status},
            )
    return current, result


# Seconds after a runtime's report before the connection is verified again (the sweep picks it
# up): soon, so a provider that recovered is back in every agent's candidates quickly.
REVERIFY_AFTER_REPORT = 30


def connection_record_report(
    *, provider: Provider, result: VerificationResult, ctx: Context
) -> HealthSnapshot | None:
    """A runtime's failed call, recorded like a check (snapshot with trigger `runtime`, status
    degraded or failing) and followed by a prompt re-verification. None if not connected."""
    with transaction.atomic():
        connection = locked_connection(provider)
        if connection is None:
            return None
        check_apply(connection, result)
        soon = timezone.now() + timedelta(seconds=REVERIFY_AFTER_REPORT)
        connection.next_check_at = min(connection.next_check_at or soon, soon)
        connection.save(update_fields=CHECK_FIELDS)
        return snapshot_record(provider=provider, connection=connection, result=result, ctx=ctx)
