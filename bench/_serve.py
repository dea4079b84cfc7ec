"""Serving Koda for the benchmarks as `make run` does (gunicorn, gthread) and driving it from
this separate process: keep-alive clients, latencies, errors, and the workers' CPU time."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": f"{BENCH}{os.pathsep}{ROOT}",
    }
    if os.environ.get("DATABASE_URL"):
        sep = "&" if "?" in os.environ["DATABASE_URL"] else "?"
        env["DATABASE_URL"] = (
            os.environ["DATABASE_URL"] + sep + "options=-c%20search_path%3Dkoda_bench"
        )
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "koda.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=gthread",
            f"--threads={threads}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


class Driven(list):
    """Latencies (ms) of the requests that answered 200, and how many did not."""

    errors = 0


def drive(port: int, path: str, headers: dict, seconds: float, clients: int) -> Driven:
    """Latencies (ms) of every request `clients` keep-alive connections made in `seconds`."""
    samples = Driven()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, errors = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if response.status != 200:
                errors += 1
                continue
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            samples.extend(mine)
            samples.errors += errors

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by gunicorn's workers, from /proc (Linux): less
    swayed than requests/s by what else the machine runs."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def figures(samples: list[float], seconds: float) -> tuple[float, float, float]:
    if not samples:
        return 0.0, float("nan"), float("nan")
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(samples) / seconds, statistics.median(ordered), p99


class Rounds:
    """What `alternate` measured for each target: every latency, the errors, the workers' CPU
    seconds, and each round's requests against the first target's (the baseline)."""

    def __init__(self, names) -> None:
        self.samples: dict[str, list[float]] = {name: [] for name in names}
        self.errors = dict.fromkeys(names, 0)
        self.cpu = dict.fromkeys(names, 0.0)
        self.ratios: dict[str, list[float]] = {name: [] for name in names}

    def cpu_ms(self, name: str) -> float:
        return self.cpu[name] / max(1, len(self.samples[name])) * 1000

    def ratio(self, name: str) -> float:
        return statistics.median(self.ratios[name])


def alternate(
    port: int,
    pid: int,
    targets: dict[str, tuple[str, dict]],
    seconds: float,
    rounds: int,
    clients: int,
) -> Rounds:
    """Drive each target (name → path, headers) `seconds` in all, in `rounds` alternating
    rounds, so a noisy neighbour on a shared machine weighs on every target alike."""
    measured = Rounds(targets)
    baseline = next(iter(targets))
    for _ in range(rounds):
        counts = {}
        for name, (path, headers) in targets.items():
            before = server_cpu(pid)
            got = drive(port, path, headers, seconds / rounds, clients)
            measured.cpu[name] += server_cpu(pid) - before
            measured.samples[name] += got
            measured.errors[name] += got.errors
            counts[name] = len(got)
        for name in targets:
            measured.ratios[name].append(counts[name] / max(1, counts[baseline]))
    return measured
