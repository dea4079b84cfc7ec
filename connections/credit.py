"""Credit: the operator's low-credit threshold per connection (the one write), and the trend of
the figure the checks read (from the daily rollups: one query whatever the history)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from connections.models import THRESHOLD_UNITS, Connection, HealthRollup
from connections.rollups import DAY, bucket_of
from connections.services.common import locked_connection
from koda.audit import audit_record, provider_target
from koda.context import Context
from providers.base import Provider

TREND_DAYS = 7


class InvalidThreshold(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid threshold")
        self.errors = errors


def connection_set_credit_threshold(
    *, provider: Provider, below: float | None, unit: str, ctx: Context
) -> Connection | None:
    """Set (or, with `below` None, clear) the threshold under which the connection shows low
    credit: an amount in the provider's unit, or a percent of its allowance. None if the
    provider is not connected."""
    errors: dict[str, list[str]] = {}
    if below is not None:
        if isinstance(below, bool) or not isinstance(below, int | float) or below < 0:
            errors["below"] = ["A number, 0 or more."]
        elif unit == "percent" and below > 100:
            errors["below"] = ["A percent is at most 100."]
        if unit not in THRESHOLD_UNITS:
            errors["unit"] = [f"One of: {', '.join(THRESHOLD_UNITS)}."]
    if errors:
        raise InvalidThreshold(errors)
    with transaction.atomic():
        connection = locked_connection(provider)
        if connection is None:
            return None
        before = connection.credit_threshold_state
        connection.credit_threshold = None if below is None else float(below)
        connection.credit_threshold_unit = "" if below is None else unit
        connection.save(update_fields=["credit_threshold", "credit_threshold_unit", "updated_at"])
        audit_record(
            ctx=ctx,
            action="connection.credit_threshold",
            target=provider_target(provider.id),
            diff={"before": before, "after": connection.credit_threshold_state},
        )
    return connection


def credit_trends(connection_ids: list[int], *, now=None) -> dict[int, list[dict]]:
    """Per connection, the last credit figure of each of the last 7 days that has one (oldest
    first): `{"day", "amount", "share_left"}`."""
    now = now or timezone.now()
    first = bucket_of(now - timedelta(days=TREND_DAYS - 1), DAY)
    trends: dict[int, list[dict]] = {}
    rows = (
        HealthRollup.objects.filter(connection__in=connection_ids, width=DAY, bucket__gte=first)
        .exclude(credit_amount=None, credit_share=None)
        .order_by("connection_id", "bucket")
        .values_list("connection_id", "bucket", "credit_amount", "credit_share")
    )
    for conn_id, bucket, amount, share in rows:
        trends.setdefault(conn_id, []).append(
            {"day": bucket, "amount": amount, "share_left": share}
        )
    return trends


def credit_chart(trend: list[dict]) -> dict | None:
    """A 7-day sparkline of the daily figures (the amount, else the share left), with the
    first and last figures for its label; None with fewer than two days."""
    values = [p["amount"] if p["amount"] is not None else p["share_left"] for p in trend]
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    top, low = max(values), min(values)
    span = (top - low) or 1.0
    step = 140 / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{26 - 24 * (v - low) / span:.1f}" for i, v in enumerate(values)
    )
    return {"points": points, "first": values[0], "last": values[-1], "days": len(values)}
