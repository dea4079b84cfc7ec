"""What the Operations view shows of each connection over a time range (24 h, 7 d, 30 d): a
status strip, uptime over 24 h and 7 d, a latency chart of the last 24 h of checks with its
axes, the configuration changes grouped per strip cell, and the incidents (each failing or
degraded period: when it began and ended, its outcome, how long it lasted).

Six queries whatever the number of connections and snapshots, each returning a bounded number
of rows (hourly buckets, 10-minute latency points, and only the checks where ok flipped, found
by the database with a window function); everything else is arithmetic.
Rendered as server-side SVG (no chart library).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Avg, CharField, Count, F, Q, Window
from django.db.models.functions import Cast, Lag, Substr
from django.utils import timezone

from connections.models import Connection, HealthSnapshot
from connections.selectors import connection_state
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
    start = _floor(now, span.cell) - span.cell * (span.cells - 1)
    conns = Connection.objects.defer("secrets").order_by("provider_id")
    if provider_ids is not None:
        conns = conns.filter(provider_id__in=provider_ids)
    conns = list(conns)
    ids = [c.pk for c in conns]
    real = HealthSnapshot.objects.filter(candidate=False, connection__in=ids)

    hourly = (  # 1: checks per connection and hour over the range
        real.filter(created_at__gte=start)
        .annotate(hour=_text(1, 13))
        .values("connection_id", "hour")
        .annotate(total=Count("id"), ok=Count("id", filter=Q(ok=True)))
    )
    cells: dict[int, dict[int, list[int]]] = {}
    for bucket in hourly:
        index = int((_hour(bucket["hour"]) - start) / span.cell)
        if 0 <= index < span.cells:
            total_ok = cells.setdefault(bucket["connection_id"], {}).setdefault(index, [0, 0])
            total_ok[0] += bucket["total"]
            total_ok[1] += bucket["ok"]

    day, week = now - timedelta(hours=24), now - timedelta(days=7)
    uptime = {  # 2: uptime over 24 h and 7 d
        u["connection_id"]: u
        for u in real.filter(created_at__gte=week)
        .values("connection_id")
        .annotate(
            week_total=Count("id"),
            week_ok=Count("id", filter=Q(ok=True)),
            day_total=Count("id", filter=Q(created_at__gte=day)),
            day_ok=Count("id", filter=Q(created_at__gte=day, ok=True)),
        )
    }
    checks: dict[int, list[tuple[datetime, int, bool]]] = {}
    for point in (  # 3: the last 24 h in 10-minute points (mean latency; any failure marks it)
        real.filter(created_at__gte=day)
        .annotate(
            hour=_text(1, 13),
            tenth=_text(15, 1),
        )
        .values("connection_id", "hour", "tenth")
        .annotate(latency=Avg("latency_ms"), failed=Count("id", filter=Q(ok=False)))
        .order_by("connection_id", "hour", "tenth")
    ):
        at = _hour(point["hour"]) + timedelta(minutes=10 * int(point["tenth"]) + 5)
        checks.setdefault(point["connection_id"], []).append(
            (at, round(point["latency"] or 0), not point["failed"])
        )
    sequence: dict[int, list[tuple[datetime, bool, str]]] = {}
    transitions = (  # 4: only the checks where ok flips (the database compares neighbours)
        real.filter(created_at__gte=start)
        .annotate(
            before=Window(
                Lag("ok"), partition_by=[F("connection_id")], order_by=[F("created_at"), F("id")]
            )
        )
        .filter(Q(before__isnull=True, ok=False) | (Q(before__isnull=False) & ~Q(before=F("ok"))))
        .order_by("connection_id", "created_at", "id")
        .values_list("connection_id", "created_at", "ok", "outcome")
    )
    for conn_id, at, ok, outcome in transitions:
        sequence.setdefault(conn_id, []).append((at, ok, outcome))
    changes: dict[str, list[dict]] = {}
    for change in AuditEvent.objects.filter(  # 5: configuration changes on the timeline
        created_at__gte=start,
        action__in=CHANGE_ACTIONS,
        target__in=[f"provider:{c.provider_id}" for c in conns],
    ).values("target", "action", "created_at", "actor_label"):
        changes.setdefault(change["target"], []).append(change)

    rows = []
    for conn in conns:  # (6 is the connection list itself)
        provider = PROVIDERS.get(conn.provider_id)
        if provider is None:
            continue
        strip = [
            _cell(i, start + span.cell * i, span, cells.get(conn.pk, {}).get(i))
            for i in range(span.cells)
        ]
        rows.append(
            {
                "provider": provider.describe(),
                "connection": conn,
                "state": connection_state(provider, conn),
                "cells": strip,
                "marks": _marks(changes.get(f"provider:{conn.provider_id}", []), start, span),
                "changes": sorted(
                    (
                        {
                            "at": c["created_at"],
                            "action": CHANGE_ACTIONS[c["action"]],
                            "actor": c["actor_label"],
                        }
                        for c in changes.get(f"provider:{conn.provider_id}", [])
                    ),
                    key=lambda c: c["at"],
                    reverse=True,
                ),
                "uptime": _uptime(uptime.get(conn.pk)),
                "chart": _chart(checks.get(conn.pk, []), now),
                "incidents": _incidents(sequence.get(conn.pk, []), now),
            }
        )
    return rows


def incidents_of(rows: list[dict]) -> list[dict]:
    """Every row's incidents, each with its provider: the ongoing ones first, then newest
    first."""
    found = [{**i, "provider": r["provider"]} for r in rows for i in r["incidents"]]
    return sorted(found, key=lambda i: (i["ended"] is None, i["began"]), reverse=True)


def _text(start: int, length: int):
    """Part of a check's time as text (`YYYY-MM-DD HH` is 1-13, the tens of minutes 15): the
    database groups by it natively, where TruncHour runs a Python function per row on SQLite.
    Both databases give the UTC text (Django keeps PostgreSQL sessions in UTC)."""
    return Substr(Cast("created_at", CharField()), start, length)


@functools.lru_cache(maxsize=2048)  # a few dozen distinct hours per page, thousands of rows
def _hour(text: str) -> datetime:
    return datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), tzinfo=UTC)


def _cell(index: int, at: datetime, span: Range, counts: list[int] | None) -> dict:
    total, ok = counts or (0, 0)
    state = "none" if not total else "ok" if ok == total else "failing" if ok == 0 else "mixed"
    return {"index": index, "at": at, "x": index * 10, "state": state, "total": total, "ok": ok}


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


def _uptime(counts: dict | None) -> dict:
    def share(ok: int, total: int) -> float | None:
        return round(100 * ok / total, 1) if total else None

    if not counts:
        return {"24h": None, "7d": None}
    return {
        "24h": share(counts["day_ok"], counts["day_total"]),
        "7d": share(counts["week_ok"], counts["week_total"]),
    }


def _chart(checks: list[tuple[datetime, int, bool]], now: datetime) -> dict | None:
    """A latency chart of the last 24 h: points at their time, a y axis from 0 to the highest
    latency (rounded up), x ticks every 6 hours; failed checks marked."""
    if not checks:
        return None
    top = max(latency for _, latency, _ in checks) or 1
    scale = _nice(top)
    plot = CHART_WIDTH - AXIS
    start = now - timedelta(hours=24)

    def x(at: datetime) -> float:
        return AXIS + plot * max(0.0, (at - start).total_seconds()) / 86400

    def y(latency: int) -> float:
        return CHART_HEIGHT - 12 - (CHART_HEIGHT - 18) * latency / scale

    return {
        "points": " ".join(f"{x(at):.1f},{y(lat):.1f}" for at, lat, _ in checks),
        "failures": [
            {"x": round(x(at), 1), "y": round(y(lat), 1)} for at, lat, ok in checks if not ok
        ],
        "top": scale,
        "top_y": round(y(scale), 1),
        "zero_y": round(y(0), 1),
        "ticks": [
            {"x": round(AXIS + plot * h / 24, 1), "label": f"-{24 - h}h" if h < 24 else "now"}
            for h in (0, 6, 12, 18, 24)
        ],
        "last": checks[-1][1],
        "count": len(checks),
    }


def _nice(value: int) -> int:
    """The smallest of 1, 2, 5 times a power of ten at least `value` (an axis that reads)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _incidents(transitions: list[tuple[datetime, bool, str]], now: datetime) -> list[dict]:
    """Each failing or degraded period from the checks where ok flipped: it began at its first
    failed check (whose outcome it is named by) and ended at the next ok check, or is ongoing.
    A period already running when the range began starts at the range's first check."""
    found, began = [], None
    for at, ok, outcome in transitions:
        if not ok and began is None:
            began = (at, outcome)
        elif ok and began is not None:
            found.append(_incident(began, at, at))
            began = None
    if began is not None:
        found.append(_incident(began, None, now))
    return list(reversed(found))


def _incident(began: tuple[datetime, str], ended: datetime | None, until: datetime) -> dict:
    return {"began": began[0], "ended": ended, "outcome": began[1], "duration": until - began[0]}
