"""The hot path of every agent call: `GET /agents/{id}/runtime/resolve`, served by gunicorn as
`make run` serves it, driven from this (separate) process, beside a bare Django JsonResponse view
served by the same server in the same run. Goal: at least 0.5x the bare view's requests/s.

    .venv/bin/python bench/resolve.py [--seconds 20] [--rounds 5] [--clients 8] [--workers 2]
        [--threads 4]

Each client is a thread with one keep-alive connection sending requests back to back. The
resolve answers three candidates (three connections, an override and two fallbacks), decrypts
their keys and writes the audit event each issuance needs. A throwaway SQLite file unless
DATABASE_URL is set (then a scratch schema there).
"""

from __future__ import annotations

import argparse
from urllib.parse import quote

from _serve import alternate, drive, figures, free_port, serve
from _setup import django_setup


def seed() -> str:
    """Three verified connections, an agent routing triage over them, and its runtime token."""
    from agents.services import agent_create, policy_set
    from agents.tokens import agent_token_create
    from connections.models import Connection
    from koda.context import Context

    for pid, key, models in (
        ("groq", "gsk_" + "g" * 48, ["llama-3.1-8b-instant"]),
        ("anthropic", "sk-ant-api03-" + "a" * 40, ["claude-sonnet-4-5"]),
        ("openai", "sk-proj-" + "o" * 40, ["gpt-4.1-mini"]),
    ):
        Connection.objects.create(
            provider_id=pid,
            auth_method="api_key",
            secrets={"api_key": key},
            secret_hint=key[:4] + "…",
            status="verified",
            discovered_models=[{"id": m} for m in models],
            default_model=models[0],
        )
    ctx = Context.command("bench")
    agent = agent_create(slug="bench-bot", name="Bench bot", ctx=ctx)
    policy_set(
        agent=agent,
        data={
            "roles": {"triage": {"provider": "groq", "model": "llama-3.1-8b-instant"}},
            "fallback_order": ["anthropic", "openai"],
        },
        ctx=ctx,
    )
    _, token = agent_token_create(agent=agent, name="bench", ctx=ctx)
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    django_setup()
    from django.db import connection as db

    token = seed()
    port = free_port()
    server = serve(port, args.workers, args.threads)
    try:
        auth = {"Authorization": f"Bearer {token}", "Host": "localhost"}
        resolve = f"/api/control-plane/agents/bench-bot/runtime/resolve?role={quote('triage')}"
        bare = "/api/bench/bare"
        drive(port, resolve, auth, 1, args.clients)  # warm up: imports, connections
        drive(port, bare, auth, 1, args.clients)
        targets = {"bare JsonResponse": (bare, auth), "runtime/resolve": (resolve, auth)}
        measured = alternate(port, server.pid, targets, args.seconds, args.rounds, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=10)
    from koda.models import AuditEvent

    issued = AuditEvent.objects.filter(action="agent.runtime_resolve").count()
    print(
        f"database {db.vendor}; gunicorn {args.workers} workers x {args.threads} threads; "
        f"{args.clients} clients; {args.seconds:.0f} s each"
    )
    print(f"{'':20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'server CPU ms/req':>18}")
    for name, latencies in measured.samples.items():
        rps, p50, p99 = figures(latencies, args.seconds)
        print(f"{name:20} {rps:8.0f} {p50:8.1f} {p99:8.1f} {measured.cpu_ms(name):18.2f}")
    ratios = measured.ratios["runtime/resolve"]
    print(
        f"resolve / bare       {measured.ratio('runtime/resolve'):.2f}x requests/s, median of "
        f"{args.rounds} alternating rounds ({', '.join(f'{r:.2f}' for r in ratios)}; goal ≥ 0.5x)"
    )
    cpu_ratio = measured.cpu_ms("bare JsonResponse") / measured.cpu_ms("runtime/resolve")
    print(
        f"                     {cpu_ratio:.2f}x server CPU per request; "
        f"{issued:,} issuances audited"
    )


if __name__ == "__main__":
    main()
