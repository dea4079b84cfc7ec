"""Configure and disconnect: a credential is verified before it is stored, and one that does not
round-trip is never saved (design §1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connections.checks import check_apply, snapshot_record
from connections.forms import CredentialForm
from connections.models import Connection
from connections.services.common import (
    InvalidCredentialInput,
    NotConfigured,
    UnsupportedAuthMethod,
    _check_dependents,
    _public,
    locked_connection,
)
from koda.audit import audit_record, provider_target
from koda.context import Context
from koda.redaction import secret_hint
from providers.base import Provider
from providers.fields import AuthMethod, Method
from providers.values import Credential, VerificationResult


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
            target=provider_target(provider.id),
            diff={"before": before, "after": _public(connection)},
        )
    return Configured(connection, result)


def _record_refused(
    provider: Provider, credential: Credential, result: VerificationResult, ctx: Context
) -> None:
    # Under the row lock: a disconnect racing this refusal waits, so the snapshot never points
    # at a row deleted in between (and the audit row is never lost to that).
    with transaction.atomic():
        existing = locked_connection(provider)
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
            target=provider_target(provider.id),
            diff={
                "auth_method": str(credential.method),
                "outcome": str(result.outcome),
                "secret_hint": _hint(provider, credential),
                "kept_existing": existing is not None,
            },
        )


@transaction.atomic
def connection_disconnect(*, provider: Provider, ctx: Context, confirmed: bool = False) -> None:
    """Delete the stored credential and state. Health snapshots stay (provider_id is kept).
    Raises ConfirmationRequired, unless `confirmed`, when agents' roles use the provider."""
    connection = locked_connection(provider)
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
        target=provider_target(provider.id),
        diff={"before": before, **({"affected": affected} if affected else {})},
    )


@sensitive_variables("credential")
def _hint(provider: Provider, credential: Credential) -> str:
    """The hint of the method's first secret part that has a value (`sk-…abcd`), or ""."""
    spec = provider.method(credential.method)
    for field in spec.secret_fields if spec else ():
        if credential.secrets.get(field.name):
            return secret_hint(credential.secrets[field.name])
    return ""
