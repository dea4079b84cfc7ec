"""Context for every dashboard page."""

from __future__ import annotations

from django.http import HttpRequest

from koda.operators import is_operator


def health_banner(request: HttpRequest) -> dict:
    """Connections that were verified once and are failing now (one query, operators only)."""
    if not is_operator(getattr(request, "user", None)) or request.htmx:
        return {}
    from connections.models import Connection, Status

    failing = list(
        Connection.objects.filter(status=Status.FAILING, verified_at__isnull=False)
        .order_by("provider_id")
        .values_list("provider_id", flat=True)
    )
    return {"failing_connections": failing}
