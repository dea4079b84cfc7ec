"""The rollups and incidents kept as checks are written (what Operations reads): the same as a
rebuild from the snapshots finds, one open incident at most, pruned with the snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.db import IntegrityError, transaction
from django.utils import timezone

from connections import services
from connections.health import health_prune
from connections.models import HealthRollup, HealthSnapshot, Incident, Status
from connections.rollups import DAY, HOUR, TEN_MINUTES, WIDTHS, summaries_rebuild
from koda.context import Context
from providers.registry import PROVIDERS
from providers.values import AuthMethod, Credential, Outcome, VerificationResult
from tests.conftest import make_connection
from tests.fake_provider import INVALID, MODELS

pytestmark = pytest.mark.django_db
GROQ = "https://api.groq.com/openai/v1/models"
START = datetime(2026, 11, 30, 22, 55, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """The time every write reads (auto_now_add included), moved by the test."""
    now = [START]
    monkeypatch.setattr(timezone, "now", lambda: now[0])
    return now


def summaries() -> tuple[list, list]:
    rollups = sorted(
        HealthRollup.objects.values_list(
            "connection_id", "width", "bucket", "total", "ok", "latency_sum"
        )
    )
    incidents = sorted(
        Incident.objects.values_list("connection_id", "outcome", "message", "began_at", "ended_at")
    )
    return rollups, incidents


def check(status: int) -> None:
    body = MODELS if status == 200 else INVALID if status == 401 else {"error": "busy"}
    responses.replace("GET", GROQ, json=body, status=status)
    services.connection_verify(provider=PROVIDERS["groq"], ctx=Context.sweep())


@responses.activate
def test_checks_fold_into_what_a_rebuild_from_the_snapshots_finds(clock):
    connection = make_connection("groq", api_key="gsk_" + "r" * 48, status=Status.VERIFIED)
    responses.add("GET", GROQ, json=MODELS)
    # Every 7 minutes across an hour boundary: ok, ok, a 503 run turning into a 401, ok, a
    # runtime's report of a failure, ok.
    for status in (200, 200, 503, 401, 200):
        check(status)
        clock[0] += timedelta(minutes=7)
    services.connection_record_report(
        provider=PROVIDERS["groq"],
        result=VerificationResult(False, Outcome.RATE_LIMITED, "429 from a runtime"),
        ctx=Context.sweep(),
    )
    clock[0] += timedelta(minutes=7)
    check(200)
    # A refused replacement key is a candidate check: not the stored connection's health.
    responses.replace("GET", GROQ, json=INVALID, status=401)
    services.connection_configure_credential(
        provider=PROVIDERS["groq"],
        credential=Credential(AuthMethod.API_KEY, {}, {"api_key": "gsk_" + "x" * 48}),
        ctx=Context.command("tests"),
    )
    assert HealthSnapshot.objects.filter(candidate=True).count() == 1

    written = summaries()
    rollups, incidents = written
    hours = {(width, bucket): (total, ok) for _, width, bucket, total, ok, _ in rollups}
    boundary = int(datetime(2026, 11, 30, 23, tzinfo=UTC).timestamp())
    assert hours[(HOUR, boundary - HOUR)] == (1, 1)  # 22:55
    assert hours[(HOUR, boundary)] == (6, 3)  # 23:02 … 23:37
    assert sum(t for (w, _), (t, _) in hours.items() if w == TEN_MINUTES) == 7
    assert [(i[1], i[3], i[4]) for i in incidents] == [
        ("provider_unavailable", START + timedelta(minutes=14), START + timedelta(minutes=28)),
        ("rate_limited", START + timedelta(minutes=35), START + timedelta(minutes=42)),
    ]
    assert all(i[0] == connection.pk for i in incidents)

    summaries_rebuild()
    assert summaries() == written


def test_a_connection_has_one_open_incident_at_most():
    connection = make_connection("groq", api_key="gsk_" + "o" * 48)
    Incident.objects.create(connection=connection, outcome="timeout", began_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(connection=connection, outcome="billing", began_at=timezone.now())
    Incident.objects.update(ended_at=timezone.now())
    Incident.objects.create(connection=connection, outcome="billing", began_at=timezone.now())
    assert Incident.objects.filter(ended_at=None).count() == 1


@responses.activate
def test_pruning_drops_old_rollups_and_ended_incidents_with_the_snapshots(clock, settings):
    settings.KODA_HEALTH_RETENTION_DAYS = 30
    make_connection("groq", api_key="gsk_" + "p" * 48, status=Status.VERIFIED)
    responses.add("GET", GROQ, json=MODELS)
    for status in (503, 200, 503):  # an incident that ended, then one still open
        check(status)
        clock[0] += timedelta(minutes=10)
    clock[0] += timedelta(days=31)
    check(503)  # the same open incident goes on
    health_prune()
    rollups, incidents = summaries()
    latest = int(clock[0].timestamp())
    assert sorted((r[1], r[2]) for r in rollups) == [(w, latest - latest % w) for w in WIDTHS]
    assert [(i[1], i[4]) for i in incidents] == [("provider_unavailable", None)]


def test_every_operations_range_reads_cells_of_a_width_the_rollups_keep():
    from connections.operations_data import RANGES
    from connections.rollups import WIDTHS

    assert {int(r.cell.total_seconds()) for r in RANGES.values()} <= set(WIDTHS)


@pytest.mark.django_db(transaction=True)
def test_the_migration_builds_rollups_and_incidents_from_the_recorded_history():
    from django.db import connection as db
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(db)
    executor.migrate([("connections", "0009_credential_stored_at")])
    apps = executor.loader.project_state([("connections", "0009_credential_stored_at")]).apps
    Conn = apps.get_model("connections", "Connection")
    Snapshot = apps.get_model("connections", "HealthSnapshot")
    made = Conn.objects.create(provider_id="groq", auth_method="api_key")
    for minutes, ok in [(50, True), (40, False), (30, False), (20, True)]:
        snap = Snapshot.objects.create(
            provider_id="groq",
            connection=made,
            ok=ok,
            outcome="ok" if ok else "timeout",
            message="m",
            trigger="sweep",
            latency_ms=100,
        )
        Snapshot.objects.filter(pk=snap.pk).update(created_at=START - timedelta(minutes=minutes))
    executor = MigrationExecutor(db)
    executor.migrate(executor.loader.graph.leaf_nodes())
    (incident,) = Incident.objects.all()
    assert incident.began_at == START - timedelta(minutes=40)
    assert incident.ended_at == START - timedelta(minutes=20)
    day = HealthRollup.objects.get(width=DAY)
    assert (day.total, day.ok, day.latency_sum) == (4, 2, 400)


def test_the_command_rebuilds_what_checks_keep(capsys):
    connection = make_connection("groq", api_key="gsk_" + "c" * 48)
    for ok in (True, False, True):
        HealthSnapshot.objects.create(
            provider_id="groq",
            connection=connection,
            ok=ok,
            outcome="ok" if ok else "timeout",
            message="m",
            trigger="sweep",
        )
    from django.core.management import call_command

    call_command("rebuild_health_summaries")
    rollups = HealthRollup.objects.count()
    assert f"Rebuilt {rollups} rollup(s) and 1 incident(s)" in capsys.readouterr().out
    assert sum(HealthRollup.objects.filter(width=DAY).values_list("total", flat=True)) == 3
