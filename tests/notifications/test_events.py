"""Events from real checks, delivered to a real webhook receiver on 127.0.0.1: one notification
per incident and one on recovery, never one per sweep; signed; naming the provider by its
display name, with outcome, message, remedy and a link, and never the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.utils import timezone

from connections import services
from connections.models import Connection, Status
from koda.context import Context
from notifications import services as channels
from notifications.models import Delivery, Event
from providers.registry import PROVIDERS
from providers.values import AuthMethod, Credential
from tests.conftest import make_connection
from tests.fake_provider import INVALID, MODELS

pytestmark = pytest.mark.django_db(transaction=True)
GROQ = "https://api.groq.com/openai/v1/models"
KEY = "gsk_" + "N0t1fy" * 8
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    now = [START]
    monkeypatch.setattr(timezone, "now", lambda: now[0])
    return now


@pytest.fixture
def groq(receiver, immediate):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(receiver.url(""))
        mock.add("GET", GROQ, json=MODELS)
        make_connection("groq", api_key=KEY, status=Status.VERIFIED)
        yield mock


def webhook(receiver, events=None):
    saved = channels.channel_save(
        data={"kind": "webhook", "name": "on-call", "url": receiver.url(), "events": events},
        ctx=Context.command("tests"),
    )
    return saved.channel, saved.signing_secret


def sweep(mock, status: int, clock=None, minutes: int = 5) -> None:
    body = MODELS if status == 200 else INVALID if status == 401 else {"error": "busy"}
    mock.replace("GET", GROQ, json=body, status=status)
    services.connection_verify(provider=PROVIDERS["groq"], ctx=Context.sweep())
    if clock is not None:
        clock[0] += timedelta(minutes=minutes)


def test_a_failing_incident_is_told_once_and_its_recovery_once(groq, receiver):
    channel, secret = webhook(receiver)
    for status in (200, 401, 401, 401, 401, 200, 200, 200):
        sweep(groq, status)
    assert receiver.events() == ["failing", "recovered"]
    failing, recovered = receiver.received
    assert all(r.signed_by(secret) for r in receiver.received)
    assert not failing.signed_by("another secret")
    assert failing.headers["content-type"] == "application/json"
    assert failing.headers["x-koda-event"] == "failing"
    body = failing.json
    assert body["provider"] == {"id": "groq", "name": "Groq"}
    assert body["outcome"] == "invalid_credentials" and body["message"] and body["remedy"]
    assert body["url"] == "http://localhost:8000/providers/groq/"
    assert body["incident"]["began_at"] and body["incident"]["ended_at"] is None
    assert recovered.json["incident"]["ended_at"] and "recovered" in recovered.json["title"]
    for raw in (r.body.decode() for r in receiver.received):
        assert KEY not in raw and KEY[-12:] not in raw
    log = list(Delivery.objects.order_by("created_at").values_list("event_kind", "ok", "attempt"))
    assert log == [("failing", True, 1), ("recovered", True, 1)]
    channel.refresh_from_db()
    assert channel.failing_since is None and channel.last_delivered_at is not None


def test_degraded_is_told_only_once_it_lasted_and_a_blip_is_not_told_at_all(
    groq, receiver, clock, settings
):
    settings.KODA_NOTIFY_DEGRADED_AFTER_SECONDS = 900
    webhook(receiver)
    for status in (503, 503, 200):  # ten minutes degraded: below the threshold, never told
        sweep(groq, status, clock)
    assert receiver.events() == []
    for status in (503, 503, 503, 503, 503, 503):  # 25 minutes degraded
        sweep(groq, status, clock)
    assert receiver.events() == ["degraded"]
    assert "degraded for 15 minutes" in receiver.received[0].json["title"]
    sweep(groq, 401, clock)  # then a refused key: worse news, told
    sweep(groq, 401, clock)
    sweep(groq, 200, clock)
    assert receiver.events() == ["degraded", "failing", "recovered"]
    assert Event.objects.count() == 3


def test_a_channel_hears_only_the_events_it_chose(groq, receiver):
    webhook(receiver, events=["recovered"])
    for status in (401, 401, 200):
        sweep(groq, status)
    assert receiver.events() == ["recovered"]


def test_a_refused_new_key_is_told_and_the_stored_one_kept(groq, receiver):
    webhook(receiver)
    groq.replace("GET", GROQ, json=INVALID, status=401)
    services.connection_configure_credential(
        provider=PROVIDERS["groq"],
        credential=Credential(AuthMethod.API_KEY, {}, {"api_key": "gsk_" + "R3fused" * 7}),
        ctx=Context.command("tests"),
    )
    assert receiver.events() == ["rotation_refused"]
    body = receiver.received[0].json
    assert body["outcome"] == "invalid_credentials" and "refused" in body["title"]
    assert "R3fused" not in receiver.received[0].body.decode()
    assert Connection.objects.get().credential == Credential(
        AuthMethod.API_KEY, {}, {"api_key": KEY}
    )


def test_a_key_past_the_rotation_age_is_told_once(groq, receiver, settings):
    settings.KODA_KEY_ROTATION_DAYS = 30
    Connection.objects.update(credential_stored_at=timezone.now() - timedelta(days=45))
    webhook(receiver)
    for _ in range(3):
        sweep(groq, 200)
    assert receiver.events() == ["key_age"]
    assert "older than 30 days" in receiver.received[0].json["title"]


def support_bot(model: str = "llama-3.3-70b-versatile"):
    from agents.services import agent_create, policy_set

    ctx = Context.command("tests")
    agent = agent_create(slug="support-bot", name="Support bot", ctx=ctx)
    policy_set(
        agent=agent, data={"roles": {"triage": {"provider": "groq", "model": model}}}, ctx=ctx
    )
    return agent


def test_a_model_in_use_that_the_provider_stops_offering_is_told_once(groq, receiver):
    sweep(groq, 200)  # the model list is known
    support_bot()
    Connection.objects.update(default_model="llama-3.1-8b-instant")
    webhook(receiver, events=["model_drift"])
    fewer = {"object": "list", "data": [m for m in MODELS["data"] if "70b" not in m["id"]]}
    for _ in range(3):
        groq.replace("GET", GROQ, json=fewer)
        services.connection_verify(provider=PROVIDERS["groq"], ctx=Context.sweep())
    assert receiver.events() == ["model_drift"]
    body = receiver.received[0].json
    assert body["model"] == "llama-3.3-70b-versatile"
    assert body["used_by"] == ["Support bot (triage)"]
    assert body["title"] == (
        "Groq no longer offers llama-3.3-70b-versatile, used by Support bot (triage)"
    )
    # Its role has nothing else to use: that is told too (to channels that chose it), once.
    (left,) = Event.objects.filter(kind="no_candidate")
    assert "no longer offers the model" in left.body["skipped"]


def test_an_agent_role_left_without_a_candidate_is_told_once_per_outage(groq, receiver):
    sweep(groq, 200)
    support_bot()
    webhook(receiver, events=["no_candidate"])
    for status in (401, 401, 401):
        sweep(groq, status)
    assert receiver.events() == ["no_candidate"]
    body = receiver.received[0].json
    assert body["agent"] == {"id": "support-bot", "name": "Support bot"}
    assert body["role"] == "triage" and "groq llama-3.3-70b-versatile: failing" in body["skipped"]
    assert body["title"] == "Support bot: the triage role has no usable model left"
    sweep(groq, 200)  # it resolves again: the condition is over
    assert Event.objects.get(kind="no_candidate").resolved_at is not None
    sweep(groq, 401)  # a new outage, a new notification
    assert receiver.events() == ["no_candidate", "no_candidate"]


def test_low_credit_is_told_once_until_it_is_topped_up(receiver, immediate):
    from tests.providers.test_adapters import DEEPSEEK_BALANCE

    deepseek = "https://api.deepseek.com"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(receiver.url(""))
        mock.add("GET", deepseek + "/models", json={"object": "list", "data": [{"id": "m"}]})
        mock.add("GET", deepseek + "/user/balance", json=DEEPSEEK_BALANCE)
        make_connection(
            "deepseek",
            api_key="sk-" + "c" * 32,
            status=Status.VERIFIED,
            credit_threshold=5.0,
            credit_threshold_unit="amount",
        )
        webhook(receiver, events=["low_credit"])
        for amount in ("4.10", "3.90", "3.50", "60.00", "60.00", "2.00"):
            body = {
                **DEEPSEEK_BALANCE,
                "balance_infos": [{"currency": "USD", "total_balance": amount}],
            }
            mock.replace("GET", deepseek + "/user/balance", json=body)
            services.connection_verify(provider=PROVIDERS["deepseek"], ctx=Context.sweep())
    assert receiver.events() == ["low_credit", "low_credit"]  # 4.10, then again after the top-up
    first = receiver.received[0].json
    assert first["title"] == "DeepSeek credit is low: 4.10 USD (threshold 5)"
    assert first["credit"] == {"amount": 4.1, "unit": "USD", "share_left": None}
    assert first["remedy"] == "Add credit at https://platform.deepseek.com/top_up."
    assert first["provider"] == {"id": "deepseek", "name": "DeepSeek"}


def test_a_failure_to_raise_events_never_costs_the_check_its_record(groq, receiver, monkeypatch):
    from connections.models import HealthSnapshot
    from notifications import events

    webhook(receiver)

    def broken(*args, **kwargs):
        Event.objects.create(kind="failing", key="half-written", provider_id="groq", body={})
        raise RuntimeError("a bug in an event rule")

    monkeypatch.setattr(events, "events_from_check", broken)
    sweep(groq, 401)
    assert Connection.objects.get().status == Status.FAILING
    assert HealthSnapshot.objects.filter(outcome="invalid_credentials").count() == 1
    assert not Event.objects.exists() and receiver.events() == []  # its writes rolled back


def test_a_check_that_is_no_news_costs_no_savepoint(groq, receiver):
    """Most of a sweep's checks raise nothing: they skip the savepoint (two round trips per
    check); a check that is news still raises its event in one."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    webhook(receiver)

    def savepoints(status: int) -> list[str]:
        with CaptureQueriesContext(db) as captured:
            sweep(groq, status)
        return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" in q["sql"]]

    assert savepoints(200) != []  # the first model list: news for the agents' roles
    assert savepoints(200) == []
    assert Event.objects.count() == 0
    assert savepoints(401) != []
    assert list(Event.objects.values_list("kind", flat=True)) == ["failing"]
    assert savepoints(401) != []  # the incident goes on: its rules read the events told
    assert savepoints(200) != []  # recovered
    assert sorted(Event.objects.values_list("kind", flat=True)) == ["failing", "recovered"]
    assert savepoints(200) == []
