"""Writes to connections. HTML views, the JSON API, commands and admin actions all call these.

The rule at the heart of it (design §1): a credential is verified before it is stored, and a
credential that does not round-trip is never saved. A refused new credential leaves the stored
one, its defaults and its health untouched; the refused check is still recorded (as a candidate
snapshot) and audited, so a failed rotation is visible. One service does this for every auth
method; which methods a provider takes is decided here, from the adapter's declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connections.checks import CHECK_FIELDS, check_apply, snapshot_record
from connections.forms import CredentialForm
from connections.models import Connection, HealthSnapshot
from connections.refresh import credential_refresh
from connections.signals import affected_key, dependents_of
from koda.audit import audit_record
from koda.context import Context, Via
from koda.prepared import Lookup
from koda.redaction import secret_hint
from providers.base import Provider
from providers.fields import AuthMethod, Method
from providers.values import Credential, VerificationResult

# A check's two reads of its connection (before the network call, and under the row lock
# after it), compiled once: sweeps make them for every connection, every interval.
_BY_PROVIDER = Lookup(Connection, "provider_id")
_LOCKED_BY_PROVIDER = Lookup(Connection, "provider_id", for_update=True)


class NotConfigured(Exception):
    """The provider has no stored connection."""


class UnknownModel(ValueError):
    """The model is not one the connection discovered."""


class ConfirmationRequired(Exception):
    """Agents depend on what is about to change: `affected` lists them (agent, role, effect).
    Callers show the list and call again with `confirmed=True`."""

    def __init__(self, affected: list[dict]) -> None:
        super().__init__(f"{len(affected)} agent role(s) depend on this")
        self.affected = affected

    @property
    def key(self) -> str:
        return affected_key(self.affected)


class UnsupportedAuthMethod(Exception):
    """The provider does not take this auth method (or not through a form)."""

    def __init__(self, provider: Provider, method: str) -> None:
        super().__init__(f"{provider.name} does not take {method!r} here")
        self.provider, self.method = provider, method


class InvalidCredentialInput(Exception):
    """Some fields of the credential are not acceptable; `form` holds the errors per field."""

    def __init__(self, form: CredentialForm) -> None:
        super().__init__("invalid credential input")
        self.form = form

    @property
    def errors(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.form.errors.items()}


@dataclass(frozen=True)
class Configured:
    """What a configure attempt did: `connection` is None when the credential was refused (then
    nothing stored changed)."""

    connection: Connection | None
    result: VerificationResult


def connection_method(provider: Provider, method: str) -> Method:
    """The provider's declared method of that id that a form configures."""
    spec = provider.method(method)
    if spec is None or not spec.id.takes_input:
        raise UnsupportedAuthMethod(provider, method)
    return spec


@sensitive_variables("data", "credential")
def connection_configure(
    *, provider: Provider, method: str, data: Mapping[str, str], ctx: Context
) -> Configured:
    """Validate what an operator entered for `method` (exactly the fields the adapter declares),
    then verify it and store it only if it round-trips. Raises UnsupportedAuthMethod or
    InvalidCredentialInput before any network call."""
    credential = connection_credential(provider=provider, method=method, data=data)
    return connection_configure_credential(provider=provider, credential=credential, ctx=ctx)


@sensitive_variables("data", "form", "values", "secrets")
def connection_credential(
    *, provider: Provider, method: str, data: Mapping[str, str]
) -> Credential:
    """The credential `data` gives for `method`, validated as the adapter declares its fields.
    Raises UnsupportedAuthMethod or InvalidCredentialInput; makes no network call."""
    spec = connection_method(provider, method)
    form = CredentialForm(data, method=spec)
    if not form.is_valid():
        raise InvalidCredentialInput(form)
    values, secrets = form.split()
    return Credential(spec.id, values, secrets)


@sensitive_variables("credential")
def connection_configure_credential(
    *,
    provider: Provider,
    credential: Credential,
    ctx: Context,
    expires_at: datetime | None = None,
) -> Configured:
    """Verify a credential and, only if it round-trips, store it (secret parts encrypted).
    `expires_at`: when a sign-in's access token expires (checks refresh it before then)."""
    result = provider.verify(credential)  # network: outside any transaction or row lock
    if not result.ok:
        _record_refused(provider, credential, result, ctx)
        return Configured(None, result)
    values = {**credential.values, **result.resolved_values}
    with transaction.atomic():
        connection = Connection.objects.select_for_update().filter(
            provider_id=provider.id
        ).first() or Connection(provider_id=provider.id)
        before = _public(connection) if connection.pk else {}
        models_before = connection.model_ids if connection.pk else None
        connection.auth_method = credential.method
        connection.config = {name: value for name, value in values.items() if value}
        connection.secrets = credential.secrets or None
        connection.secret_hint = _hint(provider, credential)
        connection.credential_expires_at = expires_at
        connection.credential_stored_at = timezone.now()
        connection.refresh_claimed_until = None
        check_apply(connection, result)
        if connection.default_model not in connection.model_ids:
            connection.default_model = ""
        connection.save()
        snapshot_record(
            provider=provider,
            connection=connection,
            result=result,
            ctx=ctx,
            models_before=models_before,
        )
        audit_record(
            ctx=ctx,
            action="connection.configure",
            target=_target(provider),
            diff={"before": before, "after": _public(connection)},
        )
    return Configured(connection, result)


def _record_refused(
    provider: Provider, credential: Credential, result: VerificationResult, ctx: Context
) -> None:
    # Under the row lock: a disconnect racing this refusal waits, so the snapshot never points
    # at a row deleted in between (and the audit row is never lost to that).
    with transaction.atomic():
        existing = _locked(provider)
        snapshot_record(
            provider=provider,
            connection=existing,
            result=result,
            ctx=ctx,
            candidate=True,
            refused=existing is not None,
        )
        audit_record(
            ctx=ctx,
            action="connection.configure_refused",
            target=_target(provider),
            diff={
                "auth_method": str(credential.method),
                "outcome": str(result.outcome),
                "secret_hint": _hint(provider, credential),
                "kept_existing": existing is not None,
            },
        )


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
                target=_target(provider),
                diff={"outcome": str(result.outcome), "status": current.status},
            )
    return current, result


def connection_set_default_model(
    *, provider: Provider, model: str, ctx: Context, confirmed: bool = False
) -> Connection:
    """Raises ConfirmationRequired, unless `confirmed`, when agents' roles would move model."""
    with transaction.atomic():
        connection = _locked(provider)
        if connection is None:
            raise NotConfigured(provider.id)
        if model not in connection.model_ids:
            raise UnknownModel(model)
        before = connection.default_model
        affected = _check_dependents(provider, "default_model", model, confirmed=confirmed)
        connection.default_model = model
        connection.save(update_fields=["default_model", "updated_at"])
        audit_record(
            ctx=ctx,
            action="connection.default_model",
            target=_target(provider),
            diff={"before": before, "after": model, **({"affected": affected} if affected else {})},
        )
    return connection


@transaction.atomic
def connection_disconnect(*, provider: Provider, ctx: Context, confirmed: bool = False) -> None:
    """Delete the stored credential and state. Health snapshots stay (provider_id is kept).
    Raises ConfirmationRequired, unless `confirmed`, when agents' roles use the provider."""
    connection = _locked(provider)
    if connection is None:
        raise NotConfigured(provider.id)
    affected = _check_dependents(provider, "disconnect", confirmed=confirmed)
    before = _public(connection)
    connection.delete()
    audit_record(
        ctx=ctx,
        # Disconnecting a sign-in is signing out (the tokens are deleted with the row).
        action="login.sign_out"
        if connection.auth_method == AuthMethod.LOGIN
        else ("connection.disconnect"),
        target=_target(provider),
        diff={"before": before, **({"affected": affected} if affected else {})},
    )


def _check_dependents(
    provider: Provider, change: str, model: str = "", *, confirmed: bool
) -> list[dict]:
    affected = dependents_of(provider, change=change, model=model)
    if affected and not confirmed:
        raise ConfirmationRequired(affected)
    return affected


def _locked(provider: Provider) -> Connection | None:
    """The provider's connection, row-locked until the transaction ends, its secrets unread."""
    return (
        Connection.objects.select_for_update()
        .defer("secrets")
        .filter(provider_id=provider.id)
        .first()
    )


def _public(connection: Connection) -> dict:
    """What an audit diff may show of a connection: everything but its secret parts."""
    return {
        "auth_method": connection.auth_method,
        "config": dict(connection.config),
        "secret_hint": connection.secret_hint,
        "default_model": connection.default_model,
        "status": connection.status,
    }


@sensitive_variables("credential")
def _hint(provider: Provider, credential: Credential) -> str:
    """The hint of the method's first secret part that has a value (`sk-…abcd`), or ""."""
    spec = provider.method(credential.method)
    for field in spec.secret_fields if spec else ():
        if credential.secrets.get(field.name):
            return secret_hint(credential.secrets[field.name])
    return ""


def _target(provider: Provider) -> str:
    return f"provider:{provider.id}"


# Seconds after a runtime's report before the connection is verified again (the sweep picks it
# up): soon, so a provider that recovered is back in every agent's candidates quickly.
REVERIFY_AFTER_REPORT = 30


def connection_record_report(
    *, provider: Provider, result: VerificationResult, ctx: Context
) -> HealthSnapshot | None:
    """A runtime's failed call, recorded like a check (snapshot with trigger `runtime`, status
    degraded or failing) and followed by a prompt re-verification. None if not connected."""
    with transaction.atomic():
        connection = _locked(provider)
        if connection is None:
            return None
        check_apply(connection, result)
        soon = timezone.now() + timedelta(seconds=REVERIFY_AFTER_REPORT)
        connection.next_check_at = min(connection.next_check_at or soon, soon)
        connection.save(update_fields=CHECK_FIELDS)
        return snapshot_record(provider=provider, connection=connection, result=result, ctx=ctx)
