"""The integration health API and the Operations view, including their query cost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connections.models import Connection, HealthSnapshot, Status
from connections.rollups import summaries_rebuild
from koda.audit import audit_record
from koda.context import Actor, ActorKind, Context, Via
from tests.conftest import assert_error, make_connection
from tests.fake_provider import FakeProvider

PROVIDER_IDS = [
    "anthropic",
    "openai",
    "google",
    "groq",
    "mistral",
    "qwen",
    "kimi",
    "deepseek",
    "xai",
    "openrouter",
]


def make_history(
    provider_id: str, *, checks: int, failing_from: int | None = None, verified=True
) -> Connection:
    now = timezone.now()
    conn = make_connection(
        provider_id,
        api_key="k" * 30,
        status=Status.FAILING if failing_from is not None else Status.VERIFIED,
        verified_at=now - timedelta(hours=30) if verified else None,
        failing_since=now - timedelta(minutes=10 * (checks - failing_from))
        if failing_from is not None
        else None,
        last_outcome="invalid_credentials" if failing_from is not None else "ok",
        last_message="Groq does not recognise this key" if failing_from is not None else "",
        last_remedy="Copy a current key from https://console.groq.com/keys",
        last_checked_at=now,
        last_latency_ms=120,
    )
    rows = []
    for i in range(checks):
        ok = failing_from is None or i < failing_from
        rows.append(
            HealthSnapshot(
                provider_id=provider_id,
                connection=conn,
                ok=ok,
                outcome="ok" if ok else "invalid_credentials",
                latency_ms=100 + i,
                message="m",
                trigger="sweep",
            )
        )
    HealthSnapshot.objects.bulk_create(rows)
    for i, snap in enumerate(HealthSnapshot.objects.filter(connection=conn).order_by("id")):
        HealthSnapshot.objects.filter(pk=snap.pk).update(
            created_at=now - timedelta(minutes=10 * (checks - i))
        )
    summaries_rebuild([conn.pk])  # the snapshots were written directly, back-dated
    return conn


def snapshot_at(connection, at, ok: bool, failure: str) -> None:
    """A sweep's check of `connection` taken at `at` (ok, or failed with `failure`)."""
    snap = HealthSnapshot.objects.create(
        provider_id=connection.provider_id,
        connection=connection,
        ok=ok,
        outcome="ok" if ok else failure,
        message="m",
        trigger="sweep",
        latency_ms=120 if ok else 900,
    )
    HealthSnapshot.objects.filter(pk=snap.pk).update(created_at=at)
    summaries_rebuild([connection.pk])


def test_it_reports_health_newest_first_with_uptime(api):
    make_history("groq", checks=12, failing_from=9)
    body = api.get("/integrations/groq/health?page_size=5").json()
    assert body["status"] == "failing" and body["failing_since"]
    assert body["last_ok_at"] is None or isinstance(body["last_ok_at"], str)
    assert body["uptime"] == {"24h": 0.75, "7d": 0.75}
    checked = [s["checked_at"] for s in body["snapshots"]]
    assert checked == sorted(checked, reverse=True) and len(checked) == 5
    assert body["snapshots"][0]["outcome"] == "invalid_credentials"
    assert body["next_page"] == 2
    last = api.get("/integrations/groq/health?page=3&page_size=5").json()
    assert len(last["snapshots"]) == 2 and last["next_page"] is None


def test_it_keeps_history_after_a_disconnect(api):
    make_history("groq", checks=3)
    Connection.objects.all().delete()
    body = api.get("/integrations/groq/health").json()
    assert body["status"] == "not_configured" and len(body["snapshots"]) == 3


def test_it_answers_404_for_an_unknown_integration(api):
    error = assert_error(api.get("/integrations/nope/health"), 404, "unknown_integration")
    assert error["details"] == {"integration_id": "nope"}


@pytest.mark.parametrize("query", ["page=0", "page=x", "page_size=0", "page_size=201", "page=-1"])
def test_it_explains_bad_paging(api, query):
    assert_error(api.get(f"/integrations/groq/health?{query}"), 400, "invalid_input")


def count_queries(callable_) -> int:
    with CaptureQueriesContext(db) as ctx:
        callable_()
    return len(ctx.captured_queries)


def test_the_health_api_costs_the_same_whatever_the_history(api):
    make_history("groq", checks=3)
    api.get("/integrations/groq/health")  # the token's last-used touch happens once a minute
    small = count_queries(lambda: api.get("/integrations/groq/health"))
    assert small <= 5  # token, connection, uptime, page of snapshots
    make_history("xai", checks=200)
    HealthSnapshot.objects.bulk_create(
        [HealthSnapshot(provider_id="groq", ok=True, outcome="ok", message="m", trigger="sweep")]
        * 300
    )
    assert count_queries(lambda: api.get("/integrations/groq/health")) == small


def test_operations_costs_the_same_whatever_the_number_of_connections(operator_client):
    for pid in PROVIDER_IDS[:2]:
        make_history(pid, checks=5)
    small = count_queries(lambda: operator_client.get("/operations/"))
    # session, user, banner; connections, strip cells, uptime, 24 h of points, audit marks,
    # credit trends; incidents ongoing, the latest ended, and their count
    assert small <= 12
    for pid in PROVIDER_IDS[2:]:
        make_history(pid, checks=40, failing_from=30)
    large = count_queries(lambda: operator_client.get("/operations/"))
    assert large == small, (small, large)


def test_operations_shows_strip_latency_failing_since_and_remedy(operator_client):
    make_history("groq", checks=30, failing_from=24)
    make_history("openai", checks=30)
    html = operator_client.get("/operations/").content.decode()
    assert 'data-provider="groq"' in html and 'data-provider="openai"' in html
    assert html.count('class="cell-failing"') >= 1 and 'class="cell-ok"' in html
    assert "<polyline" in html
    assert "Copy a current key from https://console.groq.com/keys" in html
    assert 'hx-trigger="every 30s"' in html
    assert "k" * 30 not in html


def test_operations_marks_configuration_changes_on_the_timeline(operator_client, operator):
    make_history("groq", checks=10, failing_from=8)
    audit_record(
        ctx=Context(Actor(ActorKind.OPERATOR, operator), Via.WIZARD),
        action="connection.configure",
        target="provider:groq",
        diff={"secret_hint": "gsk_…abcd"},
    )
    html = operator_client.get("/operations/").content.decode()
    assert 'class="change-mark"' in html and "key replaced by ada" in html


def test_operations_refreshes_as_a_fragment(operator_client):
    make_history("groq", checks=3)
    response = operator_client.get(
        "/operations/", headers={"HX-Request": "true", "HX-Target": "operations"}
    )
    assert response.content.lstrip().startswith(b'<section id="operations"')


def test_every_page_warns_when_a_verified_connection_fails(operator_client):
    make_history("groq", checks=5, failing_from=3)
    make_history("xai", checks=5, failing_from=0, verified=False)  # never worked: no banner
    for path in ("/", "/operations/", "/tokens/", "/providers/openai/"):
        html = operator_client.get(path).content.decode()
        assert 'data-testid="failing-banner"' in html, path
        banner = html.split('data-testid="failing-banner"')[1].split("</div>")[0]
        assert ">Groq<" in banner and "xAI" not in banner  # display names (issue 13)


@pytest.mark.django_db(transaction=True)
def test_verify_now_updates_the_row_in_place(operator_client, settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    fake = FakeProvider()
    try:
        make_connection(
            "groq",
            api_key="gsk_good_1x",
            base_url=fake.base_url,
            status=Status.FAILING,
            verified_at=timezone.now(),
            failing_since=timezone.now(),
        )
        response = operator_client.post("/operations/groq/verify", headers={"HX-Request": "true"})
    finally:
        fake.close()
    html = response.content.decode()
    assert html.lstrip().startswith('<tbody id="row-groq"')
    assert 'data-status="verified"' in html
    # Recorded as what it was: a check started from Operations (not from a provider page).
    assert HealthSnapshot.objects.get().trigger == "operations"


def test_operations_shows_uptime_incidents_grouped_changes_and_ranges(operator_client, operator):
    from datetime import timedelta

    from django.utils import timezone

    from koda.audit import audit_record
    from koda.context import Context

    connection = make_connection("groq", api_key="gsk_" + "g" * 40, status=Status.VERIFIED)
    now = timezone.now()
    for minutes, ok in [(200, True), (150, False), (140, False), (120, True), (30, False)]:
        snapshot_at(connection, now - timedelta(minutes=minutes), ok, "rate_limited")
    for _ in range(14):  # a burst of changes in one hour: one mark, with a count and a list
        audit_record(
            ctx=Context.command("tests", operator),
            action="connection.default_model",
            target="provider:groq",
            diff={},
        )
    html = operator_client.get("/operations/").content.decode()
    assert "24 h: <strong>40.0 %</strong>" in html  # 2 of 5 checks ok
    assert html.count('class="change-mark" data-count="14"') == 1
    assert "14 configuration changes" in html
    incidents = html[html.index('data-testid="incidents"') :]
    assert "ongoing" in incidents and incidents.count("30 minutes") == 2  # 150 → 120, 30 → now
    assert incidents.count("rate_limited") == 2
    assert "1000ms" in html  # the latency axis, rounded up from 900 ms
    week = operator_client.get("/operations/?range=7d").content.decode()
    assert 'data-range="7d"' in week and "Health over the last 7 d for Groq" in week
    fragment = operator_client.get(
        "/operations/?range=30d", headers={"HX-Request": "true", "HX-Target": "operations"}
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="operations"') and "Last 30 d" in fragment


def test_a_flapping_provider_shows_its_latest_incidents_and_says_how_many_more(operator_client):
    """Thousands of incidents in a range (a provider failing every other check) are not
    thousands of table rows: the 50 latest, the ongoing one first, and the count."""
    from datetime import timedelta

    from django.utils import timezone

    connection = make_connection("groq", api_key="gsk_" + "f" * 40, status=Status.FAILING)
    now = timezone.now()
    # 120 checks 10 minutes apart, failing every other one (60 incidents), then failing since.
    pattern = [i % 2 == 0 for i in range(120)] + [False, False]
    HealthSnapshot.objects.bulk_create(
        HealthSnapshot(
            provider_id="groq",
            connection=connection,
            ok=ok,
            outcome="ok" if ok else "timeout",
            message="m",
            trigger="sweep",
        )
        for ok in pattern
    )
    for i, pk in enumerate(
        HealthSnapshot.objects.filter(connection=connection).order_by("id").values_list("pk")
    ):
        HealthSnapshot.objects.filter(pk=pk[0]).update(
            created_at=now - timedelta(minutes=5 * (len(pattern) - i))
        )
    summaries_rebuild([connection.pk])
    # Mistral has been failing for 11 hours: older than every Groq flap, and still shown.
    mistral = make_connection("mistral", api_key="m" * 32, status=Status.FAILING)
    for hours, ok in [(12, True), (11, False), (0, False)]:
        snapshot_at(mistral, now - timedelta(hours=hours), ok, "billing")
    html = operator_client.get("/operations/").content.decode()
    start = html.index('data-testid="incidents"')
    rows = html[start : html.index("</table>", start)].split("<tr><td")[1:]
    assert len(rows) == 50
    # The ongoing ones first (newest first among them), then the latest ended ones.
    assert "Groq" in rows[0] and "ongoing" in rows[0]
    assert "Mistral" in rows[1] and "ongoing" in rows[1] and "billing" in rows[1]
    assert all("ongoing" not in row for row in rows[2:])
    assert 'data-testid="incidents-more"' in html and "50 latest of 61 incidents" in html


def test_operations_counts_incidents_up_to_a_bound(operator_client):
    """Counting a flapping provider's tens of thousands of incidents would cost what the rest
    of the page does: past the bound the page says "more than"."""
    from datetime import timedelta

    from django.utils import timezone

    from connections.models import Incident
    from connections.operations_data import INCIDENTS_COUNTED

    connection = make_connection("groq", api_key="gsk_" + "b" * 40, status=Status.VERIFIED)
    now = timezone.now()
    Incident.objects.bulk_create(
        Incident(
            connection=connection,
            outcome="timeout",
            message="m",
            began_at=now - timedelta(seconds=30 * i + 20),
            ended_at=now - timedelta(seconds=30 * i),
        )
        for i in range(INCIDENTS_COUNTED + 1)
    )
    html = operator_client.get("/operations/").content.decode()
    assert f"50 latest of more than {INCIDENTS_COUNTED} incidents" in html
    Incident.objects.filter(pk__in=Incident.objects.values("pk")[:2]).delete()
    html = operator_client.get("/operations/").content.decode()
    assert f"50 latest of {INCIDENTS_COUNTED - 1} incidents" in html


@pytest.mark.parametrize("minute", [0, 7, 59])
def test_the_seven_day_uptime_is_exact_to_the_hour(db, minute):
    """Read from 6-hour buckets plus the hours before the first of them: the same figure as every
    check since the hour a week ago, whatever the minute the page is read at."""
    from datetime import timedelta

    from django.utils import timezone

    from connections.operations_data import operations_rows
    from connections.rollups import HOUR, bucket_of

    connection = make_connection("groq", api_key="gsk_" + "w" * 40, status=Status.VERIFIED)
    # 22:xx: a week before, the first 6-hour bucket inside the window starts two hours in.
    now = (timezone.now() - timedelta(days=1)).replace(hour=22, minute=minute, second=30)
    offsets = [
        timedelta(days=7, hours=2),  # before the window
        timedelta(days=7, minutes=-10),  # its first hour, before the first 6-hour bucket
        timedelta(days=6, hours=22),
        timedelta(days=6, hours=13),
        timedelta(days=3),
        timedelta(hours=5),
        timedelta(minutes=20),
    ]
    oks = [False, False, True, True, False, True, True]
    for offset, ok in zip(offsets, oks, strict=True):
        snapshot_at(connection, now - offset, ok, "timeout")
    since = bucket_of(now - timedelta(days=7), HOUR)
    counted = [
        ok for offset, ok in zip(offsets, oks, strict=True) if (now - offset).timestamp() >= since
    ]
    expected = round(100 * sum(counted) / len(counted), 1)
    (row,) = operations_rows(range_id="7d", now=now)
    assert row["uptime"]["7d"] == expected
