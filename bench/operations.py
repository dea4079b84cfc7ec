"""Operations page and health API response times over a large history.

    .venv/bin/python bench/operations.py [--snapshots 1000000] [--connections 50] [--repeat 5]
        [--reuse]

Times the Operations page (each range) with the connections but no history first, as the
baseline, then fills the snapshots over the connections, spread across the retention window
(30 days), builds their rollups and incidents as the migration does, and times the page again,
with its slowest queries, and the health API. In-process (Django's test client: routing,
queries, rendering; no network). Uses a throwaway SQLite file unless DATABASE_URL is set (then
a scratch schema there); `--reuse` with KODA_DATA_DIR set keeps a filled SQLite file between
runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import timedelta

from _setup import django_setup, synthetic_providers

RANGES = ("24h", "7d", "30d")


def fill(conns: list, snapshots: int) -> tuple[float, float]:
    """The history, written directly and back-dated, then summarised: (fill, rebuild) seconds."""
    from django.utils import timezone

    from connections.models import HealthSnapshot
    from connections.rollups import summaries_rebuild

    HealthSnapshot._meta.get_field("created_at").auto_now_add = False
    now = timezone.now()
    step = timedelta(days=30).total_seconds() / (snapshots / len(conns))
    started = time.monotonic()
    batch = []
    for i in range(snapshots):
        conn = conns[i % len(conns)]
        ok = i % 17 != 0
        batch.append(
            HealthSnapshot(
                provider_id=conn.provider_id,
                connection=conn,
                ok=ok,
                outcome="ok" if ok else "timeout",
                latency_ms=100 + i % 200,
                message="m",
                trigger="sweep",
                created_at=now - timedelta(seconds=(i // len(conns)) * step),
            )
        )
        if len(batch) == 20_000:
            HealthSnapshot.objects.bulk_create(batch)
            batch = []
    HealthSnapshot.objects.bulk_create(batch)
    filled = time.monotonic() - started
    # What checks keep as they are recorded, built once from the history (as the migration).
    started = time.monotonic()
    summaries_rebuild()
    return filled, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the SQLite file in KODA_DATA_DIR"
    )
    args = parser.parse_args()
    if args.reuse and not os.environ.get("KODA_DATA_DIR"):
        parser.error("--reuse needs KODA_DATA_DIR")
    django_setup()

    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from connections.models import Connection, HealthSnapshot, Incident
    from koda.context import Context
    from koda.operators import operator_create
    from koda.tokens import api_token_create
    from providers.adapters.openai_compatible import Groq

    ids = synthetic_providers(args.connections, Groq)
    reused = args.reuse and HealthSnapshot.objects.exists()
    if reused:
        conns = list(Connection.objects.filter(provider_id__in=ids))
        operator = get_user_model().objects.get(username="bench")
    else:
        conns = Connection.objects.bulk_create(
            [
                Connection(
                    provider_id=pid,
                    auth_method="api_key",
                    secret_hint="gsk_…0001",
                    last_checked_at=timezone.now(),
                    last_latency_ms=150,
                )
                for pid in ids
            ]
        )
        operator = operator_create(username="bench", password="bench passphrase 123")
    _, token = api_token_create(
        operator=operator, name="bench", ctx=Context.command("bench", operator)
    )
    client = Client()
    client.force_login(operator)
    api = Client(headers={"Authorization": f"Bearer {token}"})

    def timed(path: str, fetch=client.get) -> tuple[float, float]:
        fetch(path)  # warm
        samples = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            response = fetch(path)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        return statistics.median(samples), max(samples)

    baseline = {} if reused else {r: timed(f"/operations/?range={r}") for r in RANGES}
    filled = rebuilt = 0.0
    if not reused:
        filled, rebuilt = fill(conns, args.snapshots)
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("ANALYZE")
    pages = {r: timed(f"/operations/?range={r}") for r in RANGES}
    with CaptureQueriesContext(db) as captured:
        client.get("/operations/?range=30d")
    queries = captured.captured_queries
    health = timed(f"/api/control-plane/integrations/{ids[0]}/health", api.get)
    paged = timed(f"/api/control-plane/integrations/{ids[0]}/health?page=50&page_size=200", api.get)
    print(f"database            {db.vendor}")
    print(f"snapshots           {HealthSnapshot.objects.count():,} over {len(conns)} connections")
    if not reused:
        print(f"fill                {filled:.1f} s")
        print(f"summaries rebuild   {rebuilt:.1f} s ({Incident.objects.count():,} incidents)")
    for r in RANGES:
        base = f"   (no history: {baseline[r][0]:.0f} ms)" if baseline else ""
        print(f"operations {r:<4}     median {pages[r][0]:.0f} ms, max {pages[r][1]:.0f} ms{base}")
    print(f"  30 d: {len(queries)} queries, {sum(float(q['time']) for q in queries) * 1000:.0f} ms")
    for q in sorted(queries, key=lambda q: -float(q["time"]))[:3]:
        print(f"    {float(q['time']) * 1000:5.1f} ms  {q['sql'][:100]}")
    print(f"health API          median {health[0]:.0f} ms, max {health[1]:.0f} ms")
    print(f"health API page 50  median {paged[0]:.0f} ms, max {paged[1]:.0f} ms")


if __name__ == "__main__":
    main()
