"""Which model each role of an agent uses: the order of candidates, every skipped one with its
reason, simulations, and the global defaults per function."""

from __future__ import annotations

import json

import responses

from connections.models import Connection, Status
from koda.models import AuditEvent
from tests.agents.conftest import GROQ_KEY, connect
from tests.conftest import assert_error

GROQ = "https://api.groq.com/openai/v1/models"


def resolve(api, role, agent="support-bot", **params):
    query = "&".join(f"{k}={v}" for k, v in {"role": role, **params}.items())
    return api.get(f"/agents/{agent}/model-policy/resolve?{query}")


def providers_of(answer) -> list[tuple[str, str, str]]:
    return [(c["provider"], c["model"], c["source"]) for c in answer["candidates"]]


def test_the_override_comes_first_then_the_fallbacks_in_order(api, agent):
    answer = resolve(api, "triage").json()
    assert answer["role"] == "triage" and answer["function"] == "chat"
    assert answer["resolved"] == {
        "provider": "groq",
        "model": "llama-3.1-8b-instant",
        "source": "override",
    }
    assert providers_of(answer) == [
        ("groq", "llama-3.1-8b-instant", "override"),
        ("anthropic", "claude-sonnet-4-5", "fallback"),
        ("openai", "gpt-4.1-mini", "fallback"),
    ]
    assert answer["skipped"] == []


def test_a_failing_primary_is_skipped_with_its_reason(api, agent, providers):
    Connection.objects.filter(provider_id="groq").update(status=Status.FAILING)
    answer = resolve(api, "triage").json()
    assert answer["resolved"]["provider"] == "anthropic"
    assert answer["skipped"] == [
        {"provider": "groq", "model": "llama-3.1-8b-instant", "reason": "failing"}
    ]


def test_a_degraded_primary_stays_a_candidate_behind_the_healthy_ones(api, agent):
    Connection.objects.filter(provider_id="groq").update(status=Status.DEGRADED)
    answer = resolve(api, "triage").json()
    assert [c[0] for c in providers_of(answer)] == ["anthropic", "openai", "groq"]


def test_when_every_candidate_is_failing_the_answer_says_so(api, agent):
    Connection.objects.update(status=Status.FAILING)
    answer = resolve(api, "triage")
    assert answer.status_code == 200
    body = answer.json()
    assert body["resolved"] is None and body["candidates"] == []
    assert "No usable model for role 'triage'" in body["message"]
    assert [s["reason"] for s in body["skipped"]] == ["failing", "failing", "failing"]


def test_what_if_a_provider_were_down(api, agent):
    answer = resolve(api, "triage", without="groq,openai").json()
    assert answer["resolved"]["provider"] == "anthropic"
    assert {(s["provider"], s["reason"]) for s in answer["skipped"]} == {
        ("groq", "simulated_down"),
        ("openai", "simulated_down"),
    }
    assert_error(resolve(api, "triage", without="nonesuch"), 400, "invalid_input")
    assert_error(api.get("/agents/support-bot/model-policy/resolve"), 400, "invalid_input")
    assert_error(resolve(api, "triage", agent="nobody"), 404, "unknown_agent")


def test_a_provider_that_is_not_allowed_or_not_connected_is_skipped(api, agent, providers):
    api.call(
        "PUT",
        "/agents/support-bot/model-policy",
        {"roles": {}, "allowed_providers": ["groq", "mistral"], "fallback_order": ["mistral"]},
    )
    api.call(
        "PUT", "/defaults/chat", {"provider": "anthropic", "model": "claude-haiku-4-5"}
    )  # a default the agent may not use
    answer = resolve(api, "draft").json()
    assert answer["resolved"] is None
    assert answer["skipped"] == [
        {"provider": "mistral", "model": None, "reason": "not_connected"},
        {"provider": "anthropic", "model": "claude-haiku-4-5", "reason": "not_allowed"},
    ]


def test_a_role_without_an_override_uses_the_default_for_its_function(api, agent):
    assert api.get("/defaults").json()["defaults"] == {
        "chat": None,
        "embedding": None,
        "tts": None,
        "stt": None,
    }
    chosen = api.call(
        "PUT", "/defaults/embedding", {"provider": "openai", "model": "text-embedding-3-small"}
    )
    assert chosen.status_code == 200, chosen.content
    answer = resolve(api, "embedding").json()
    # Anthropic serves no embedding model: the fallback has nothing for the role.
    assert providers_of(answer) == [("openai", "text-embedding-3-small", "fallback")]
    assert {"provider": "anthropic", "model": None, "reason": "no_model_for_role"} in (
        answer["skipped"]
    )
    assert {"provider": "openai", "model": "text-embedding-3-small", "reason": "duplicate"} in (
        answer["skipped"]
    )
    assert api.get("/defaults").json()["defaults"]["embedding"] == {
        "provider": "openai",
        "model": "text-embedding-3-small",
    }
    event = AuditEvent.objects.get(action="default.embedding")
    assert event.diff == {"before": None, "after": "openai:text-embedding-3-small"}


def test_invalid_defaults_get_field_errors(api, agent, providers):
    Connection.objects.filter(provider_id="groq").update(status=Status.FAILING)
    cases = [
        ("chat", {"provider": "nonesuch", "model": "x"}, "provider"),
        ("chat", {"provider": "groq", "model": "llama-3.1-8b-instant"}, "provider"),
        ("chat", {"provider": "anthropic", "model": "gpt-9"}, "model"),
        ("poetry", {"provider": "anthropic", "model": "claude-haiku-4-5"}, "function"),
    ]
    for function, body, field in cases:
        answer = api.call("PUT", f"/defaults/{function}", body)
        assert field in assert_error(answer, 400, "invalid_input")["details"]["fields"]


def test_a_model_that_disappears_on_reverification_is_skipped(api, agent, providers):
    """Groq drops llama-3.1-8b-instant: the next verify rewrites the discovered models, and the
    triage override no longer resolves to it."""
    remaining = {"object": "list", "data": [{"id": "llama-3.3-70b-versatile", "active": True}]}
    with responses.RequestsMock() as rsps:
        rsps.add("GET", GROQ, body=json.dumps(remaining), content_type="application/json")
        verified = api.call("POST", "/providers/groq/connection/verify")
        assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {GROQ_KEY}"
    assert verified.status_code == 200, verified.content
    answer = resolve(api, "triage").json()
    assert answer["resolved"]["provider"] == "anthropic"
    assert answer["skipped"] == [
        {"provider": "groq", "model": "llama-3.1-8b-instant", "reason": "model_not_discovered"}
    ]


def test_a_fallback_serves_chat_with_its_default_model(api, agent, providers):
    connect("mistral", ["mistral-small-latest", "mistral-large-latest"], default_model="")
    api.call(
        "PUT",
        "/agents/support-bot/model-policy",
        {"roles": {}, "allowed_providers": [], "fallback_order": ["mistral", "anthropic"]},
    )
    Connection.objects.filter(provider_id="anthropic").update(default_model="claude-haiku-4-5")
    assert providers_of(resolve(api, "summary").json()) == [
        ("mistral", "mistral-small-latest", "fallback"),  # no default model: its first chat one
        ("anthropic", "claude-haiku-4-5", "fallback"),
    ]


def test_a_default_model_that_disappears_on_reverification_is_skipped_not_replaced(api, agent):
    """The global chat default and Groq's own default name a model Groq then drops: nothing
    silently picks another of Groq's models; the candidates say what happened."""
    api.call("PUT", "/defaults/chat", {"provider": "groq", "model": "llama-3.1-8b-instant"})
    api.call(
        "PUT",
        "/agents/support-bot/model-policy",
        {"roles": {}, "allowed_providers": ["groq"], "fallback_order": ["groq"]},
    )
    assert resolve(api, "chat").json()["resolved"]["model"] == "llama-3.1-8b-instant"
    remaining = {"object": "list", "data": [{"id": "llama-3.3-70b-versatile", "active": True}]}
    with responses.RequestsMock() as rsps:
        rsps.add("GET", GROQ, body=json.dumps(remaining), content_type="application/json")
        assert api.call("POST", "/providers/groq/connection/verify").status_code == 200
    answer = resolve(api, "chat").json()
    assert answer["resolved"] is None
    assert answer["skipped"] == [
        {"provider": "groq", "model": "llama-3.1-8b-instant", "reason": "model_not_discovered"},
        {"provider": "groq", "model": "llama-3.1-8b-instant", "reason": "model_not_discovered"},
    ]
