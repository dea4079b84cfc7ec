"""Read throughput near the stack's ceiling: the connection state, the catalog, the health API
and an agent's runtime resolve, served by gunicorn as `make run` serves them, driven from this
(separate) process for a fixed time, beside a bare Django JsonResponse view served the same way
in the same run (alternating rounds). Goals: state and catalog at least 0.7x the bare view's
requests/s, zero errors. Then the time a verification adds on top of the provider's own latency,
over a local fake provider that answers at once (goal: at most 5 ms at the median).

    .venv/bin/python bench/load.py [--seconds 10] [--rounds 3] [--clients 8] [--workers 2]
        [--threads 4] [--verifies 300] [--hung 4]

A throwaway SQLite file unless DATABASE_URL is set (then a scratch schema there).
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import socket
import statistics
import threading
import time

from _serve import alternate, drive, figures, free_port, serve
from _setup import django_setup

MODELS = {"object": "list", "data": [{"id": f"llama-{i}", "object": "model"} for i in range(20)]}


def seed() -> str:
    """An operator's API token, every API-key provider connected, and a health history."""
    from connections.models import Connection, HealthSnapshot
    from koda.context import Context
    from koda.operators import operator_create
    from koda.tokens import api_token_create
    from providers.registry import BUILTINS

    operator = operator_create(username="bench", password="bench-password-" + "x" * 20)
    _, token = api_token_create(operator=operator, name="bench", ctx=Context.command("bench"))
    for pid, provider in BUILTINS.items():
        if pid == "openai" or not any(m.id == "api_key" for m in provider.methods):
            continue
        if Connection.objects.filter(provider_id=pid).exists():
            continue
        connection = Connection.objects.create(
            provider_id=pid,
            auth_method="api_key",
            secrets={"api_key": f"bench-{pid}-" + "k" * 40},
            secret_hint="bench…kkkk",
            status="verified",
            discovered_models=[{"id": m["id"]} for m in MODELS["data"]],
            default_model="llama-0",
        )
        HealthSnapshot.objects.bulk_create(
            HealthSnapshot(
                provider_id=pid,
                connection=connection,
                ok=True,
                outcome="ok",
                message="ok",
                trigger="sweep",
                latency_ms=100 + i,
            )
            for i in range(60)
        )
    return token


class _Fake(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = json.dumps(MODELS).encode()
    refusal = json.dumps(
        {
            "error": {
                "message": "'messages' must contain at least one message",
                "type": "invalid_request_error",
            }
        }
    ).encode()
    requests = 0  # every request answered, of every method

    def do_GET(self) -> None:
        self._answer(200, self.body)

    def do_POST(self) -> None:
        # A gateway check's empty chat request, refused as an OpenAI-compatible server does.
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(400, self.refusal)

    def _answer(self, status: int, body: bytes) -> None:
        type(self).requests += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def hanging_provider() -> int:
    """A TCP server that accepts and never answers; Ollama's connection points at it."""
    from connections.models import Connection

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            conn, _ = sock.accept()
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    port = sock.getsockname()[1]
    Connection.objects.update_or_create(
        provider_id="ollama",
        defaults={
            "auth_method": "local_endpoint",
            "config": {"endpoint_url": f"http://127.0.0.1:{port}"},
            "secrets": None,
            "status": "verified",
        },
    )
    return port


def while_hanging(port: int, headers: dict, seconds: float, clients: int, hung: int) -> list:
    """Connection state driven while `hung` operators' verifications wait on the hanging
    provider (each holds a web thread until KODA_VERIFY_TIMEOUT_SECONDS)."""
    stop = threading.Event()

    def hang() -> None:
        while not stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request(
                "POST", "/api/control-plane/providers/ollama/connection/verify", headers=headers
            )
            conn.getresponse().read()
            conn.close()

    threads = [threading.Thread(target=hang, daemon=True) for _ in range(hung)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # they are waiting now
    got = drive(port, "/api/control-plane/providers/groq/connection", headers, seconds, clients)
    stop.set()
    return got


def verify_overhead(count: int) -> tuple[float, float, float, float, float]:
    """Median and p99 (ms) of a bare GET of the fake's /models, and of a whole verification
    of a connection whose base URL is the fake (probes, classification, snapshot, audit), and
    how many requests a verification makes (a gateway's: models, key info, budget proof)."""
    from connections.models import Connection
    from connections.services import connection_verify
    from koda.context import Context
    from providers.registry import PROVIDERS

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/openai/v1"
    groq = Connection.objects.get(provider_id="groq")
    groq.config = {**(groq.config or {}), "base_url": base}
    groq.save()
    provider, ctx = PROVIDERS["groq"], Context.command("bench")

    bare, full = [], []
    _Fake.requests = 0
    for _ in range(count):
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("GET", "/openai/v1/models", headers={"Authorization": "Bearer x"})
        conn.getresponse().read()
        conn.close()
        bare.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        _, result = connection_verify(provider=provider, ctx=ctx)
        full.append((time.perf_counter() - started) * 1000)
        if not result.ok:
            raise SystemExit(f"the bench's verification failed: {result.outcome} {result.message}")
    server.shutdown()
    per_verify = (_Fake.requests - count) / count

    def p99(values: list[float]) -> float:
        return sorted(values)[min(len(values) - 1, int(len(values) * 0.99))]

    return statistics.median(bare), p99(bare), statistics.median(full), p99(full), per_verify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="per target, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--verifies", type=int, default=300)
    parser.add_argument("--hung", type=int, default=4, help="verifications left hanging")
    args = parser.parse_args()
    django_setup()
    from django.db import connection as db
    from resolve import seed as seed_agent

    agent_token = seed_agent()
    token = seed()
    operator = {"Authorization": f"Bearer {token}", "Host": "localhost"}
    agent = {"Authorization": f"Bearer {agent_token}", "Host": "localhost"}
    targets = {
        "bare JsonResponse": ("/api/bench/bare", operator),
        "connection state": ("/api/control-plane/providers/groq/connection", operator),
        "catalog": ("/api/control-plane/connections/catalog", operator),
        "health": ("/api/control-plane/integrations/groq/health", operator),
        "runtime resolve": (
            "/api/control-plane/agents/bench-bot/runtime/resolve?role=triage",
            agent,
        ),
    }
    hanging_provider()
    port = free_port()
    server = serve(port, args.workers, args.threads)
    try:
        for path, headers in targets.values():
            drive(port, path, headers, 1, args.clients)  # warm up
        measured = alternate(port, server.pid, targets, args.seconds, args.rounds, args.clients)
        hung = while_hanging(port, operator, args.seconds / args.rounds, args.clients, args.hung)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(
        f"database {db.vendor}; gunicorn {args.workers} workers x {args.threads} threads; "
        f"{args.clients} clients; {args.seconds:g} s per target in {args.rounds} rounds"
    )
    print(
        f"{'':18} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7} {'CPU ms/req':>10}"
        f" {'vs bare':>8}"
    )
    for name in targets:
        rps, p50, p99 = figures(measured.samples[name], args.seconds)
        goal = "  (goal ≥ 0.7x)" if name in ("connection state", "catalog") else ""
        print(
            f"{name:18} {rps:7.0f} {p50:7.1f} {p99:7.1f} {measured.errors[name]:7d}"
            f" {measured.cpu_ms(name):10.2f} {measured.ratio(name):7.2f}x{goal}"
        )
    alone = figures(measured.samples["connection state"], args.seconds)
    during = figures(hung, args.seconds / args.rounds)
    print(
        f"\nconnection state while {args.hung} verifications hang on a provider that never "
        f"answers: {during[0]:.0f} req/s, p50 {during[1]:.1f} ms, p99 {during[2]:.1f} ms, "
        f"{hung.errors} errors (alone: {alone[0]:.0f} req/s, p99 {alone[2]:.1f} ms)"
    )
    if args.verifies:
        bare50, bare99, full50, full99, calls = verify_overhead(args.verifies)
        own = bare50 * calls
        print(
            f"\nverification over a local fake ({args.verifies} runs, {calls:g} requests each): "
            f"one bare request p50 {bare50:.1f} ms / p99 {bare99:.1f} ms; whole verify "
            f"p50 {full50:.1f} ms / p99 {full99:.1f} ms; Koda adds {full50 - own:.1f} ms at the "
            f"median over the provider's own {own:.1f} ms (goal ≤ 5 ms), as long as "
            f"{(full50 - own) / bare50:.1f} bare requests (the machine's speed moves the ms)"
        )


if __name__ == "__main__":
    main()
