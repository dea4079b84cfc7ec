"""Queries on the hot read paths, compiled once. `Row(build)` runs a `values_list` queryset that
filters on `VALUE` with a new value each time, and gives its first row through the ORM's
converters. `Lookup(Model, "field", ...)` is
`Model.objects.filter(field=value, **fixed).first()` (no ordering: the field is unique, or at
most one row matches), with chosen related rows joined in, optionally `FOR UPDATE`, optionally
with annotations read in the same statement (set on the instance as the ORM's `annotate` sets
them), built by the ORM once per database vendor and then only executed.

For the small rows the API reads on every request (an API token by its hash, a connection by
its provider id) the ORM's per-query compile costs several times the query itself. Rows come
back as the queryset would give them: the same converters (JSON, encrypted and date fields),
instances made by `Model.from_db`, related instances attached, deferred fields deferred.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection as db
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.models import IntegerField, Model, QuerySet

VALUE = "<the lookup's value>"  # where the value goes among the compiled query's parameters
# The same for an integer column (the ORM refuses text there): a value no row's key takes.
INT_VALUE = -7_919_191_919_191_919


class Row:
    """The first row of `build()` (a `values_list` queryset filtering on VALUE), compiled once
    per database vendor, its columns converted as the queryset would convert them."""

    def __init__(self, build: Callable[[], QuerySet]) -> None:
        self._build = build
        self._compiled: dict[str, tuple] = {}

    def _compile(self) -> tuple:
        query = self._build().query
        sql, params = query.sql_with_params()
        qmark = None
        if db.vendor == "sqlite":
            # Django's SQLite cursor turns "%s" into "?" on every call, a regex over the whole
            # statement (a fifth of a short query's cost): done once here instead.
            qmark = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
        compiler = query.get_compiler(connection=db)
        compiler.setup_query()
        columns = []
        for expression, _, _ in compiler.select:
            converters = [*db.ops.get_db_converters(expression)]
            converters += expression.get_db_converters(db)
            columns.append((expression, converters))
        return sql, params, columns, qmark

    def first(self, value: Any) -> list | None:
        compiled = self._compiled.get(db.vendor)
        if compiled is None:
            compiled = self._compiled[db.vendor] = self._compile()
        sql, params, columns, qmark = compiled
        args = [value if _is_value(p) else p for p in params]
        with db.cursor() as cursor:
            if qmark is not None and not (db.queries_logged or db.execute_wrappers):
                # What CursorWrapper.execute does around the backend's execute, but the query
                # conversion. Logged or wrapped queries (debug, tests) take the usual path.
                db.validate_no_broken_transaction()
                with db.wrap_database_errors:
                    sqlite3.Cursor.execute(cursor.cursor, qmark, args)
            else:
                cursor.execute(sql, args)
            row = cursor.fetchone()
        if row is None:
            return None
        values = []
        for raw, (expression, converters) in zip(row, columns, strict=True):
            for convert in converters:
                raw = convert(raw, expression, db)
            values.append(raw)
        return values


def _is_value(param: Any) -> bool:
    return (isinstance(param, str) and param == VALUE) or (
        isinstance(param, int) and param == INT_VALUE
    )


class Lookup:
    def __init__(
        self,
        model: type[Model],
        field: str,
        *,
        related: Sequence[str] = (),
        defer: Sequence[str] = (),
        for_update: bool = False,
        annotations: Callable[[], dict[str, Any]] | None = None,
        **fixed: Any,
    ) -> None:
        """`annotations`: a callable giving `annotate()`'s keyword arguments (called when the
        query is first compiled, once the apps are ready), e.g. scalar subqueries that a caller
        wants read with the row rather than in a statement of their own."""
        self.model, self.field, self.related, self.defer, self.fixed = (
            model,
            field,
            tuple(related),
            frozenset(defer),
            fixed,
        )
        self.for_update = for_update  # SELECT … FOR UPDATE, where the database has it
        self.annotations = annotations
        self._annotated: tuple[str, ...] = ()
        self._parts = None
        self._row = Row(self._queryset)

    def _columns(self) -> list[tuple[type[Model], str | None, list[str]]]:
        """(model, relation or None, attnames) for the row and each related row."""
        if self._parts is None:
            own = [f.attname for f in self.model._meta.concrete_fields if f.name not in self.defer]
            parts = [(self.model, None, own)]
            for name in self.related:
                other = self.model._meta.get_field(name).related_model
                parts.append((other, name, [f.attname for f in other._meta.concrete_fields]))
            self._parts = parts
        return self._parts

    def _queryset(self) -> QuerySet:
        paths = [
            n if rel is None else f"{rel}__{n}" for _, rel, names in self._columns() for n in names
        ]
        meta = self.model._meta
        field = meta.pk if self.field == "pk" else meta.get_field(self.field)
        column = field.target_field if field.is_relation else field
        numeric = isinstance(column, IntegerField)  # AutoFields are IntegerFields too
        queryset = self.model._default_manager.filter(
            **{self.field: INT_VALUE if numeric else VALUE}, **self.fixed
        )
        if self.for_update:
            queryset = queryset.select_for_update()
        if self.annotations is not None:
            annotations = self.annotations()
            queryset = queryset.annotate(**annotations)
            self._annotated = tuple(annotations)
            paths += self._annotated
        return queryset.order_by().values_list(*paths)[:1]

    def first(self, value: Any) -> Model | None:
        values = self._row.first(value)
        if values is None:
            return None
        instances, start = [], 0
        parts = self._columns()
        for model, _, names in parts:
            chunk = values[start : start + len(names)]
            start += len(names)
            instances.append(model.from_db(db.alias, names, chunk))
        main = instances[0]
        for (_, relation, _), instance in zip(parts[1:], instances[1:], strict=True):
            setattr(main, relation, instance)
        for name, value in zip(self._annotated, values[start:], strict=True):
            setattr(main, name, value)
        return main
