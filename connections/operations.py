"""The Operations view: health per connection over time, refreshed in place."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from connections import selectors, services
from koda.context import Context, Via
from koda.rendering import render_page
from providers.registry import get_provider

TEMPLATE = "connections/operations.html"


@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    rows = selectors.operations_rows()
    return render_page(request, TEMPLATE, "operations", {"rows": rows})


@require_POST
def operations_verify(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = get_provider(provider_id)
    if provider is None:
        raise Http404("No such provider")
    try:
        services.connection_verify(
            provider=provider, ctx=Context.of_request(request, Via.OPERATIONS)
        )
    except services.NotConfigured:
        raise Http404("Not configured") from None
    rows = selectors.operations_rows(provider_ids=[provider.id])
    return render(request, f"{TEMPLATE}#operations-row", {"row": rows[0], "verified": True})
