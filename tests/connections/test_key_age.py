"""Key age (issue 15, item 5): when each credential was stored, in the API and on its page, and a
rotation warning past KODA_KEY_ROTATION_DAYS. A refused replacement keeps the old key's age; a
rotation starts it again; the cached catalog turns the warning on when the time comes."""

from __future__ import annotations

import importlib
import time
from datetime import timedelta

import pytest
import responses
from django.apps import apps
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connections.models import Connection, Status
from koda.audit import audit_record
from koda.context import Context
from koda.models import AuditEvent
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
MODELS = "https://api.groq.com/openai/v1/models"
GOOD = {"object": "list", "data": [{"id": "llama-3.1-8b-instant", "object": "model"}]}
REFUSED = {"error": {"message": "Invalid API Key", "type": "invalid_request_error",
                     "code": "invalid_api_key"}}  # fmt: skip
KEY, OTHER = "gsk_" + "a" * 48, "gsk_" + "b" * 48


def state(api) -> dict:
    return api.get("/providers/groq/connection").json()["connection"]


def age(days: float) -> None:
    connection = Connection.objects.get(provider_id="groq")
    connection.credential_stored_at = timezone.now() - timedelta(days=days)
    connection.save()


@responses.activate
def test_the_stored_time_and_the_rotation_warning(api, operator_client, settings):
    settings.KODA_KEY_ROTATION_DAYS = 30
    responses.add("GET", MODELS, json=GOOD)
    before = timezone.now()
    api.call("PUT", "/providers/groq/connection/api-key", {"api_key": KEY})
    stored = parse_datetime(state(api)["credential_stored_at"])
    assert before <= stored <= timezone.now() and state(api)["rotation_due"] is False

    age(31)
    assert state(api)["rotation_due"] is True
    page = operator_client.get("/providers/groq/").content.decode()
    assert 'data-testid="rotation-due"' in page and "older than 30 days" in page
    catalog = {p["id"]: p for p in api.get("/connections/catalog").json()["providers"]}
    assert catalog["groq"]["connection"]["rotation_due"] is True

    # A refused replacement: the old key, and its age, stay.
    responses.replace("GET", MODELS, status=401, json=REFUSED)
    answer = api.call("PUT", "/providers/groq/connection/api-key", {"api_key": OTHER})
    assert answer.status_code == 422 and state(api)["rotation_due"] is True
    # A rotation starts the age again.
    responses.replace("GET", MODELS, json=GOOD)
    api.call("PUT", "/providers/groq/connection/api-key", {"api_key": OTHER})
    assert state(api)["rotation_due"] is False
    assert (
        'data-testid="rotation-due"' not in operator_client.get("/providers/groq/").content.decode()
    )


def test_off_by_default(api, settings):
    settings.KODA_KEY_ROTATION_DAYS = 0
    make_connection("groq", api_key=KEY, status=Status.VERIFIED)
    age(3650)
    assert state(api)["rotation_due"] is False and state(api)["credential_stored_at"]


def test_the_kept_catalog_turns_the_warning_on_when_the_key_falls_due(api, settings):
    """Nothing is written when a key falls due: the cached catalog must expire by itself."""
    settings.KODA_KEY_ROTATION_DAYS = 30
    make_connection("groq", api_key=KEY, status=Status.VERIFIED)
    age(30 - 1.5 / 86400)  # due in 1.5 s

    def due() -> bool:
        providers = api.get("/connections/catalog").json()["providers"]
        return {p["id"]: p for p in providers}["groq"]["connection"]["rotation_due"]

    assert due() is False and state(api)["rotation_due"] is False
    time.sleep(1.7)
    assert due() is True and state(api)["rotation_due"] is True  # the kept state expires too


def test_the_migration_dates_existing_keys_from_the_audit_trail(operator):
    backfill = importlib.import_module("connections.migrations.0009_credential_stored_at").backfill
    groq = make_connection("groq", api_key=KEY)
    mistral = make_connection("mistral", api_key="m" * 32)
    Connection.objects.update(credential_stored_at=None)
    audit_record(ctx=Context.command("t", operator), action="connection.configure",
                 target="provider:groq")  # fmt: skip
    when = timezone.now() - timedelta(days=40)
    AuditEvent.objects.filter(target="provider:groq").update(created_at=when)
    backfill(apps, None)
    assert Connection.objects.get(pk=groq.pk).credential_stored_at == when
    assert Connection.objects.get(pk=mistral.pk).credential_stored_at == mistral.created_at
