"""The runtime side: agent tokens, the one exit for a secret (runtime/resolve), and reports of
failed calls that move every agent to its fallback."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection as db
from django.test import Client, override_settings

from agents.models import AgentToken, RuntimeReport
from agents.services import agent_create
from agents.tokens import agent_token_create, agent_token_revoke
from connections.models import Connection, HealthSnapshot, Status
from koda.context import Context
from koda.models import AuditEvent
from koda.redaction import secret_hint
from tests.agents.conftest import ANTHROPIC_KEY, GROQ_KEY, OPENAI_KEY
from tests.conftest import ApiClient, assert_error

RESOLVE = "/agents/support-bot/runtime/resolve?role=triage"
REPORT = "/agents/support-bot/runtime/report"
KEYS = (GROQ_KEY, ANTHROPIC_KEY, OPENAI_KEY)


@pytest.fixture
def runtime(agent_token) -> ApiClient:
    return ApiClient(Client(REMOTE_ADDR="10.1.2.3"), agent_token)


def everything_stored() -> str:
    with db.cursor() as cursor:
        rows = []
        for table in (
            "connections_connection",
            "connections_healthsnapshot",
            "koda_auditevent",
            "agents_runtimereport",
            "agents_policyversion",
            "agents_agenttoken",
        ):
            cursor.execute(f"SELECT * FROM {table}")
            rows += cursor.fetchall()
    return repr(rows)


def test_the_runtime_gets_each_candidate_with_what_it_needs_to_call_it(runtime, caplog):
    caplog.set_level(logging.DEBUG)
    answer = runtime.get(RESOLVE)
    assert answer.status_code == 200, answer.content
    assert answer["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["role"] == "triage" and body["skipped"] == []
    groq, anthropic, openai = body["candidates"]
    assert groq == {
        "provider": "groq",
        "model": "llama-3.1-8b-instant",
        "source": "override",
        "protocol": "openai",
        "base_url": "https://api.groq.com/openai/v1",
        "headers": {},
        "paths": {},
        "credential": {"api_key": GROQ_KEY},
    }
    assert anthropic["protocol"] == "anthropic"
    assert anthropic["base_url"] == "https://api.anthropic.com"
    assert anthropic["headers"] == {"anthropic-version": "2023-06-01"}
    assert anthropic["credential"] == {"api_key": ANTHROPIC_KEY}
    assert openai["headers"] == {
        "OpenAI-Organization": "org-AgentTests",
        "OpenAI-Project": "proj_AgentTests",
    }

    (event,) = AuditEvent.objects.filter(action="agent.runtime_resolve")
    assert event.via == "runtime" and event.client_address == "10.1.2.3"
    assert event.actor_label.startswith("agent support-bot (token kagent_")
    assert event.diff["role"] == "triage"
    assert event.diff["issued"] == [
        {"provider": "groq", "model": "llama-3.1-8b-instant", "secret_hint": secret_hint(GROQ_KEY)},
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "secret_hint": secret_hint(ANTHROPIC_KEY),
        },
        {"provider": "openai", "model": "gpt-4.1-mini", "secret_hint": secret_hint(OPENAI_KEY)},
    ]
    stored, logged = everything_stored(), caplog.text
    for key in KEYS:
        assert key not in stored and key not in logged


def test_only_providers_the_agent_may_use_are_issued(runtime, api, agent):
    api.call(
        "PUT",
        "/agents/support-bot/model-policy",
        {
            "roles": {"triage": {"provider": "groq", "model": "llama-3.1-8b-instant"}},
            "allowed_providers": ["groq"],
            "fallback_order": [],
        },
    )
    api.call("PUT", "/defaults/chat", {"provider": "openai", "model": "gpt-4.1-mini"})
    body = runtime.get(RESOLVE).json()
    assert [c["provider"] for c in body["candidates"]] == ["groq"]
    assert OPENAI_KEY not in str(body) and ANTHROPIC_KEY not in str(body)
    assert body["skipped"] == [
        {"provider": "openai", "model": "gpt-4.1-mini", "reason": "not_allowed"}
    ]


def test_operators_never_read_a_secret(agent, api, cookie_api, client):
    for caller in (api, cookie_api):
        answer = caller.get(RESOLVE)
        error = assert_error(answer, 403, "agent_token_required")
        assert "create_agent_token" in error["message"]
        assert_error(
            caller.call("POST", REPORT, {"provider": "groq", "model": "m", "outcome": "timeout"}),
            403,
            "agent_token_required",
        )
    assert_error(ApiClient(client).get(RESOLVE), 401, "authentication_required")
    assert not AuditEvent.objects.filter(action="agent.runtime_resolve").exists()


def test_an_agent_token_opens_nothing_else(runtime, agent, operator):
    other = agent_create(slug="other-bot", name="Other", ctx=Context.command("tests"))
    assert_error(runtime.get("/agents/other-bot/runtime/resolve?role=triage"), 403, "wrong_agent")
    assert_error(runtime.get("/agents"), 401, "invalid_token")
    assert_error(runtime.get("/agents/support-bot/model-policy"), 401, "invalid_token")
    assert_error(runtime.get("/providers/groq/connection"), 401, "invalid_token")
    _, token = agent_token_create(agent=other, name="t", ctx=Context.command("tests"))
    mine = ApiClient(Client(), token).get("/agents/other-bot/runtime/resolve?role=triage")
    assert mine.status_code == 200


def test_a_revoked_token_is_refused(runtime, agent):
    assert runtime.get(RESOLVE).status_code == 200
    token = AgentToken.objects.get(agent=agent)
    assert token.last_used_at is not None
    agent_token_revoke(token=token, ctx=Context.command("tests"))
    assert_error(runtime.get(RESOLVE), 401, "invalid_token")
    assert AuditEvent.objects.filter(action="agent_token.revoke").count() == 1
    forged = ApiClient(Client(), "kagent_" + "x" * 43)
    assert_error(forged.get(RESOLVE), 401, "invalid_token")


def test_create_agent_token_prints_the_token_alone(agent):
    out = io.StringIO()
    call_command("create_agent_token", "--agent", "support-bot", stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("kagent_") and "\n" not in token and len(token) > 40
    stored = AgentToken.objects.get(agent=agent, name="cli")
    assert stored.token_hash != token and token not in everything_stored()
    assert ApiClient(Client(), token).get(RESOLVE).status_code == 200
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no agent 'nobody'"):
        call_command("create_agent_token", "--agent", "nobody")


def report(runtime, **body):
    return runtime.call(
        "POST", REPORT, {"provider": "groq", "model": "llama-3.1-8b-instant", **body}
    )


def test_a_report_degrades_the_connection_and_the_next_resolve_moves_on(runtime, agent, api):
    answer = report(
        runtime,
        outcome="rate_limited",
        http_status=429,
        raw_error=f'{{"error": "slow down", "key": "{GROQ_KEY}"}}',
    )
    assert answer.status_code == 202, answer.content
    assert answer.json()["connection_status"] == "degraded"
    snapshot = HealthSnapshot.objects.filter(provider_id="groq").first()
    assert (snapshot.trigger, snapshot.outcome, snapshot.http_status) == (
        "runtime",
        "rate_limited",
        429,
    )
    assert GROQ_KEY not in snapshot.raw_error and "slow down" in snapshot.raw_error
    assert "support-bot" in snapshot.probe
    connection = Connection.objects.get(provider_id="groq")
    assert connection.status == Status.DEGRADED
    assert (connection.next_check_at - snapshot.created_at).total_seconds() <= 31

    # Every agent moves: the operator's view and the runtime agree.
    assert [c["provider"] for c in runtime.get(RESOLVE).json()["candidates"]] == [
        "anthropic",
        "openai",
        "groq",
    ]
    assert (
        api.get("/agents/support-bot/model-policy/resolve?role=triage").json()["resolved"][
            "provider"
        ]
        == "anthropic"
    )
    health = api.get("/integrations/groq/health").json()
    assert health["status"] == "degraded"
    assert health["snapshots"][0]["trigger"] == "runtime"
    assert GROQ_KEY not in str(health)


def test_a_revoked_key_reported_fails_the_connection(runtime, agent):
    answer = report(
        runtime, outcome="revoked_credentials", http_status=401, raw_error="key revoked"
    )
    assert answer.json()["connection_status"] == "failing"
    body = runtime.get(RESOLVE).json()
    assert body["skipped"] == [
        {"provider": "groq", "model": "llama-3.1-8b-instant", "reason": "failing"}
    ]
    assert RuntimeReport.objects.get().outcome == "revoked_credentials"


def test_bad_reports_get_field_errors(runtime, agent):
    cases = [
        ({"provider": "nonesuch", "outcome": "timeout"}, "provider"),
        ({"outcome": "ok"}, "outcome"),
        ({"outcome": "exploded"}, "outcome"),
        ({"outcome": "timeout", "http_status": 42}, "http_status"),
    ]
    for body, field in cases:
        error = assert_error(report(runtime, **body), 400, "invalid_input")
        assert field in error["details"]["fields"], error
    assert_error(
        runtime.call("POST", REPORT, {"provider": "groq", "outcome": "timeout"}),
        400,
        "invalid_input",
    )
    assert not HealthSnapshot.objects.exists()


@override_settings(KODA_RUNTIME_REPORTS_PER_MINUTE=3)
def test_a_looping_runtime_cannot_flood_the_history(runtime, agent):
    for _ in range(3):
        assert report(runtime, outcome="timeout").status_code == 202
    refused = report(runtime, outcome="timeout")
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert HealthSnapshot.objects.filter(trigger="runtime").count() == 3


def candidates(runtime) -> list[tuple[str, str, dict]]:
    body = runtime.get(RESOLVE).json()
    return [(c["provider"], c["model"], c["credential"]) for c in body["candidates"]]


def test_every_change_to_what_routing_reads_is_seen_by_the_next_resolve(runtime, api, agent):
    """The runtime keeps a per-process copy of connections and defaults (connections.routing);
    whatever changes them, by a service or a bulk update, shows in the very next answer."""
    assert [c[0] for c in candidates(runtime)] == ["groq", "anthropic", "openai"]

    Connection.objects.filter(provider_id="groq").update(status=Status.FAILING)  # bulk: no save()
    assert [c[0] for c in candidates(runtime)] == ["anthropic", "openai"]
    Connection.objects.filter(provider_id="groq").update(status=Status.VERIFIED)

    rotated = "gsk_RotatedAgentKey0123456789abcdefABCDEFGH"
    groq = Connection.objects.get(provider_id="groq")
    groq.secrets = {"api_key": rotated}
    groq.save()  # a rotation: the new key, and only it, is issued from now on
    assert candidates(runtime)[0][2] == {"api_key": rotated}

    Connection.objects.filter(provider_id="anthropic").update(default_model="claude-haiku-4-5")
    assert candidates(runtime)[1][:2] == ("anthropic", "claude-haiku-4-5")

    api.call("DELETE", "/providers/openai/connection?confirm=true")
    assert [c[0] for c in candidates(runtime)] == ["groq", "anthropic"]


def test_a_new_policy_version_is_seen_by_the_next_resolve(runtime, api, agent):
    assert candidates(runtime)[0][0] == "groq"
    api.call(
        "PUT",
        "/agents/support-bot/model-policy",
        {
            "roles": {"triage": {"provider": "openai", "model": "gpt-4.1-mini"}},
            "allowed_providers": [],
            "fallback_order": [],
        },
    )
    assert [c[:2] for c in candidates(runtime)] == [("openai", "gpt-4.1-mini")]


def test_a_signed_in_provider_is_issued_its_access_token_never_its_refresh_token(
    runtime, providers
):
    access, refresh = "sk-ant-oat01-" + "A" * 40, "sk-ant-ort01-" + "R" * 40
    Connection.objects.filter(provider_id="anthropic").update(
        auth_method="login", config={"email": "ops@example.com"}, secret_hint=""
    )
    stored = Connection.objects.get(provider_id="anthropic")
    stored.secrets = {"access_token": access, "refresh_token": refresh}
    stored.save()
    answer = runtime.get(RESOLVE)
    assert answer.status_code == 200, answer.content
    anthropic = answer.json()["candidates"][1]
    assert anthropic["credential"] == {"access_token": access}
    assert anthropic["headers"] == {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "oauth-2025-04-20",
    }
    assert refresh not in answer.content.decode()
