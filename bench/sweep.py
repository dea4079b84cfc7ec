"""Sweep throughput: N connections against a local fake provider with a fixed latency.

    .venv/bin/python bench/sweep.py [--connections 200] [--latency 0.2] [--concurrency 20]

Prints the sweep's wall time and its ratio to the ideal, ceil(N / concurrency) * latency.
Uses a throwaway SQLite file unless DATABASE_URL is set (then a scratch schema there).
"""

from __future__ import annotations

import argparse
import math
import time

from _setup import django_setup, synthetic_providers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per provider answer")
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    django_setup()

    from django.db import connection as db

    from connections.health import sweep_once
    from connections.models import Connection, HealthSnapshot
    from providers.adapters.openai_compatible import Groq
    from tests.fake_provider import FakeProvider

    fake = FakeProvider(latency=args.latency)
    ids = synthetic_providers(args.connections, Groq)
    Connection.objects.bulk_create(
        [
            Connection(
                provider_id=pid,
                auth_method="api_key",
                secrets={"api_key": "gsk_good_bench_key_0001"},
                secret_hint="gsk_…0001",
                config={"base_url": fake.base_url},
            )
            for pid in ids
        ]
    )
    started = time.monotonic()
    report = sweep_once(concurrency=args.concurrency)
    wall = time.monotonic() - started
    fake.close()
    ideal = math.ceil(args.connections / args.concurrency) * args.latency
    print(f"database      {db.vendor}")
    print(f"connections   {args.connections}")
    print(f"concurrency   {args.concurrency}")
    print(f"latency       {args.latency * 1000:.0f} ms")
    print(f"checked       {report.checked} ({report.outcomes})")
    print(f"snapshots     {HealthSnapshot.objects.count()}")
    print(f"provider hits {fake.server.hits}")
    print(f"wall time     {wall:.2f} s")
    print(f"ideal         {ideal:.2f} s")
    print(f"ratio         {wall / ideal:.2f}x")


if __name__ == "__main__":
    main()
