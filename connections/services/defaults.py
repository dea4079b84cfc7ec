"""Set the default model of a connection (agents' roles that would move are confirmed first)."""

from __future__ import annotations

from django.db import transaction

from connections.models import Connection
from connections.services.common import (
    NotConfigured,
    UnknownModel,
    _check_dependents,
    locked_connection,
)
from koda.audit import audit_record, provider_target
from koda.context import Context
from providers.base import Provider


def connection_set_default_model(
    *, provider: Provider, model: str, ctx: Context, confirmed: bool = False
) -> Connection:
    """Raises ConfirmationRequired, unless `confirmed`, when agents' roles would move model."""
    with transaction.atomic():
        connection = locked_connection(provider)
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
            target=provider_target(provider.id),
            diff={"before": before, "after": model, **({"affected": affected} if affected else {})},
        )
    return connection
