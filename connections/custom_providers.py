"""Adding and removing operator-defined OpenAI-compatible providers (providers.custom). The
dashboard, the API and commands call these. A provider is removed only when nothing uses it:
not while it is connected, nor while an agent's policy names it (the refusal names them)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from connections.models import Connection
from connections.signals import references_to
from koda.audit import audit_record, provider_target
from koda.context import Context
from providers.base import Provider
from providers.custom import clean_definition
from providers.models import CustomProvider
from providers.registry import ALIASES, BUILTINS, PROVIDERS


class InvalidDefinition(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid provider definition")
        self.errors = errors


class NotCustom(Exception):
    """Not an operator-defined provider (a built-in one, or none at all)."""


class ProviderInUse(Exception):
    def __init__(self, provider_id: str, *, connected: bool, agents: list[dict]) -> None:
        super().__init__(f"{provider_id} is in use")
        self.connected, self.agents = connected, agents


def custom_provider_create(*, data: dict, ctx: Context) -> Provider:
    taken = {*BUILTINS, *ALIASES, *CustomProvider.objects.values_list("id", flat=True)}
    values, errors = clean_definition(data, taken=taken)
    if errors:
        raise InvalidDefinition(errors)
    try:
        with transaction.atomic():
            CustomProvider.objects.create(**values)
            audit_record(
                ctx=ctx,
                action="provider.create",
                target=provider_target(values["id"]),
                diff={**values, "headers": sorted(values["headers"])},  # names only
            )
    except IntegrityError:  # created by someone else in between
        raise InvalidDefinition({"id": [f"{values['id']!r} is taken."]}) from None
    PROVIDERS.reload()
    return PROVIDERS[values["id"]]


def custom_provider_delete(*, provider_id: str, ctx: Context) -> None:
    with transaction.atomic():
        row = CustomProvider.objects.select_for_update().filter(pk=provider_id).first()
        if row is None:
            raise NotCustom(provider_id)
        connected = Connection.objects.filter(provider_id=provider_id).exists()
        agents = references_to(provider_id)
        if connected or agents:
            raise ProviderInUse(provider_id, connected=connected, agents=agents)
        row.delete()
        audit_record(
            ctx=ctx,
            action="provider.delete",
            target=provider_target(provider_id),
            diff={"name": row.name, "preset": row.preset, "base_url": row.base_url},
        )
    PROVIDERS.reload()


def in_use_message(provider: Provider, exc: ProviderInUse) -> str:
    parts = []
    if exc.connected:
        parts.append("it is connected (disconnect it first)")
    if exc.agents:
        named = "; ".join(f"{a['name']} ({a['where']})" for a in exc.agents)
        parts.append(f"agents' policies name it: {named}")
    return f"{provider.name} cannot be removed: {' and '.join(parts)}."
