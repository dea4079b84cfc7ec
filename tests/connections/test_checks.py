"""check_apply's fields: a check saves only what it may change (CHECK_FIELDS), so the list must
name every field check_apply touches, whatever the result."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import responses
from django.db import connection as db
from django.utils import timezone

from connections.checks import CHECK_FIELDS, check_apply
from connections.models import Connection, Status
from connections.services import connection_verify
from koda.context import Context
from providers.registry import PROVIDERS
from providers.values import Model, Outcome, VerificationResult
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db

RESULTS = [
    VerificationResult(True, Outcome.OK, "ok", models=[Model.of("m1")], details={"v": "1"}),
    VerificationResult(False, Outcome.TIMEOUT, "slow", remedy="wait", latency_ms=10_000),
    VerificationResult(False, Outcome.INVALID_CREDENTIALS, "no", remedy="new key"),
]


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: str(r.outcome))
def test_every_field_check_apply_changes_is_saved(result):
    connection = make_connection(
        "groq",
        api_key="gsk_" + "c" * 48,
        status=Status.DEGRADED,
        credential_expires_at=timezone.now() + timedelta(hours=1),
    )
    before = copy.deepcopy(connection.__dict__)
    check_apply(connection, result)
    changed = {
        f.attname
        for f in Connection._meta.concrete_fields
        if getattr(connection, f.attname) != before.get(f.attname)
    }
    assert changed and changed <= set(CHECK_FIELDS), changed - set(CHECK_FIELDS)


def raw_secrets() -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT secrets FROM connections_connection WHERE provider_id = 'groq'")
        return str(cursor.fetchone()[0])


@responses.activate
def test_a_check_leaves_the_stored_credential_alone():
    """The check's save names its fields: the encrypted secrets are not rewritten (a rewrite
    would encrypt again, under a new IV, and change the stored bytes)."""
    make_connection("groq", api_key="gsk_" + "d" * 48, status=Status.VERIFIED)
    before = raw_secrets()
    responses.add("GET", "https://api.groq.com/openai/v1/models", status=503, body="busy")
    _, result = connection_verify(provider=PROVIDERS["groq"], ctx=Context.command("tests"))
    assert result.outcome == Outcome.PROVIDER_UNAVAILABLE
    stored = Connection.objects.get(provider_id="groq")
    assert stored.status == Status.DEGRADED and stored.last_checked_at is not None
    assert raw_secrets() == before
    assert stored.secrets == {"api_key": "gsk_" + "d" * 48}
