"""koda.postgresql: Django's health check before a request's first query, skipped for a
connection used within the last second, kept for one idle longer (and a dead one replaced)."""

from __future__ import annotations

import time

import pytest
from django.db import connection, connections

from koda.postgresql import base

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL backend (CI runs the suite there)"
)


@pytest.fixture
def wrapper():
    """A connection of its own, outside the test's transaction, as a web thread has."""
    other = connections.create_connection("default")
    assert isinstance(other, base.DatabaseWrapper)
    yield other
    other.close()


def new_request(db) -> None:
    """What Django does when a request starts (the signal runs close_old_connections)."""
    db.close_if_unusable_or_obsolete()


def counted_checks(db, monkeypatch) -> list[bool]:
    checks: list[bool] = []
    real = db.is_usable

    def is_usable() -> bool:
        checks.append(usable := real())
        return usable

    monkeypatch.setattr(db, "is_usable", is_usable)
    return checks


def backend_pid(db) -> int:
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_connection_used_just_now_is_not_checked_again(wrapper, monkeypatch):
    wrapper.health_check_enabled = True
    first = backend_pid(wrapper)
    checks = counted_checks(wrapper, monkeypatch)
    for _ in range(3):
        new_request(wrapper)
        assert backend_pid(wrapper) == first
    assert checks == []  # no SELECT 1 round trip before these requests' queries


@pytest.mark.django_db
def test_an_idle_connection_is_checked_and_a_dead_one_replaced(wrapper, monkeypatch):
    wrapper.health_check_enabled = True
    first = backend_pid(wrapper)
    checks = counted_checks(wrapper, monkeypatch)
    monkeypatch.setattr(base, "FRESH_SECONDS", 0.05)
    time.sleep(0.1)
    new_request(wrapper)
    assert backend_pid(wrapper) == first and checks == [True]
    # The server ends the connection (a restart, an idle timeout) while Koda is quiet.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    time.sleep(0.1)
    new_request(wrapper)
    replaced = backend_pid(wrapper)  # the request's query runs on a new connection, no error
    assert checks == [True, False] and replaced != first
