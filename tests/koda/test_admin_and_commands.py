"""Admin is read-only for audit records and renders no secret; the operator commands work."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from connections.models import HealthSnapshot
from koda.audit import SecretInAuditDiff, audit_record
from koda.context import Actor, ActorKind, Context, Via
from koda.models import AuditEvent
from tests.conftest import make_connection

SECRET = "sk-ant-api03-AdminMustNeverShowThis-0123456789"


@pytest.fixture
def records(operator):
    connection = make_connection(
        "anthropic", api_key=SECRET, base_url="https://claude-gateway.example"
    )
    HealthSnapshot.objects.create(
        provider_id="anthropic",
        connection=connection,
        ok=True,
        outcome="ok",
        message="ok",
        trigger="api",
    )
    audit_record(
        ctx=Context(Actor(ActorKind.OPERATOR, operator), Via.API),
        action="connection.configure",
        target="provider:anthropic",
        diff={"secret_hint": "sk-ant-…6789"},
    )
    return connection


@pytest.mark.parametrize("model", ["connection", "healthsnapshot"])
def test_it_shows_connections_and_snapshots_without_the_secret(operator_client, records, model):
    app = "connections"
    listing = operator_client.get(f"/admin/{app}/{model}/")
    assert listing.status_code == 200
    obj = records if model == "connection" else HealthSnapshot.objects.get()
    detail = operator_client.get(f"/admin/{app}/{model}/{obj.pk}/change/")
    assert detail.status_code == 200
    for page in (listing, detail):
        assert b"AdminMustNeverShowThis" not in page.content
    if model == "connection":  # the health schedule is part of what auditors see
        assert b"Next check at" in detail.content and b"Last ok at" in detail.content
        # The credential's public fields, labelled as the adapter declares them.
        assert b"<dt>Base URL</dt><dd><code>https://claude-gateway.example</code>" in detail.content
    assert operator_client.get(f"/admin/{app}/{model}/add/").status_code == 403


def test_it_filters_audit_events_and_forbids_edits(operator_client, records):
    event = AuditEvent.objects.get(action="connection.configure")
    response = operator_client.get("/admin/koda/auditevent/?action=connection.configure")
    assert response.status_code == 200 and b"provider:anthropic" in response.content
    assert operator_client.post(f"/admin/koda/auditevent/{event.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_filters_snapshots_by_provider_and_outcome(operator_client, records):
    response = operator_client.get(
        "/admin/connections/healthsnapshot/?provider_id=anthropic&outcome=ok"
    )
    assert response.status_code == 200 and b"1 health snapshot" in response.content


@pytest.mark.parametrize(
    "diff",
    [
        {"api_key": "x"},
        {"before": {"secret": "x"}},
        {"changes": [{"password": "x"}]},
        {"token": "x"},
    ],
)
def test_it_refuses_an_audit_diff_that_names_a_secret(operator, diff):
    with pytest.raises(SecretInAuditDiff):
        audit_record(ctx=Context.command("tests"), action="x", target="y", diff=diff)
    assert not AuditEvent.objects.filter(action="x").exists()


def test_it_creates_an_operator_from_the_command(db):
    out = StringIO()
    call_command(
        "createoperator", "--username", "lin", "--password", "a sturdy passphrase", stdout=out
    )
    user = get_user_model().objects.get(username="lin")
    assert user.is_staff and user.check_password("a sturdy passphrase")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createoperator", "--username", "lin", "--password", "another passphrase")
    with pytest.raises(CommandError, match="password rejected"):
        call_command("createoperator", "--username", "kim", "--password", "123")


def test_it_generates_one_operator_once_and_prints_it(db, settings):
    settings.KODA_OPERATOR_USERNAME = settings.KODA_OPERATOR_PASSWORD = ""
    out = StringIO()
    call_command("ensure_operator", stdout=out)
    text = out.getvalue()
    password = text.split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="operator").check_password(password)
    again = StringIO()
    call_command("ensure_operator", stdout=again)
    assert again.getvalue() == "" and get_user_model().objects.count() == 1


def test_it_takes_the_operator_from_the_environment(db, settings):
    settings.KODA_OPERATOR_USERNAME, settings.KODA_OPERATOR_PASSWORD = "ops", "from the env 123"
    out = StringIO()
    call_command("ensure_operator", stdout=out)
    assert out.getvalue() == ""
    assert get_user_model().objects.get(username="ops").check_password("from the env 123")
