"""Reads: connection state and the catalog, serialised by functions that cannot emit a secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from connections.health import uptime
from connections.models import Connection, HealthSnapshot, Status
from connections.routing import current_stamp, read_stamp
from koda.prepared import Lookup
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
        "credential_stored_at": _iso(connection.credential_stored_at) if connection else None,
        "rotation_due": rotation_due(connection),
        "credit": credit_state(connection),
        "last_check": last_check,
    }


def credit_state(connection: Connection | None) -> dict | None:
    """The credit left as the last check that read it said, and the operator's threshold;
    None where no check read one and no threshold is set."""
    if connection is None or (
        connection.credit_checked_at is None and connection.credit_threshold is None
    ):
        return None
    return {
        "amount": connection.credit_amount,
        "unit": connection.credit_unit,
        "share_left": connection.credit_share,
        "checked_at": _iso(connection.credit_checked_at),
        "low": connection.credit_low,
        "threshold": connection.credit_threshold_state,
    }


def rotation_due_at(connection: Connection | None) -> datetime | None:
    """When the stored credential becomes due for rotation (KODA_KEY_ROTATION_DAYS; None when
    that is off or nothing is stored)."""
    days = settings.KODA_KEY_ROTATION_DAYS
    if not days or connection is None or connection.credential_stored_at is None:
        return None
    return connection.credential_stored_at + timedelta(days=days)


def rotation_due(connection: Connection | None) -> bool:
    due_at = rotation_due_at(connection)
    return due_at is not None and due_at <= timezone.now()


def connections_by_provider() -> dict[str, Connection]:
    # `defer("secrets")`: lists never decrypt anything they do not need.
    return {c.provider_id: c for c in Connection.objects.defer("secrets")}


# The connections as the state shows them, kept per process and checked against routing's stamp
# (every write moves it): the API's state reads answer from here, one statement per request (the
# token lookup reads the stamp). Secrets unread, unlike routing's own copy: a secret that cannot
# be decrypted (a wrong KODA_ENCRYPTION_KEY) never stops the state from being read.
_current: tuple[tuple, dict[str, Connection]] | None = None


def connections_current(routing_stamp: tuple | None = None) -> dict[str, Connection]:
    """Every connection by provider id, secrets unread, from this process's copy while the
    stamp (read now, or given: read by the caller with its token) says nothing changed."""
    global _current
    stamp = current_stamp(routing_stamp)
    cached = _current
    if cached is not None and cached[0] == stamp:
        return cached[1]
    fresh = connections_by_provider()
    _current = (stamp, fresh)
    return fresh


# API answers encoded once per change (the catalog, each provider's state): key → (the stamp
# they were built from, the moment they change by time alone or None, the encoded body).
_answers: dict[str, tuple[tuple, datetime | None, bytes]] = {}


def _kept_answer(
    key: str, stamp: tuple, build: Callable[[], tuple[dict, datetime | None]]
) -> bytes:
    """The body `build()` gives (with when it changes by time alone), encoded as the API
    encodes answers, from this process's copy while `stamp` holds and that moment has not come.
    """
    now = timezone.now()
    cached = _answers.get(key)
    if cached is not None and cached[0] == stamp and (cached[1] is None or cached[1] > now):
        return cached[2]
    body, changes_at = build()
    encoded = json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    _answers[key] = (
        stamp,
        changes_at if changes_at is not None and changes_at > now else None,
        encoded,
    )
    return encoded


def connection_state_answer(provider: Provider, routing_stamp: tuple | None = None) -> bytes:
    """`{"connection": state}` as the API answers it, encoded, from this process's copy while
    nothing it shows changed: the connections and defaults (routing's stamp, read now unless
    the caller read it), the registry's custom providers, and the clock (the key falling due
    for rotation, the one part that changes with time alone)."""
    if routing_stamp is None:
        routing_stamp = read_stamp()  # once, for the check and the copy behind it

    def build() -> tuple[dict, datetime | None]:
        connection = connections_current(routing_stamp).get(provider.id)
        return {"connection": connection_state(provider, connection)}, rotation_due_at(connection)

    return _kept_answer(f"state:{provider.id}", catalog_stamp(routing_stamp), build)


def catalog_answer_encoded(routing_stamp: tuple | None = None) -> bytes:
    """The catalog as the API answers it, encoded once per change (per process), checked
    against the database's stamp (read now unless the caller read it) on every call, and kept
    no later than the next key falling due for rotation."""

    def build() -> tuple[dict, datetime | None]:
        providers, changes_at = catalog_answer()
        return {"providers": providers, "integrations": []}, changes_at

    return _kept_answer("catalog", catalog_stamp(routing_stamp), build)


# Read by the pages and after writes: compiled once (koda.prepared); the secrets stay encrypted.
_BY_PROVIDER = Lookup(Connection, "provider_id", defer=["secrets"])


def connection_get(provider: Provider) -> Connection | None:
    return _BY_PROVIDER.first(provider.id)


def catalog_stamp(routing_stamp: tuple | None = None) -> tuple:
    """What the catalog depends on, read cheaply: the connections and defaults (routing's
    stamp: every write moves it; read now unless the caller read it already) and the
    registry's custom providers (their generation)."""
    list(PROVIDERS)  # reloads the custom providers when due
    return (*current_stamp(routing_stamp), PROVIDERS.generation)


def catalog_answer() -> tuple[list[dict], datetime | None]:
    """Every provider (registry order) with its metadata and connection state, and the next
    moment that changes by time alone (a key falling due for rotation: a cached answer expires
    then). One query."""
    connections = connections_by_provider()
    providers = [
        {**provider.describe(), "connection": connection_state(provider, connections.get(pid))}
        for pid, provider in PROVIDERS.items()
    ]
    now = timezone.now()
    upcoming = [
        due for c in connections.values() if (due := rotation_due_at(c)) is not None and due > now
    ]
    return providers, min(upcoming, default=None)


def catalog_list() -> list[dict]:
    return catalog_answer()[0]


# --- health ----------------------------------------------------------------------------------


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
