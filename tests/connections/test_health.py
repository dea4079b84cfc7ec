"""Sweeps, backoff, claims shared by several sweepers, retention, the --loop command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from connections.health import health_prune, sweep_claim, sweep_once, uptime
from connections.models import Connection, HealthSnapshot, Status
from providers.registry import PROVIDERS
from providers.verification import HttpProvider
from tests.conftest import make_connection
from tests.fake_provider import FakeProvider
from tests.providers.contract import HangingServer

ROOT = Path(__file__).resolve().parents[2]
# Sweeps check from worker threads with their own database connections: they must see
# committed rows, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake(settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    provider = FakeProvider()
    yield provider
    provider.close()


def connect(provider_id: str, key: str, base_url: str, **fields) -> Connection:
    return make_connection(
        provider_id,
        api_key=key,
        base_url=base_url,
        **fields,
    )


# Ids that share Groq's OpenAI-style shape, so one fake serves them all.
OPENAI_SHAPED = ["groq", "mistral", "openai"]


def test_it_checks_only_due_connections_and_schedules_the_next(fake, settings):
    settings.KODA_HEALTH_INTERVAL_SECONDS = 300
    due = connect("groq", "gsk_good_1", fake.base_url)
    later = connect(
        "mistral", "gsk_good_2", fake.base_url, next_check_at=timezone.now() + timedelta(minutes=3)
    )
    report = sweep_once(concurrency=2)
    assert report.checked == 1 and report.outcomes == {"ok": 1}
    due.refresh_from_db()
    assert due.status == Status.VERIFIED and due.last_ok_at
    assert 290 < (due.next_check_at - timezone.now()).total_seconds() <= 300
    snapshot = HealthSnapshot.objects.get()
    assert (snapshot.provider_id, snapshot.trigger, snapshot.actor) == ("groq", "sweep", None)
    assert not HealthSnapshot.objects.filter(provider_id=later.provider_id).exists()
    assert sweep_once().checked == 0  # nothing else is due


def test_it_backs_off_while_a_provider_is_down_and_resets_on_recovery(fake, settings):
    settings.KODA_HEALTH_INTERVAL_SECONDS = 60
    conn = connect("groq", "gsk_down_1", fake.base_url)
    delays = []
    for _ in range(3):
        Connection.objects.filter(pk=conn.pk).update(next_check_at=None)
        sweep_once()
        conn.refresh_from_db()
        delays.append(round((conn.next_check_at - conn.last_checked_at).total_seconds()))
    assert delays == [60, 120, 240]
    assert conn.status == Status.DEGRADED and conn.consecutive_failures == 3
    Connection.objects.filter(pk=conn.pk).update(next_check_at=None, secrets=None)
    conn.refresh_from_db()
    conn.secrets = {"api_key": "gsk_good_1"}
    conn.save()
    sweep_once()
    conn.refresh_from_db()
    assert conn.consecutive_failures == 0 and conn.status == Status.VERIFIED
    assert conn.failing_since is None


def test_it_waits_at_least_as_long_as_retry_after(fake, settings):
    settings.KODA_HEALTH_INTERVAL_SECONDS = 60
    conn = connect("groq", "gsk_limited_1", fake.base_url)
    sweep_once()
    conn.refresh_from_db()
    assert conn.last_outcome == "rate_limited"
    assert (conn.next_check_at - conn.last_checked_at).total_seconds() >= 3600


def test_it_caps_the_backoff(fake, settings):
    settings.KODA_HEALTH_INTERVAL_SECONDS = 60
    settings.KODA_HEALTH_MAX_BACKOFF_SECONDS = 600
    conn = connect("groq", "gsk_down_1", fake.base_url, consecutive_failures=20)
    sweep_once()
    conn.refresh_from_db()
    assert (conn.next_check_at - conn.last_checked_at).total_seconds() == 600


def test_one_hanging_provider_never_stalls_the_rest(fake, settings):
    settings.KODA_VERIFY_TIMEOUT_SECONDS = 1
    hanging = HangingServer()
    try:
        connect("groq", "gsk_good_1", f"http://127.0.0.1:{hanging.port}/openai/v1")
        for provider_id in ("mistral", "openai", "deepseek"):
            connect(provider_id, "gsk_good_1", fake.base_url)
        started = time.monotonic()
        report = sweep_once(concurrency=4)
        elapsed = time.monotonic() - started
    finally:
        hanging.close()
    assert report.checked == 4 and report.outcomes.get("timeout") == 1
    assert elapsed < 3, elapsed  # bounded by the one timeout, not serialised behind it
    # deepseek's balance probe is not served by the OpenAI-shaped fake: it fails, but promptly
    assert Connection.objects.get(provider_id="mistral").status == Status.VERIFIED


def test_two_sweepers_never_check_the_same_connection_twice(settings):
    # Runs on both databases: SKIP LOCKED + conditional UPDATE on PostgreSQL (CI's second
    # pass), the conditional UPDATE under SQLite's write lock here.
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    fake = FakeProvider(latency=0.05)
    try:
        ids = [pid for pid, p in PROVIDERS.items() if isinstance(p, HttpProvider)]
        for provider_id in ids:
            connect(provider_id, "gsk_good_1", fake.base_url)
        barrier = threading.Barrier(2)
        reports = []

        def sweeper():
            barrier.wait()
            try:
                reports.append(sweep_once(concurrency=3))
            finally:
                connections.close_all()  # this thread's own database connection

        threads = [threading.Thread(target=sweeper) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        fake.close()
    per_connection = {pid: HealthSnapshot.objects.filter(provider_id=pid).count() for pid in ids}
    assert set(per_connection.values()) == {1}, per_connection
    assert sum(r.checked for r in reports) == len(ids)
    assert all(r.checked for r in reports), "both sweepers took part"


def test_a_claim_is_taken_once(fake):
    connect("groq", "gsk_good_1", fake.base_url)
    first, second = sweep_claim(), sweep_claim()
    assert len(first) == 1 and second == []


def test_it_prunes_old_snapshots_but_keeps_the_latest_and_last_ok(settings):
    settings.KODA_HEALTH_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=40)

    def snap(ok, age_days):
        s = HealthSnapshot.objects.create(
            provider_id="groq",
            ok=ok,
            outcome="ok" if ok else "timeout",
            message="m",
            trigger="sweep",
        )
        HealthSnapshot.objects.filter(pk=s.pk).update(
            created_at=timezone.now() - timedelta(days=age_days)
        )
        return s.pk

    last_ok = snap(True, 45)
    stale = [snap(False, 44), snap(False, 43)]
    latest = snap(False, 41)
    recent = snap(False, 1)
    other_latest = HealthSnapshot.objects.create(
        provider_id="xai", ok=False, outcome="timeout", message="m", trigger="sweep"
    ).pk
    HealthSnapshot.objects.filter(pk=other_latest).update(created_at=old)
    out = StringIO()
    call_command("prune_health", stdout=out)
    remaining = set(HealthSnapshot.objects.values_list("pk", flat=True))
    assert remaining == {last_ok, recent, other_latest}
    assert not remaining & set(stale) and latest not in remaining
    assert "Deleted 3 snapshot(s)" in out.getvalue()
    assert health_prune() == 0


def test_it_computes_uptime_over_24h_and_7d():
    now = timezone.now()
    for age_hours, ok in [(1, True), (2, True), (3, False), (30, False), (100, True)]:
        s = HealthSnapshot.objects.create(
            provider_id="groq", ok=ok, outcome="x", message="m", trigger="sweep"
        )
        HealthSnapshot.objects.filter(pk=s.pk).update(created_at=now - timedelta(hours=age_hours))
    HealthSnapshot.objects.create(
        provider_id="groq", ok=False, outcome="x", message="m", trigger="api", candidate=True
    )  # a refused new key: ignored
    assert uptime("groq", now=now) == {"24h": round(2 / 3, 4), "7d": 0.6}
    assert uptime("xai", now=now) == {"24h": None, "7d": None}


def test_the_loop_stops_cleanly_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KODA_", "DATABASE_URL"))}
    env.update(
        KODA_DATA_DIR=str(tmp_path), KODA_DEBUG="true", DJANGO_SETTINGS_MODULE="koda.settings"
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "check_connections", "--loop", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert "sweeper stopped" in out


def test_every_sweep_probe_is_free():
    """A sweep never spends money: every probe is a GET, except Perplexity's empty chat, which
    is rejected before generation (see the adapter)."""
    from providers.values import Credential

    for provider in PROVIDERS.values():
        if not isinstance(provider, HttpProvider):
            continue
        for method in provider.methods:
            if not method.id.takes_input or method.id == "local_runtime":
                continue
            for probe in provider.probes_for(Credential(method.id, {}, {"api_key": "k"})):
                if probe.method != "GET":
                    assert provider.id == "perplexity" and probe.json_body["messages"] == []


def test_a_one_shot_sweep_checks_what_was_due_once_and_ends(settings):
    """Checks slower than the interval: a cron sweep must still end, each connection checked
    once, instead of re-claiming connections that fell due while it ran."""
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    settings.KODA_HEALTH_INTERVAL_SECONDS = 1
    slow = FakeProvider(latency=0.6)
    try:
        for provider_id in OPENAI_SHAPED:
            connect(provider_id, "gsk_good_1", slow.base_url)
        out = StringIO()
        command = threading.Thread(
            target=call_command,
            args=("check_connections", "--concurrency", "1"),
            kwargs={"stdout": out},
            daemon=True,
        )
        command.start()
        command.join(timeout=15)
    finally:
        slow.close()
    assert not command.is_alive(), "the one-shot sweep never ended"
    assert slow.server.hits == len(OPENAI_SHAPED)
    assert f"checked {len(OPENAI_SHAPED)} connection(s)" in out.getvalue()
    assert HealthSnapshot.objects.filter(trigger="sweep").count() == len(OPENAI_SHAPED)


def test_a_sweep_records_a_check_whose_answer_cannot_be_read(fake, settings, monkeypatch):
    connect("groq", "gsk_good_1", fake.base_url)

    def unreadable(body):
        raise LookupError("an answer no rule foresaw")

    monkeypatch.setattr(type(PROVIDERS["groq"]), "_models", staticmethod(unreadable))
    report = sweep_once(concurrency=1)
    assert report.outcomes == {"unexpected_response": 1}
    snapshot = HealthSnapshot.objects.get()
    assert (snapshot.trigger, snapshot.outcome) == ("sweep", "unexpected_response")
    assert "LookupError" in snapshot.message and snapshot.remedy
    assert Connection.objects.get().status == Status.FAILING
