"""Reads: connection state and the catalog, serialised by functions that cannot emit a secret."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from connections.health import uptime
from connections.models import Connection, HealthSnapshot, Status
from koda.models import AuditEvent
from providers.base import Provider
from providers.registry import PROVIDERS, public_field_names

# The credential's public fields as state shows them: every one any adapter declares.
PUBLIC_FIELDS = public_field_names()


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def connection_state(provider: Provider, connection: Connection | None) -> dict:
    """The public state of a provider's connection (design §7). Never reads `secrets`."""
    config = connection.config if connection else {}
    last_check = None
    if connection is not None and connection.last_checked_at:
        last_check = {
            "outcome": connection.last_outcome,
            "message": connection.last_message,
            "remedy": connection.last_remedy,
            "checked_at": _iso(connection.last_checked_at),
            "latency_ms": connection.last_latency_ms,
        }
    return {
        "provider_id": provider.id,
        "status": connection.status if connection else Status.NOT_CONFIGURED.value,
        "ready": connection.is_ready if connection else False,
        "auth_method": connection.auth_method if connection else None,
        "secret_hint": (connection.secret_hint or None) if connection else None,
        **{name: config.get(name) or None for name in PUBLIC_FIELDS},
        "default_model": (connection.default_model or None) if connection else None,
        "models": connection.model_ids if connection else [],
        "details": dict(connection.details) if connection else {},
        "verified_at": _iso(connection.verified_at) if connection else None,
        "failing_since": _iso(connection.failing_since) if connection else None,
        "last_check": last_check,
    }


def connections_by_provider() -> dict[str, Connection]:
    # `defer("secrets")`: lists never decrypt anything they do not need.
    return {c.provider_id: c for c in Connection.objects.defer("secrets")}


def connection_get(provider: Provider) -> Connection | None:
    return Connection.objects.defer("secrets").filter(provider_id=provider.id).first()


def catalog_list() -> list[dict]:
    """Every provider (registry order) with its metadata and connection state. One query."""
    connections = connections_by_provider()
    return [
        {**provider.describe(), "connection": connection_state(provider, connections.get(pid))}
        for pid, provider in PROVIDERS.items()
    ]


# --- health ----------------------------------------------------------------------------------

STRIP_HOURS = 24


def snapshot_dict(snapshot: HealthSnapshot) -> dict:
    """A snapshot as the API shows it (its raw error was redacted before it was stored)."""
    return {
        "id": snapshot.pk,
        "checked_at": _iso(snapshot.created_at),
        "ok": snapshot.ok,
        "outcome": snapshot.outcome,
        "http_status": snapshot.http_status,
        "latency_ms": snapshot.latency_ms,
        "message": snapshot.message,
        "remedy": snapshot.remedy,
        "raw_error": snapshot.raw_error,
        "probe": snapshot.probe,
        "trigger": snapshot.trigger,
        "actor": snapshot.actor.get_username() if snapshot.actor else None,
        "candidate": snapshot.candidate,
    }


def integration_health(provider: Provider, *, page: int, page_size: int) -> dict:
    """Current status, failing-since, last ok, uptime and a page of snapshots (newest first).
    Three queries whatever the number of snapshots."""
    connection = connection_get(provider)
    offset = (page - 1) * page_size
    rows = list(
        HealthSnapshot.objects.filter(provider_id=provider.id)
        .select_related("actor")
        .order_by("-created_at", "-id")[offset : offset + page_size + 1]
    )
    state = connection_state(provider, connection)
    return {
        "provider_id": provider.id,
        "name": provider.name,
        "status": state["status"],
        "failing_since": state["failing_since"],
        "last_ok_at": _iso(connection.last_ok_at) if connection else None,
        "last_check": state["last_check"],
        "uptime": uptime(provider.id),
        "snapshots": [snapshot_dict(s) for s in rows[:page_size]],
        "page": page,
        "page_size": page_size,
        "next_page": page + 1 if len(rows) > page_size else None,
    }


def _hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def operations_rows(
    *, now: datetime | None = None, provider_ids: list[str] | None = None
) -> list[dict]:
    """One row per connection for the Operations view: an hourly status strip and latency
    series over the last 24 h, and the configuration changes on the same timeline.
    Three queries whatever the number of connections and snapshots."""
    now = now or timezone.now()
    start = _hour(now) - timedelta(hours=STRIP_HOURS - 1)
    conns = Connection.objects.defer("secrets").order_by("provider_id")
    if provider_ids is not None:
        conns = conns.filter(provider_id__in=provider_ids)
    conns = list(conns)
    buckets = (
        HealthSnapshot.objects.filter(
            created_at__gte=start, candidate=False, connection__in=[c.pk for c in conns]
        )
        .annotate(hour=TruncHour("created_at"))
        .values("connection_id", "hour")
        .annotate(total=Count("id"), ok=Count("id", filter=Q(ok=True)), latency=Avg("latency_ms"))
    )
    by_conn: dict[int, dict[datetime, dict]] = {}
    for bucket in buckets:
        by_conn.setdefault(bucket["connection_id"], {})[_hour(bucket["hour"])] = bucket
    changes = AuditEvent.objects.filter(
        created_at__gte=start,
        action__in=CHANGE_ACTIONS,
        target__in=[f"provider:{c.provider_id}" for c in conns],
    ).values("target", "action", "created_at", "actor_label")
    changes_by_target: dict[str, list[dict]] = {}
    for change in changes:
        changes_by_target.setdefault(change["target"], []).append(change)
    hours = [start + timedelta(hours=i) for i in range(STRIP_HOURS)]
    rows = []
    for conn in conns:
        provider = PROVIDERS.get(conn.provider_id)
        if provider is None:
            continue
        cells = []
        for i, hour in enumerate(hours):
            bucket = by_conn.get(conn.pk, {}).get(hour)
            cells.append(_cell(i, hour, bucket))
        marks = [
            {
                "x": _position(start, c["created_at"]),
                "action": CHANGE_ACTIONS[c["action"]],
                "at": c["created_at"],
                "actor": c["actor_label"],
            }
            for c in changes_by_target.get(f"provider:{conn.provider_id}", [])
        ]
        rows.append(
            {
                "provider": provider.describe(),
                "connection": conn,
                "state": connection_state(provider, conn),
                "cells": cells,
                "sparkline": _sparkline(cells),
                "marks": marks,
            }
        )
    return rows


# Configuration changes marked on the Operations timeline (audit action → label).
CHANGE_ACTIONS = {
    "connection.configure": "key replaced",
    "connection.default_model": "default changed",
    "connection.configure_refused": "new key refused",
}


def _cell(index: int, hour: datetime, bucket: dict | None) -> dict:
    if not bucket:
        state = "none"
    elif bucket["ok"] == bucket["total"]:
        state = "ok"
    elif bucket["ok"] == 0:
        state = "failing"
    else:
        state = "mixed"
    return {
        "index": index,
        "hour": hour,
        "state": state,
        "total": bucket["total"] if bucket else 0,
        "ok": bucket["ok"] if bucket else 0,
        "latency": round(bucket["latency"]) if bucket and bucket["latency"] is not None else None,
    }


def _position(start: datetime, at: datetime) -> float:
    """Where a moment falls on the strip, in hour-cells from the left."""
    return round((at - start).total_seconds() / 3600, 3)


def _sparkline(cells: list[dict], width: int = 240, height: int = 28) -> str:
    """SVG polyline points for the hourly latency (rendered on the server, no chart library)."""
    values = [(c["index"], c["latency"]) for c in cells if c["latency"] is not None]
    if len(values) < 2:
        return ""
    top = max(v for _, v in values) or 1
    step = width / (len(cells) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in values
    )
