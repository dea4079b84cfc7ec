"""What the Operations view shows of each connection over a time range (24 h, 7 d, 30 d): a
status strip, uptime over 24 h and 7 d, a latency chart of the last 24 h of checks with its
axes, the configuration changes grouped per strip cell, and the incidents (each failing or
degraded period: when it began and ended, its outcome, how long it lasted).

Six queries for the rows and three for the incidents, whatever the number of connections and
snapshots, each returning a bounded number of rows: they read the rollups and incidents kept as
checks are written (connections.rollups), never the snapshots; everything else is arithmetic.
Rendered as server-side SVG (no chart library).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection as db
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from connections.credit import credit_chart, credit_trends
from connections.models import Connection, HealthRollup, Incident
from connections.rollups import HOUR, SIX_HOURS, TEN_MINUTES, bucket_of
from connections.selectors import connection_state
from koda.audit import provider_target
from koda.models import AuditEvent
from providers.registry import PROVIDERS


@dataclass(frozen=True)
class Range:
    id: str
    label: str
    cell: timedelta
    cells: int

    @property
    def span(self) -> timedelta:
        return self.cell * self.cells

    def start(self, now: datetime) -> datetime:
        """Where the range's first cell begins, for a range ending in the cell holding `now`."""
        return _floor(now, self.cell) - self.cell * (self.cells - 1)


RANGES = {
    r.id: r
    for r in (
        Range("24h", "24 h", timedelta(hours=1), 24),
        Range("7d", "7 d", timedelta(hours=6), 28),
        Range("30d", "30 d", timedelta(days=1), 30),
    )
}
# Configuration changes marked on the timeline (audit action → label).
CHANGE_ACTIONS = {
    "connection.configure": "key replaced",
    "connection.default_model": "default changed",
    "connection.configure_refused": "new key refused",
    "login.success": "signed in",
    "login.refresh_failed": "sign-in renewal failed",
}
CHART_WIDTH, CHART_HEIGHT, AXIS = 240, 60, 34
INCIDENTS_COUNTED = 1000


def _floor(value: datetime, cell: timedelta) -> datetime:
    if cell >= timedelta(days=1):
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    hours = int(cell.total_seconds() // 3600)
    return value.replace(hour=value.hour - value.hour % hours, minute=0, second=0, microsecond=0)


def operations_rows(
    *, range_id: str = "24h", now: datetime | None = None, provider_ids: list[str] | None = None
) -> list[dict]:
    span = RANGES.get(range_id, RANGES["24h"])
    now = now or timezone.now()
    start = span.start(now)
    conns = Connection.objects.defer("secrets").order_by("provider_id")
    if provider_ids is not None:
        conns = conns.filter(provider_id__in=provider_ids)
    conns = list(conns)
    if not conns:
        return []
    ids = [c.pk for c in conns]
    rollups = HealthRollup.objects.filter(connection__in=ids)
    first = int(start.timestamp())

    cells: dict[int, dict[int, list[int]]] = {}
    cell = int(span.cell.total_seconds())  # a rollup width (WIDTHS holds every range's cell)
    for conn_id, bucket, total, ok in (  # 1: checks per connection and strip cell
        rollups.filter(width=cell, bucket__gte=first).values_list(
            "connection_id", "bucket", "total", "ok"
        )
    ):
        cells.setdefault(conn_id, {})[(bucket - first) // cell] = [total, ok]

    # 2: uptime over 7 d, exact to the hour: the 6-hour buckets wholly inside the window, and the
    # hours before the first of them (at most 5) — the hourly buckets' sum from a fifth of the rows.
    first_hour = bucket_of(now - timedelta(days=7), HOUR)
    first_six = -(-first_hour // SIX_HOURS) * SIX_HOURS
    week = {
        conn_id: (total, ok)
        for conn_id, total, ok in rollups.filter(
            Q(width=SIX_HOURS, bucket__gte=first_six)
            | Q(width=HOUR, bucket__gte=first_hour, bucket__lt=first_six)
        )
        .values("connection_id")
        .annotate(total=Sum("total"), ok=Sum("ok"))
        .values_list("connection_id", "total", "ok")
    }
    checks: dict[int, list[tuple[int, int, bool]]] = {}  # (Unix seconds, latency, ok)
    day: dict[int, list[int]] = {}  # uptime over 24 h (to ten minutes), from the same rows
    points = (  # 3: the last 24 h in 10-minute points (integers only: read as they come)
        rollups.filter(
            width=TEN_MINUTES, bucket__gte=bucket_of(now - timedelta(hours=24), TEN_MINUTES)
        )
        .order_by("connection_id", "bucket")
        .values_list("connection_id", "bucket", "total", "ok", "latency_sum")
    )
    with db.cursor() as cursor:
        cursor.execute(*points.query.sql_with_params())
        points = cursor.fetchall()
    for conn_id, bucket, total, ok, latency in points:
        checks.setdefault(conn_id, []).append(
            (bucket + TEN_MINUTES // 2, round(latency / total), ok == total)
        )
        counts = day.setdefault(conn_id, [0, 0])
        counts[0] += total
        counts[1] += ok
    changes: dict[str, list[dict]] = {}
    for change in AuditEvent.objects.filter(  # 4: configuration changes on the timeline
        created_at__gte=start,
        action__in=CHANGE_ACTIONS,
        target__in=[provider_target(c.provider_id) for c in conns],
    ).values("target", "action", "created_at", "actor_label"):
        changes.setdefault(change["target"], []).append(change)

    trends = credit_trends(ids, now=now)  # 5: the daily credit figures of the last 7 days
    labels = [f"{start + span.cell * i:%m-%d %H:%M} UTC" for i in range(span.cells)]
    rows = []
    for conn in conns:  # (6 is the connection list itself)
        provider = PROVIDERS.get(conn.provider_id)
        if provider is None:
            continue
        strip = _strip(labels, cells.get(conn.pk, {}))
        rows.append(
            {
                "provider": provider.describe(),
                "connection": conn,
                "state": connection_state(provider, conn),
                "cells": strip,
                "marks": _marks(changes.get(provider_target(conn.provider_id), []), start, span),
                "changes": sorted(
                    (
                        {
                            "at": c["created_at"],
                            "action": CHANGE_ACTIONS[c["action"]],
                            "actor": c["actor_label"],
                        }
                        for c in changes.get(provider_target(conn.provider_id), [])
                    ),
                    key=lambda c: c["at"],
                    reverse=True,
                ),
                "uptime": {"24h": _share(day.get(conn.pk)), "7d": _share(week.get(conn.pk))},
                "chart": _chart(checks.get(conn.pk, []), now),
                "credit_chart": credit_chart(trends.get(conn.pk, [])),
            }
        )
    return rows


def operations_incidents(
    *, range_id: str = "24h", now: datetime | None = None, limit: int = 50
) -> tuple[list[dict], int]:
    """The incidents of the range (ongoing, or ended within it): the ongoing ones first, then
    the latest others up to `limit` in all, newest first; and how many there are in all (the
    ended ones counted up to INCIDENTS_COUNTED). Three queries whatever the history."""
    span = RANGES.get(range_id, RANGES["24h"])
    now = now or timezone.now()
    start = span.start(now)
    known = Incident.objects.select_related("connection").only(
        "outcome", "message", "began_at", "ended_at", "connection__provider_id"
    )
    ongoing = list(known.filter(ended_at=None).order_by("-began_at"))
    ended = known.filter(ended_at__gte=start)
    found = ongoing + list(ended.order_by("-began_at")[: max(0, limit - len(ongoing))])
    shown = []
    for incident in found:
        provider = PROVIDERS.get(incident.connection.provider_id)
        if provider is None:
            continue
        shown.append(
            {
                "provider": provider.describe(),
                "began": incident.began_at,
                "ended": incident.ended_at,
                "outcome": incident.outcome,
                "message": incident.message,
                "duration": (incident.ended_at or now) - incident.began_at,
            }
        )
    # Counted up to a bound: "the 50 latest of more than 1000" says enough, and counting a
    # flapping provider's tens of thousands costs what the rest of the page does.
    return shown, len(ongoing) + ended[: INCIDENTS_COUNTED + 1].count()


def _strip(labels: list[str], counts: dict[int, list[int]]) -> SafeString:
    """The strip's cells as SVG, each with its time and counts as a tooltip. Built here, not in
    the template: a page has hundreds of cells, and every value is a number or a fixed word."""
    parts = []
    for index, label in enumerate(labels):
        total, ok = counts.get(index, (0, 0))
        state = "none" if not total else "ok" if ok == total else "failing" if ok == 0 else "mixed"
        tip = f"{ok} of {total} checks ok" if total else "no checks"
        parts.append(
            f'<rect x="{index * 10}" y="4" width="9" height="14" class="cell-{state}">'
            f"<title>{label}: {tip}</title></rect>"
        )
    return mark_safe("".join(parts))  # noqa: S308 (numbers, times and fixed words only)


def _marks(changes: list[dict], start: datetime, span: Range) -> list[dict]:
    """Changes grouped per strip cell: one mark per cell, with how many and what."""
    groups: dict[int, list[dict]] = {}
    for change in changes:
        index = min(max(int((change["created_at"] - start) / span.cell), 0), span.cells - 1)
        groups.setdefault(index, []).append(change)
    marks = []
    for index, group in sorted(groups.items()):
        group.sort(key=lambda c: c["created_at"])
        marks.append(
            {
                "x": index * 10 + 5,
                "count": len(group),
                "title": "; ".join(
                    f"{c['created_at']:%m-%d %H:%M} {CHANGE_ACTIONS[c['action']]} by "
                    f"{c['actor_label']}"
                    for c in group
                ),
            }
        )
    return marks


def _share(counts) -> float | None:
    """The percentage of ok checks in (total, ok), or None without checks."""
    return round(100 * counts[1] / counts[0], 1) if counts and counts[0] else None


def _chart(checks: list[tuple[int, int, bool]], now: datetime) -> dict | None:
    """A latency chart of the last 24 h: points at their time (Unix seconds), a y axis from 0
    to the highest latency (rounded up), x ticks every 6 hours; failed checks marked."""
    if not checks:
        return None
    top = max(latency for _, latency, _ in checks) or 1
    scale = _nice(top)
    plot = CHART_WIDTH - AXIS
    start, kx = now.timestamp() - 86400, plot / 86400
    base, ky = CHART_HEIGHT - 12, (CHART_HEIGHT - 18) / scale

    def y(latency: int) -> float:
        return base - ky * latency

    # One pass over the points (a page has thousands); numbers only, so marked safe as SVG.
    at_xy = [(AXIS + kx * max(0.0, at - start), base - ky * lat, ok) for at, lat, ok in checks]
    return {
        "points": mark_safe(" ".join([f"{px:.1f},{py:.1f}" for px, py, _ in at_xy])),  # noqa: S308
        "failures": mark_safe(  # noqa: S308
            "".join(
                [
                    f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" class="failed"/>'
                    for px, py, ok in at_xy
                    if not ok
                ]
            )
        ),
        # Numbers as text: the template would otherwise localise each of them (a page has ~750).
        "top": str(scale),
        "top_y": f"{y(scale):.1f}",
        "zero_y": f"{y(0):.1f}",
        "ticks": [
            {"x": f"{AXIS + plot * h / 24:.1f}", "label": f"-{24 - h}h" if h < 24 else "now"}
            for h in (0, 6, 12, 18, 24)
        ],
        "last": str(checks[-1][1]),
        "count": str(len(checks)),
    }


def _nice(value: int) -> int:
    """The smallest of 1, 2, 5 times a power of ten at least `value` (an axis that reads)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10
