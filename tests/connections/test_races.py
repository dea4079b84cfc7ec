"""Two operators at once: a refused replacement racing a disconnect, with real threads and
database connections (the race is forced at the moment the refusal reads the stored row)."""

from __future__ import annotations

import threading

import pytest
import responses
from django.db import connection as db
from django.db import connections

from connections import services
from connections.models import Connection, HealthSnapshot
from koda.context import Context
from koda.models import AuditEvent
from providers.registry import PROVIDERS
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)
GOOD = "gsk_GoodKeyForKodaTests0123456789abcdefABCDEFGH"
BAD = "gsk_BadKeyForKodaTests0123456789abcdefABCDEFGHI"
INVALID = {"error": {"message": "Invalid API Key", "code": "invalid_api_key"}}


def test_a_refused_replacement_racing_a_disconnect_loses_nothing():
    groq = PROVIDERS["groq"]
    make_connection("groq", api_key=GOOD)
    read, disconnected = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def after_the_refusal_reads_the_row(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not read.is_set() and 'FROM "connections_connection"' in sql:
            read.set()
            # Let the other operator disconnect now. Holding the row lock, the refusal is not
            # waited on forever: the disconnect waits for it instead.
            disconnected.wait(timeout=1.0)
        return result

    def other_operator_disconnects() -> None:
        try:
            read.wait(timeout=10)
            services.connection_disconnect(provider=groq, ctx=Context.command("other"))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            disconnected.set()
            connections.close_all()

    other = threading.Thread(target=other_operator_disconnects)
    other.start()
    with responses.RequestsMock() as rsps:
        rsps.add("GET", "https://api.groq.com/openai/v1/models", status=401, json=INVALID)
        with db.execute_wrapper(after_the_refusal_reads_the_row):
            configured = services.connection_configure(
                provider=groq, method="api_key", data={"api_key": BAD}, ctx=Context.command("ada")
            )
    other.join(timeout=30)
    assert not errors, errors
    assert configured.connection is None and configured.result.outcome == "invalid_credentials"
    refused = AuditEvent.objects.get(action="connection.configure_refused")
    assert refused.diff["kept_existing"] is True
    assert AuditEvent.objects.filter(action="connection.disconnect").count() == 1
    assert HealthSnapshot.objects.get().candidate is True
    assert not Connection.objects.exists()
