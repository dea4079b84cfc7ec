"""The Operations view: health per connection over time, refreshed in place."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from connections import services
from connections.operations_data import (
    INCIDENTS_COUNTED,
    RANGES,
    operations_incidents,
    operations_rows,
)
from connections.views import provider_or_404
from koda.context import Context, Via
from koda.rendering import render_page

TEMPLATE = "connections/operations.html"
# The table shows the ongoing incidents and the newest others up to this many (a flapping
# provider can have thousands in 30 days; the health API pages through every check).
INCIDENTS_SHOWN = 50


def _range(request: HttpRequest) -> str:
    value = request.GET.get("range", "24h")
    return value if value in RANGES else "24h"


@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    span = _range(request)
    incidents, total = operations_incidents(range_id=span, limit=INCIDENTS_SHOWN)
    context = {
        "rows": operations_rows(range_id=span),
        "incidents": incidents,
        "incidents_total": total,
        "incidents_counted": INCIDENTS_COUNTED,
        "range": RANGES[span],
        "ranges": RANGES.values(),
    }
    return render_page(request, TEMPLATE, "operations", context)


@require_POST
def operations_verify(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    try:
        services.connection_verify(
            provider=provider, ctx=Context.of_request(request, Via.OPERATIONS)
        )
    except services.NotConfigured:
        raise Http404("Not configured") from None
    span = _range(request)
    rows = operations_rows(range_id=span, provider_ids=[provider.id])
    context = {"row": rows[0], "verified": True, "range": RANGES[span]}
    return render(request, f"{TEMPLATE}#operations-row", context)
