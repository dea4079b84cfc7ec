"""Reads: connection state and the catalog, serialised by functions that cannot emit a secret."""

from __future__ import annotations

from connections.models import Connection, Status
from providers.base import Provider
from providers.registry import PROVIDERS


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def connection_state(provider: Provider, connection: Connection | None) -> dict:
    """The public state of a provider's connection (design §7). Never reads `secret`."""
    if connection is None:
        return {
            "provider_id": provider.id,
            "status": Status.NOT_CONFIGURED.value,
            "ready": False,
            "auth_method": None,
            "secret_hint": None,
            "base_url": None,
            "organization": None,
            "project": None,
            "endpoint_url": None,
            "runtime_path": None,
            "default_model": None,
            "models": [],
            "verified_at": None,
            "failing_since": None,
            "last_check": None,
        }
    last_check = None
    if connection.last_checked_at:
        last_check = {
            "outcome": connection.last_outcome,
            "message": connection.last_message,
            "checked_at": _iso(connection.last_checked_at),
            "latency_ms": connection.last_latency_ms,
        }
    return {
        "provider_id": provider.id,
        "status": connection.status,
        "ready": connection.is_ready,
        "auth_method": connection.auth_method,
        "secret_hint": connection.secret_hint or None,
        "base_url": connection.base_url or None,
        "organization": connection.organization or None,
        "project": connection.project or None,
        "endpoint_url": connection.endpoint_url or None,
        "runtime_path": connection.runtime_path or None,
        "default_model": connection.default_model or None,
        "models": [m["id"] for m in connection.discovered_models],
        "verified_at": _iso(connection.verified_at),
        "failing_since": _iso(connection.failing_since),
        "last_check": last_check,
    }


def connections_by_provider() -> dict[str, Connection]:
    # `defer("secret")`: lists never decrypt anything they do not need.
    return {c.provider_id: c for c in Connection.objects.defer("secret")}


def connection_get(provider: Provider) -> Connection | None:
    return Connection.objects.defer("secret").filter(provider_id=provider.id).first()


def catalog_list() -> list[dict]:
    """Every provider (registry order) with its metadata and connection state. One query."""
    connections = connections_by_provider()
    return [
        {**provider.describe(), "connection": connection_state(provider, connections.get(pid))}
        for pid, provider in PROVIDERS.items()
    ]
