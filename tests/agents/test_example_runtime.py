"""examples/agent_runtime.py, run as a program against Koda over HTTP and the fake provider: it
resolves a role, calls the candidate with the official openai SDK, reports a failure and moves on;
the report moves the next resolve."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.models import RuntimeReport
from agents.services import agent_create, policy_set
from agents.tokens import agent_token_create
from connections.models import Connection, HealthSnapshot, Status
from koda.context import Context
from tests.agents.conftest import GROQ_MODELS, connect
from tests.fake_provider import FakeProvider

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agent_runtime.py"
DOWN_KEY = "gsk_down_GroqIsHavingABadDay0123456789"
GOOD_KEY = "gsk_good_MistralWorksFine0123456789ab"


@pytest.fixture
def fake():
    server = FakeProvider()
    yield server
    server.close()


def run_example(koda, token: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "KODA_URL": koda.url, "KODA_AGENT_TOKEN": token}
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_example_runtime_falls_back_reports_and_the_next_resolve_moves_on(koda, fake):
    connect("groq", GROQ_MODELS, api_key=DOWN_KEY, base_url=fake.base_url)
    connect("mistral", ["mistral-small-latest"], api_key=GOOD_KEY, base_url=fake.base_url)
    ctx = Context.command("tests")
    agent = agent_create(slug="support-bot", name="Support bot", ctx=ctx)
    policy_set(
        agent=agent,
        data={
            "roles": {"triage": {"provider": "groq", "model": "llama-3.1-8b-instant"}},
            "fallback_order": ["mistral"],
        },
        ctx=ctx,
    )
    _, token = agent_token_create(agent=agent, name="example", ctx=ctx)

    first = run_example(koda, token, "--agent", "support-bot", "--role", "triage", "Hello")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "[mistral mistral-small-latest] echo: Hello"
    assert "groq llama-3.1-8b-instant failed: provider_unavailable" in first.stderr
    assert [(c["model"], c["key"]) for c in fake.server.chats] == [
        ("llama-3.1-8b-instant", DOWN_KEY),
        ("mistral-small-latest", GOOD_KEY),
    ]
    for key in (DOWN_KEY, GOOD_KEY, token):
        assert key not in first.stdout + first.stderr

    report = RuntimeReport.objects.get()
    assert (report.provider_id, report.outcome, report.http_status) == (
        "groq",
        "provider_unavailable",
        503,
    )
    snapshot = HealthSnapshot.objects.get(trigger="runtime")
    assert "Service Unavailable" in snapshot.raw_error and DOWN_KEY not in snapshot.raw_error
    assert Connection.objects.get(provider_id="groq").status == Status.DEGRADED

    # Groq is degraded now: the next resolve puts the healthy Mistral first.
    second = run_example(koda, token, "--agent", "support-bot", "--role", "triage", "Again")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "[mistral mistral-small-latest] echo: Again"
    assert "failed" not in second.stderr
    assert len(fake.server.chats) == 3 and fake.server.chats[-1]["key"] == GOOD_KEY


def test_the_example_says_so_when_nothing_answers(koda, fake):
    connect("groq", GROQ_MODELS, api_key="gsk_revoked_0123456789abcdef", base_url=fake.base_url)
    ctx = Context.command("tests")
    agent = agent_create(slug="solo", name="Solo", ctx=ctx)
    policy_set(agent=agent, data={"fallback_order": ["groq"]}, ctx=ctx)
    _, token = agent_token_create(agent=agent, name="example", ctx=ctx)
    failed = run_example(koda, token, "--agent", "solo", "--role", "chat", "Hi")
    assert failed.returncode == 1
    assert "groq llama-3.1-8b-instant failed: invalid_credentials" in failed.stderr
    assert "No model answered for role 'chat'" in failed.stderr
    assert Connection.objects.get(provider_id="groq").status == Status.FAILING

    refused = run_example(koda, "kagent_not-a-real-token", "--agent", "solo", "--role", "chat", "x")
    assert refused.returncode == 1
    assert "Koda refused (401 invalid_token)" in refused.stderr
