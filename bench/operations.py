"""Operations page and health API response times over a large history.

    .venv/bin/python bench/operations.py [--snapshots 1000000] [--connections 50] [--repeat 5]

Fills the snapshots over the connections, spread across the retention window (30 days), then
times the Operations page and the health API in-process (Django's test client: routing,
queries, rendering; no network). Uses a throwaway SQLite file unless DATABASE_URL is set (then
a scratch schema there).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from _setup import django_setup, synthetic_providers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    django_setup()

    from django.db import connection as db
    from django.test import Client
    from django.utils import timezone

    from connections.models import Connection, HealthSnapshot
    from koda.context import Context
    from koda.operators import operator_create
    from koda.tokens import api_token_create
    from providers.adapters.openai_compatible import Groq

    ids = synthetic_providers(args.connections, Groq)
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
    # Spread the history over 30 days; created_at is set explicitly here.
    HealthSnapshot._meta.get_field("created_at").auto_now_add = False
    now = timezone.now()
    span = timedelta(days=30).total_seconds()
    step = span / (args.snapshots / len(conns))
    started = time.monotonic()
    batch = []
    for i in range(args.snapshots):
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
    fill = time.monotonic() - started
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("ANALYZE connections_healthsnapshot")

    operator = operator_create(username="bench", password="bench passphrase 123")
    _, token = api_token_create(
        operator=operator, name="bench", ctx=Context.command("bench", operator)
    )
    client = Client()
    client.force_login(operator)
    api = Client(headers={"Authorization": f"Bearer {token}"})

    def timed(fetch) -> tuple[float, float]:
        samples = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            response = fetch()
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        return statistics.median(samples), max(samples)

    ops = timed(lambda: client.get("/operations/"))
    health = timed(lambda: api.get(f"/api/control-plane/integrations/{ids[0]}/health"))
    paged = timed(
        lambda: api.get(f"/api/control-plane/integrations/{ids[0]}/health?page=50&page_size=200")
    )
    print(f"database            {db.vendor}")
    print(f"snapshots           {HealthSnapshot.objects.count():,} over {len(conns)} connections")
    print(f"fill                {fill:.1f} s")
    print(f"operations page     median {ops[0]:.0f} ms, max {ops[1]:.0f} ms")
    print(f"health API          median {health[0]:.0f} ms, max {health[1]:.0f} ms")
    print(f"health API page 50  median {paged[0]:.0f} ms, max {paged[1]:.0f} ms")


if __name__ == "__main__":
    main()
