"""The JSON API for connections (design §7). Thin: parse, call a service or selector, serialise."""

from __future__ import annotations

from django.http import HttpRequest

from connections import selectors, services
from koda.api import Conflict, NotFound, api_view, parse_json
from providers.base import Provider
from providers.registry import get_provider


def _provider(provider_id: str) -> Provider:
    provider = get_provider(provider_id)
    if provider is None:
        raise NotFound(
            f"There is no provider {provider_id!r}.",
            code="unknown_provider",
            details={"provider_id": provider_id},
        )
    return provider


@api_view(["GET"])
def catalog(request: HttpRequest):
    return {"providers": selectors.catalog_list(), "integrations": []}


@api_view(["GET", "DELETE"])
def connection(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    if request.method == "DELETE":
        parse_json(request, allowed={})
        return _disconnect(request, provider)
    return {"connection": selectors.connection_state(provider, selectors.connection_get(provider))}


@api_view(["POST"])
def connection_disconnect(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    parse_json(request, allowed={})  # takes no fields; a body, if sent, must say nothing
    return _disconnect(request, provider)


def _disconnect(request: HttpRequest, provider: Provider) -> dict:
    try:
        services.connection_disconnect(
            provider=provider, actor=request.user, via="api", request=request
        )
    except services.NotConfigured:
        raise Conflict(f"{provider.name} is not configured.", code="not_configured") from None
    return {"connection": selectors.connection_state(provider, None)}
