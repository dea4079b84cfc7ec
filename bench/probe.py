"""What the HTTP seam costs per probe: `providers.http.probe` (egress check, connection pinned to
the checked address, deadline watchdog, bounded read, redaction) against a plain requests call
with a fresh session, to the same local server in the same run.

    .venv/bin/python bench/probe.py --calls 500
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import django_setup


def timed(call, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    django_setup()
    import requests

    from providers import http
    from tests.fake_provider import FakeProvider

    fake = FakeProvider()
    url = fake.base_url + "/models"
    headers = {"Authorization": "Bearer gsk_good_bench_key_0001"}

    def plain() -> None:
        with requests.Session() as session:
            session.get(url, headers=headers, timeout=10, allow_redirects=False).json()

    def seam() -> None:
        http.probe("GET", url, headers=headers, secrets=("gsk_good_bench_key_0001",), local=True)

    timed(plain, 20), timed(seam, 20)  # warm up
    rows = {"requests (baseline)": timed(plain, args.calls), "http.probe": timed(seam, args.calls)}
    fake.close()
    print(f"calls {args.calls} to {url}")
    print(f"{'':22} {'median µs':>10} {'p95 µs':>10}")
    for name, samples in rows.items():
        p95 = statistics.quantiles(samples, n=20)[-1]
        print(f"{name:22} {statistics.median(samples):10.0f} {p95:10.0f}")
    base, seam_median = (statistics.median(s) for s in rows.values())
    print(f"seam / baseline        {seam_median / base:10.2f}x")


if __name__ == "__main__":
    main()
