"""koda.prepared.Lookup gives what the ORM gives: the same fields through the same converters,
deferred fields deferred, related rows attached, fixed filters applied."""

from __future__ import annotations

import pytest
from django.utils import timezone

from connections.models import Connection
from koda.context import Context
from koda.models import ApiToken
from koda.prepared import Lookup
from koda.tokens import api_token_create, api_token_revoke, token_digest
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in instance.get_deferred_fields()
    }


def test_a_row_reads_as_the_orm_reads_it():
    make_connection(
        "groq",
        api_key="gsk_" + "p" * 48,
        discovered_models=[{"id": "llama", "context_length": 8192}],
        base_url="https://gw.example/openai/v1",
        verified_at=timezone.now(),
    )
    lookup = Lookup(Connection, "provider_id", defer=["secrets"])
    fast = lookup.first("groq")
    slow = Connection.objects.defer("secrets").get(provider_id="groq")
    assert fields(fast) == fields(slow)
    assert fast.get_deferred_fields() == {"secrets"}
    assert fast.discovered_models == [{"id": "llama", "context_length": 8192}]
    assert timezone.is_aware(fast.verified_at)
    # Deferred, not lost: asked for, it is read and decrypted like any deferred field.
    assert fast.secrets == {"api_key": "gsk_" + "p" * 48}
    assert lookup.first("nonesuch") is None


def test_related_rows_and_fixed_filters(operator):
    token, plaintext = api_token_create(operator=operator, name="ci", ctx=Context.command("t"))
    lookup = Lookup(ApiToken, "token_hash", related=["operator"], revoked_at__isnull=True)
    found = lookup.first(token_digest(plaintext))
    assert found.pk == token.pk and fields(found) == fields(ApiToken.objects.get(pk=token.pk))
    assert found.operator.pk == operator.pk and found.operator.username == operator.username
    assert found.operator.is_staff and found.operator.is_active
    api_token_revoke(token=token, ctx=Context.command("t"))
    assert lookup.first(token_digest(plaintext)) is None  # the moment it is revoked


def test_integer_keys_fixed_null_filters_and_for_update():
    """By an integer foreign key, with `ended_at=None` fixed and FOR UPDATE (as a check reads
    its open incident and its locked connection)."""
    from django.db import connection as db
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from connections.models import Incident

    connection = make_connection("groq", api_key="gsk_" + "i" * 48)
    other = make_connection("mistral", api_key="m" * 32)
    now = timezone.now()
    Incident.objects.create(connection=connection, outcome="timeout", began_at=now, ended_at=now)
    open_ = Incident.objects.create(connection=connection, outcome="billing", began_at=now)
    lookup = Lookup(Incident, "connection_id", ended_at=None)
    assert lookup.first(connection.pk).pk == open_.pk
    assert lookup.first(other.pk) is None
    assert fields(lookup.first(connection.pk)) == fields(Incident.objects.get(pk=open_.pk))
    by_pk = Lookup(Connection, "pk")
    assert by_pk.first(other.pk).provider_id == "mistral"
    locked = Lookup(Connection, "provider_id", for_update=True)
    with transaction.atomic(), CaptureQueriesContext(db) as queries:
        assert locked.first("groq").pk == connection.pk
    if db.features.has_select_for_update:
        assert "FOR UPDATE" in queries[-1]["sql"]


def test_annotations_are_read_in_the_same_statement(operator):
    """As the operator token lookup reads the routing stamp: a scalar subquery beside the row,
    set on the instance as `annotate` sets it, and current on every call."""
    from django.db import connection as db
    from django.db.models import Count, Subquery
    from django.test.utils import CaptureQueriesContext

    def counted() -> dict:
        others = (
            Connection.objects.order_by()
            .values("auth_method")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
        return {"connections": Subquery(others)}

    token, plaintext = api_token_create(operator=operator, name="ci", ctx=Context.command("t"))
    lookup = Lookup(ApiToken, "token_hash", related=["operator"], annotations=counted)
    with CaptureQueriesContext(db) as queries:
        found = lookup.first(token_digest(plaintext))
    assert len(queries) == 1
    assert found.pk == token.pk and found.operator.pk == operator.pk
    assert found.connections is None  # no connection yet: the subquery's NULL
    make_connection("groq", api_key="gsk_" + "a" * 48)
    make_connection("mistral", api_key="m" * 32)
    assert lookup.first(token_digest(plaintext)).connections == 2
    assert fields(lookup.first(token_digest(plaintext))) == fields(
        ApiToken.objects.get(pk=token.pk)
    )
