"""Lookups on the hot read paths, compiled once: `Lookup(Model, "field", ...)` is
`Model.objects.filter(field=value, **fixed).first()` (no ordering: the field is unique), with
chosen related rows joined in, built by the ORM once per database vendor and then only executed.

For the small rows the API reads on every request (an API token by its hash, a connection by
its provider id) the ORM's per-query compile costs several times the query itself. Rows come
back as the queryset would give them: the same converters (JSON, encrypted and date fields),
instances made by `Model.from_db`, related instances attached, deferred fields deferred.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection as db
from django.db.models import Model

_VALUE = "<the lookup's value>"  # where the value goes among the compiled query's parameters


class Lookup:
    def __init__(
        self,
        model: type[Model],
        field: str,
        *,
        related: Sequence[str] = (),
        defer: Sequence[str] = (),
        **fixed: Any,
    ) -> None:
        self.model, self.field, self.related, self.defer, self.fixed = (
            model,
            field,
            tuple(related),
            frozenset(defer),
            fixed,
        )
        self._compiled: dict[str, tuple] = {}

    def _columns(self) -> list[tuple[type[Model], str | None, list[str]]]:
        """(model, relation or None, attnames) for the row and each related row."""
        own = [f.attname for f in self.model._meta.concrete_fields if f.name not in self.defer]
        parts = [(self.model, None, own)]
        for name in self.related:
            other = self.model._meta.get_field(name).related_model
            parts.append((other, name, [f.attname for f in other._meta.concrete_fields]))
        return parts

    def _compile(self) -> tuple:
        parts = self._columns()
        paths = [n if rel is None else f"{rel}__{n}" for _, rel, names in parts for n in names]
        queryset = self.model._default_manager.filter(**{self.field: _VALUE}, **self.fixed)
        query = queryset.order_by().values_list(*paths)[:1].query
        sql, params = query.sql_with_params()
        compiler = query.get_compiler(connection=db)
        compiler.setup_query()
        columns = []
        for expression, _, _ in compiler.select:
            converters = [*db.ops.get_db_converters(expression)]
            converters += expression.get_db_converters(db)
            columns.append((expression, converters))
        return sql, params, columns, parts

    def first(self, value: Any) -> Model | None:
        compiled = self._compiled.get(db.vendor)
        if compiled is None:
            compiled = self._compiled[db.vendor] = self._compile()
        sql, params, columns, parts = compiled
        with db.cursor() as cursor:
            cursor.execute(sql, [value if p == _VALUE else p for p in params])
            row = cursor.fetchone()
        if row is None:
            return None
        values = []
        for raw, (expression, converters) in zip(row, columns, strict=True):
            for convert in converters:
                raw = convert(raw, expression, db)
            values.append(raw)
        instances, start = [], 0
        for model, _, names in parts:
            chunk = values[start : start + len(names)]
            start += len(names)
            instances.append(model.from_db(db.alias, names, chunk))
        main = instances[0]
        for (_, relation, _), instance in zip(parts[1:], instances[1:], strict=True):
            setattr(main, relation, instance)
        return main
