"""Credit, from the providers' real balance bodies: recorded per check and on the connection,
shown with its 7-day trend on the provider page and in Operations, and a low-credit threshold
per connection (amount or percent) set from the API and the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from connections import services
from connections.models import Connection, HealthSnapshot, Status
from koda.context import Context
from koda.models import AuditEvent
from providers.registry import PROVIDERS
from tests.conftest import assert_error, make_connection
from tests.providers.test_adapters import DEEPSEEK_BALANCE, SUBSCRIPTION

pytestmark = pytest.mark.django_db
DEEPSEEK = "https://api.deepseek.com"
MODELS = {"object": "list", "data": [{"id": "deepseek-chat", "object": "model"}]}


def balance(amount: str) -> dict:
    return {**DEEPSEEK_BALANCE, "balance_infos": [{"currency": "USD", "total_balance": amount}]}


@pytest.fixture
def deepseek():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add("GET", DEEPSEEK + "/user/balance", json=DEEPSEEK_BALANCE)
        mock.add("GET", DEEPSEEK + "/models", json=MODELS)
        make_connection("deepseek", api_key="sk-" + "d" * 32, status=Status.VERIFIED)
        yield mock


def check(mock, amount: str | None = None) -> None:
    if amount is not None:
        mock.replace("GET", DEEPSEEK + "/user/balance", json=balance(amount))
    services.connection_verify(provider=PROVIDERS["deepseek"], ctx=Context.sweep())


def test_a_check_records_the_credit_on_the_snapshot_and_the_connection(deepseek, api):
    check(deepseek)
    snapshot = HealthSnapshot.objects.get()
    assert (snapshot.credit_amount, snapshot.credit_unit) == (110.0, "USD")
    state = api.get("/providers/deepseek/connection").json()["connection"]
    assert state["credit"]["amount"] == 110.0 and state["credit"]["unit"] == "USD"
    assert state["credit"]["low"] is False and state["credit"]["threshold"] is None
    assert state["credit"]["checked_at"]


def test_a_threshold_turns_on_low_credit_beside_verified(deepseek, api, operator_client):
    check(deepseek, "3.20")
    answer = api.call(
        "PUT", "/providers/deepseek/connection/credit-threshold", {"below": 5, "unit": "amount"}
    ).json()["connection"]
    assert answer["status"] == "verified" and answer["credit"]["low"] is True
    assert answer["credit"]["threshold"] == {"below": 5.0, "unit": "amount"}
    page = operator_client.get("/providers/deepseek/").content.decode()
    assert 'data-testid="low-credit"' in page and "under the threshold of 5" in page
    assert "3.20 USD" in page
    assert 'data-testid="low-credit"' in operator_client.get("/").content.decode()
    ops = operator_client.get("/operations/").content.decode()
    assert 'data-testid="low-credit"' in ops and "credit 3.20 USD" in ops
    check(deepseek, "50.00")
    assert api.get("/providers/deepseek/connection").json()["connection"]["credit"]["low"] is False
    cleared = api.call("PUT", "/providers/deepseek/connection/credit-threshold", {"below": None})
    assert cleared.json()["connection"]["credit"]["threshold"] is None
    diffs = list(
        AuditEvent.objects.filter(action="connection.credit_threshold")
        .order_by("id")
        .values_list("diff", flat=True)
    )
    assert diffs == [
        {"before": None, "after": {"below": 5.0, "unit": "amount"}},
        {"before": {"below": 5.0, "unit": "amount"}, "after": None},
    ]


def test_a_percent_threshold_reads_the_share_of_the_allowance(api):
    with responses.RequestsMock() as mock:
        low = {**SUBSCRIPTION, "character_count": 95000, "character_limit": 100000}
        mock.add("GET", "https://api.elevenlabs.io/v1/user/subscription", json=low)
        mock.add("GET", "https://api.elevenlabs.io/v1/models", json=[{"model_id": "m"}])
        mock.add("GET", "https://api.elevenlabs.io/v1/voices", json={"voices": []})
        make_connection("elevenlabs", api_key="sk_" + "e" * 48, status=Status.VERIFIED)
        services.connection_verify(provider=PROVIDERS["elevenlabs"], ctx=Context.sweep())
    state = api.call(
        "PUT",
        "/providers/elevenlabs/connection/credit-threshold",
        {"below": 10, "unit": "percent"},
    ).json()["connection"]
    assert state["credit"]["amount"] == 5000.0 and state["credit"]["unit"] == "characters"
    assert state["credit"]["share_left"] == pytest.approx(0.05) and state["credit"]["low"]


def test_bad_thresholds_are_refused_and_nothing_changes(deepseek, api):
    check(deepseek)
    path = "/providers/deepseek/connection/credit-threshold"
    for body, field in [
        ({"below": -1}, "below"),
        ({"below": 150, "unit": "percent"}, "below"),
        ({"below": 5, "unit": "dollars"}, "unit"),
        ({"unit": "amount"}, "below"),
    ]:
        error = assert_error(api.call("PUT", path, body), 400, "invalid_input")
        assert field in error["details"]["fields"], body
    assert_error(api.call("PUT", path, {"below": "five"}), 400, "invalid_input")
    assert Connection.objects.get().credit_threshold is None
    assert_error(
        api.call("PUT", "/providers/kimi/connection/credit-threshold", {"below": 1}),
        409,
        "not_configured",
    )


def test_the_trend_shows_the_last_figure_of_each_day(deepseek, operator_client, monkeypatch):
    real = timezone.now()
    now = [real - timedelta(days=8)]
    monkeypatch.setattr(timezone, "now", lambda: now[0])
    for amount in ("40.00", "30.00", "25.00", "22.50"):
        check(deepseek, amount)
        check(deepseek, amount)
        now[0] += timedelta(days=2)
    now[0] = real
    page = operator_client.get("/providers/deepseek/").content.decode()
    # Seven days back from now: the first check's day has fallen out.
    assert "3 days: 30.00 → 22.50" in page and 'class="credit-trend"' in page


def test_the_page_sets_the_threshold(deepseek, operator_client):
    check(deepseek, "3.20")
    done = operator_client.post(
        "/providers/deepseek/credit-threshold", {"below": "5", "unit": "amount"}, follow=True
    )
    assert "Low credit below 5." in done.content.decode()
    assert Connection.objects.get().credit_low
    refused = operator_client.post(
        "/providers/deepseek/credit-threshold", {"below": "lots", "unit": "amount"}, follow=True
    )
    assert "Low-credit threshold below" in refused.content.decode()
    assert Connection.objects.get().credit_threshold == 5.0
