"""Before a provider is disconnected or its default model changes, the agents and roles that
depend on it are named, in the API (409 confirmation_required) and on the provider page."""

from __future__ import annotations

from connections.models import Connection
from koda.models import AuditEvent
from tests.agents.conftest import connect
from tests.conftest import assert_error


def test_disconnecting_a_provider_agents_use_needs_confirmation(api, agent):
    refused = api.call("DELETE", "/providers/groq/connection")
    error = assert_error(refused, 409, "confirmation_required")
    assert error["details"]["affected"] == [
        {
            "agent": "support-bot",
            "name": "Support bot",
            "role": "triage",
            "now": {"provider": "groq", "model": "llama-3.1-8b-instant"},
            "then": {"provider": "anthropic", "model": "claude-sonnet-4-5"},
            "effect": "moves to Anthropic claude-sonnet-4-5",
        }
    ]
    assert "?confirm=true" in error["message"]
    assert Connection.objects.filter(provider_id="groq").exists()
    assert_error(
        api.call("POST", "/providers/groq/connection/disconnect?confirm=maybe"),
        400,
        "invalid_input",
    )

    done = api.call("POST", "/providers/groq/connection/disconnect?confirm=true")
    assert done.status_code == 200, done.content
    assert not Connection.objects.filter(provider_id="groq").exists()
    event = AuditEvent.objects.get(action="connection.disconnect")
    assert event.diff["affected"][0]["role"] == "triage"


def test_a_provider_nobody_depends_on_disconnects_at_once(api, agent):
    connect("mistral", ["mistral-small-latest"], api_key="mistral-key-0123456789abcdef")
    assert api.call("DELETE", "/providers/mistral/connection").status_code == 200


def test_a_role_with_nowhere_to_go_breaks(api, agent):
    api.call(
        "PUT",
        "/agents/support-bot/model-policy",
        {
            "roles": {"final": {"provider": "anthropic", "model": "claude-sonnet-4-5"}},
            "allowed_providers": ["anthropic"],
            "fallback_order": [],
        },
    )
    error = assert_error(
        api.call("DELETE", "/providers/anthropic/connection"), 409, "confirmation_required"
    )
    assert [(a["role"], a["then"]) for a in error["details"]["affected"]] == [("final", None)]
    assert error["details"]["affected"][0]["effect"] == "breaks: no candidate left"
    resolve = api.get("/agents/support-bot/model-policy/resolve?role=final&without=anthropic")
    assert resolve.json()["resolved"] is None


def test_a_new_default_model_moves_the_roles_a_fallback_serves(api, agent):
    # chat has no override: it goes to the first fallback, Anthropic, with its default model.
    assert (
        api.get("/agents/support-bot/model-policy/resolve?role=chat").json()["resolved"]["model"]
        == "claude-sonnet-4-5"
    )
    path = "/providers/anthropic/connection/default-model"
    error = assert_error(
        api.call("PUT", path, {"model": "claude-haiku-4-5"}), 409, "confirmation_required"
    )
    roles = {a["role"]: a["effect"] for a in error["details"]["affected"]}
    # final names its model in an override, triage is Groq's: neither moves.
    assert roles == {"chat": "moves to Anthropic claude-haiku-4-5"}
    assert Connection.objects.get(provider_id="anthropic").default_model == "claude-sonnet-4-5"
    done = api.call("PUT", path + "?confirm=true", {"model": "claude-haiku-4-5"})
    assert done.status_code == 200, done.content
    assert Connection.objects.get(provider_id="anthropic").default_model == "claude-haiku-4-5"
    assert api.call("PUT", path, {"model": "claude-haiku-4-5"}).status_code == 200  # no change


def test_the_provider_page_names_the_dependents_and_asks_before_disconnecting(
    operator_client, agent
):
    page = operator_client.get("/providers/groq/").content.decode()
    assert 'data-testid="dependents"' in page
    assert "Support bot" in page and "moves to Anthropic claude-sonnet-4-5" in page
    assert "Agents that use it: Support bot (triage) moves to Anthropic" in page  # hx-confirm

    # Without JavaScript: the first post asks, naming them; the confirmed one disconnects.
    asked = operator_client.post("/providers/groq/disconnect")
    assert asked.status_code == 200
    body = asked.content.decode()
    assert 'data-testid="confirm"' in body and "Disconnect anyway" in body
    assert Connection.objects.filter(provider_id="groq").exists()
    stale = operator_client.post("/providers/groq/disconnect", {"confirm": "other-bot/triage"})
    assert 'data-testid="confirm"' in stale.content.decode()
    done = operator_client.post("/providers/groq/disconnect", {"confirm": "support-bot/triage"})
    assert done.status_code == 302
    assert not Connection.objects.filter(provider_id="groq").exists()


def test_the_default_model_form_asks_before_moving_agents(operator_client, agent):
    asked = operator_client.post(
        "/providers/anthropic/default-model", {"model": "claude-haiku-4-5"}
    )
    body = asked.content.decode()
    assert "Make claude-haiku-4-5 the default?" in body and "<code>chat</code>" in body
    assert Connection.objects.get(provider_id="anthropic").default_model == "claude-sonnet-4-5"
    operator_client.post(
        "/providers/anthropic/default-model",
        {"model": "claude-haiku-4-5", "confirm": "support-bot/chat"},
    )
    assert Connection.objects.get(provider_id="anthropic").default_model == "claude-haiku-4-5"
