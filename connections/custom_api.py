"""Operator-defined providers in the API (design §7): POST /providers, DELETE /providers/{id}."""

from __future__ import annotations

from django.http import HttpRequest

from connections import custom_providers, selectors
from connections.api import _ctx, _provider
from koda.api import Conflict, InvalidInput, api_view, parse_json

FIELDS = {
    "id": str,
    "name": str,
    "base_url": str,
    "preset": str,
    "requires_key": bool,
    "headers": dict,
    "capabilities": list,
}


def _entry(provider_id: str) -> dict:
    return next(e for e in selectors.catalog_list() if e["id"] == provider_id)


@api_view(["POST"])
def providers_create(request: HttpRequest):
    body = parse_json(request, allowed=FIELDS, required=["id", "name"])
    try:
        provider = custom_providers.custom_provider_create(data=body, ctx=_ctx(request))
    except custom_providers.InvalidDefinition as exc:
        raise InvalidInput("Some fields are invalid.", details={"fields": exc.errors}) from None
    return 201, _entry(provider.id)


@api_view(["DELETE"])
def provider_delete(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    parse_json(request, allowed={})
    try:
        custom_providers.custom_provider_delete(provider_id=provider.id, ctx=_ctx(request))
    except custom_providers.NotCustom:
        raise Conflict(
            f"{provider.name} is built in; only providers added here can be removed.",
            code="builtin_provider",
        ) from None
    except custom_providers.ProviderInUse as exc:
        raise Conflict(
            custom_providers.in_use_message(provider, exc),
            code="provider_in_use",
            details={"connected": exc.connected, "agents": exc.agents},
        ) from None
    return {"provider_id": provider.id, "deleted": True}
