"""Context for every dashboard page."""

from __future__ import annotations

from django.http import HttpRequest

from connections.models import Connection, Status
from koda.operators import is_operator
from providers.registry import PROVIDERS


def health_banner(request: HttpRequest) -> dict:
    """Connections that were verified once and are failing now (one query, operators only)."""
    if not is_operator(getattr(request, "user", None)) or request.htmx:
        return {}
    failing = (
        Connection.objects.filter(status=Status.FAILING, verified_at__isnull=False)
        .order_by("provider_id")
        .values_list("provider_id", flat=True)
    )
    return {
        "failing_connections": [
            {"id": pid, "name": PROVIDERS[pid].name if pid in PROVIDERS else pid} for pid in failing
        ]
    }
