"""What routing reads on the hot path (an agent runtime's resolve, before every model call): every
connection with its credential, and the defaults per function, kept per process and checked
against the database on each read.

The check is a stamp: each connection's id, status, default model and `updated_at`, and each
default's function, provider, model and `updated_at`, joined into one text per table. Status and
default model are compared directly (they are what a bulk `.update()` might change); everything
else a connection holds (models, config, secrets) changes only through `save()`, which moves
`updated_at`; a create or a delete adds or drops a row. Any difference reloads the lot, so a
report that degrades a connection or a disconnect is seen by the next resolve in every process.
The whole rows are compared, not a count and a latest time, so a machine whose clock runs behind
cannot hide its write. The stamp is two scalar subqueries, so a caller already reading the
database (the runtime token lookup) reads it in the same statement (`stamp_expressions`): each
statement costs more than its rows here (a round trip, and a thread that gives up the GIL and
waits to get it back). The cache holds decrypted credentials in memory, as each request briefly
does anyway (the process holds the encryption key too); nothing of it is ever logged or written.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

from django.db import connection as db
from django.db.models import Aggregate, Func, Subquery, TextField, Value

from connections.models import Connection, FunctionDefault


@dataclass(frozen=True)
class Routing:
    connections: dict[str, Connection]  # provider id → connection, secrets decrypted
    defaults: dict[str, tuple[str, str]]  # function → (provider id, model)


_lock = threading.Lock()
_cached: tuple[tuple, Routing] | None = None


class _Joined(Aggregate):
    """Every row's text, joined by "|" (GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL). The
    order need not be stable: a different order only costs a reload."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, '|')"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(expressions)s, '|')",
        )


class _Text(Func):
    """A column as text, NULL as empty (no parameters: each would be quoted into the SQL on
    every call)."""

    template = "COALESCE(CAST(%(expressions)s AS text), '')"
    output_field = TextField()


class _Row(Func):
    """A row's columns as one text, joined by ":"."""

    arg_joiner = " || ':' || "
    template = "(%(expressions)s)"
    output_field = TextField()


def _rows(model: type, fields: tuple[str, ...]) -> Subquery:
    """The table's rows as one text: a scalar subquery, one row even of an empty table (NULL).
    Whole rows, so two states never read the same whatever order the scan takes (a different
    order only costs a reload)."""
    return Subquery(
        model.objects.order_by()
        .annotate(_all=Value(1))
        .values("_all")
        .annotate(value=_Joined(_Row(*(_Text(f) for f in fields))))
        .values("value")
    )


_STAMPED = {
    Connection: ("id", "provider_id", "status", "default_model", "updated_at"),
    FunctionDefault: ("id", "function", "provider_id", "model", "updated_at"),
}


def stamp_expressions() -> dict[str, Subquery]:
    """The stamp's columns, to annotate onto another query (read in the same statement)."""
    return {
        f"routing_{model._meta.model_name}": _rows(model, fields)
        for model, fields in _STAMPED.items()
    }


STAMP_NAMES = tuple(stamp_expressions())


@functools.cache
def _stamp_sql(vendor: str) -> tuple[str, tuple]:
    """`SELECT (…), (…)` of the stamp alone, built by the ORM once per database vendor: the hot
    path then skips the ORM's per-query compile (most of its cost for rows this small)."""
    columns, params = [], []
    for expression in stamp_expressions().values():
        sql, more = expression.query.sql_with_params()
        columns.append(f"({sql})")
        params += more
    return "SELECT " + ", ".join(columns), tuple(params)


def read_stamp() -> tuple:
    with db.cursor() as cursor:
        cursor.execute(*_stamp_sql(db.vendor))
        return tuple(cursor.fetchone())


def current_stamp(stamp: tuple | None = None) -> tuple:
    """What a per-process copy is checked against: the database it was read from and the stamp
    (read now, or given: the values of `stamp_expressions` in `STAMP_NAMES` order, read by the
    caller in a statement of its own)."""
    return (db.alias, db.settings_dict["NAME"], *(read_stamp() if stamp is None else stamp))


def routing(stamp: tuple | None = None) -> Routing:
    """The current connections and defaults: from this process's copy when the stamp (read now,
    or given: the values of `stamp_expressions` in `STAMP_NAMES` order, read by the caller)
    says nothing changed, else read again (two queries)."""
    global _cached
    stamp = current_stamp(stamp)
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
