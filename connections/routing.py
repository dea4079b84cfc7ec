"""What routing reads on the hot path (an agent runtime's resolve, before every model call): every
connection with its credential, and the defaults per function, kept per process and checked
against the database on each read with one small query.

The check reads each connection's id, provider, status, default model and `updated_at`, and each
default's function, provider and model: status and default model are compared directly (they are
what a bulk `.update()` might change), and everything else a connection holds (models, config,
secrets) changes only through `save()`, which moves `updated_at`. Any difference reloads the lot,
so a report that degrades a connection or a disconnect is seen by the next resolve in every
process. The cache holds decrypted credentials in memory, as each request briefly does anyway
(the process holds the encryption key too); nothing of it is ever logged or written.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from django.db import connection as db

from connections.models import Connection, FunctionDefault


@dataclass(frozen=True)
class Routing:
    connections: dict[str, Connection]  # provider id → connection, secrets decrypted
    defaults: dict[str, tuple[str, str]]  # function → (provider id, model)


_lock = threading.Lock()
_cached: tuple[tuple, Routing] | None = None


@functools.cache
def _stamp_queries(vendor: str) -> tuple[tuple[str, tuple], ...]:
    """The stamp's SQL, built by the ORM once per database vendor: the hot path then skips the
    ORM's per-query compile (most of its cost for rows this small)."""
    return (
        Connection.objects.order_by("id")
        .values_list("id", "provider_id", "status", "default_model", "updated_at")
        .query.sql_with_params(),
        FunctionDefault.objects.order_by("function")
        .values_list("function", "provider_id", "model", "updated_at")
        .query.sql_with_params(),
    )


def _stamp() -> tuple:
    rows = []
    with db.cursor() as cursor:
        for sql, params in _stamp_queries(db.vendor):
            cursor.execute(sql, params)
            rows.append(tuple(cursor.fetchall()))
    return (db.alias, db.settings_dict["NAME"], *rows)


def routing() -> Routing:
    """The current connections and defaults: from this process's copy when the database says
    nothing changed, else read again (two queries)."""
    global _cached
    stamp = _stamp()
    cached = _cached
    if cached is not None and cached[0] == stamp:
        return cached[1]
    fresh = Routing(
        connections={c.provider_id: c for c in Connection.objects.all()},
        defaults={d.function: (d.provider_id, d.model) for d in FunctionDefault.objects.all()},
    )
    with _lock:
        _cached = (stamp, fresh)
    return fresh
