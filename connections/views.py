"""Dashboard pages for providers. Thin: read through selectors, write through services."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from connections import selectors
from providers.registry import PROVIDERS, get_provider


@require_GET
def providers(request: HttpRequest) -> HttpResponse:
    catalog = selectors.catalog_list()
    connected = sum(1 for p in catalog if p["connection"]["status"] != "not_configured")
    return render(
        request,
        "connections/providers.html",
        {"catalog": catalog, "connected": connected, "total": len(PROVIDERS)},
    )


@require_GET
def provider_detail(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = get_provider(provider_id)
    if provider is None:
        raise Http404("No such provider")
    state = selectors.connection_state(provider, selectors.connection_get(provider))
    return render(
        request,
        "connections/provider_detail.html",
        {"provider": provider.describe(), "connection": state},
    )
