"""Writes to connections. HTML views, the JSON API, commands and admin actions all call these."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from connections.models import Connection
from koda.audit import audit_record
from providers.base import Provider


class NotConfigured(Exception):
    """The provider has no stored connection."""


@transaction.atomic
def connection_disconnect(
    *, provider: Provider, actor: Any, via: str, request: HttpRequest | None = None
) -> None:
    """Delete the stored credential and state. Health snapshots stay (provider_id is kept)."""
    connection = Connection.objects.select_for_update().filter(provider_id=provider.id).first()
    if connection is None:
        raise NotConfigured(provider.id)
    before = {
        "auth_method": connection.auth_method,
        "secret_hint": connection.secret_hint,
        "default_model": connection.default_model,
    }
    connection.delete()
    audit_record(
        actor=actor,
        via=via,
        action="connection.disconnect",
        target=f"provider:{provider.id}",
        diff={"before": before},
        request=request,
    )
