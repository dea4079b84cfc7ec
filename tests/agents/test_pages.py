"""The Agents pages with Django's test client (the browser flows are in tests/browser)."""

from __future__ import annotations

from agents.models import AgentToken, PolicyVersion
from connections.models import FunctionDefault
from koda.models import AuditEvent
from tests.agents.conftest import GROQ_KEY


def policy_post(**extra) -> dict:
    data = {
        "role-0": "triage",
        "provider-0": "groq",
        "model-0": "llama-3.1-8b-instant",
        "role-1": "final",
        "provider-1": "anthropic",
        "model-1": "claude-sonnet-4-5",
        "role-2": "",
        "provider-2": "",
        "model-2": "",
        "allowed": ["groq", "anthropic"],
        "fallback": ["anthropic", ""],
    }
    data.update(extra)
    return data


def test_the_list_creates_an_agent_and_names_bad_fields(operator_client, providers):
    page = operator_client.get("/agents/")
    assert page.status_code == 200 and "No agents yet." in page.content.decode()
    bad = operator_client.post("/agents/", {"slug": "Bad Slug", "name": "Bot"})
    assert bad.status_code == 400
    assert 'aria-describedby="agent-slug-help agent-slug-error" aria-invalid="true"' in (
        bad.content.decode()
    )
    made = operator_client.post("/agents/", {"slug": "bot", "name": "Bot"})
    assert made.status_code == 302 and made["Location"] == "/agents/bot/"
    listing = operator_client.get("/agents/").content.decode()
    assert 'href="/agents/bot/"' in listing
    # An empty policy and no defaults: every role is left without a model, and the list says so.
    assert "no model" in listing


def test_the_policy_form_saves_a_version_and_shows_field_errors(operator_client, agent):
    refused = operator_client.post(
        "/agents/support-bot/policy",
        policy_post(**{"model-0": "gpt-9", "fallback": ["anthropic", "anthropic"]}),
    )
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "The policy was not saved" in body
    assert "Groq has not discovered &#x27;gpt-9&#x27;." in body
    assert "anthropic is already in the fallback order." in body
    assert 'value="gpt-9"' in body  # what was typed stays
    assert PolicyVersion.objects.filter(agent=agent).count() == 2

    saved = operator_client.post("/agents/support-bot/policy", policy_post(), follow=True)
    assert saved.redirect_chain == [("/agents/support-bot/", 302)]
    page = saved.content.decode()
    assert "Saved: the policy is version 3." in page
    assert PolicyVersion.objects.filter(agent=agent).count() == 3
    assert AuditEvent.objects.filter(action="agent.policy", via="dashboard").count() == 1
    assert 'data-role="triage"' in page and "<strong>Groq</strong> llama-3.1-8b-instant" in page


def test_the_routing_simulates_a_provider_down(operator_client, agent):
    page = operator_client.get("/agents/support-bot/?without=groq").content.decode()
    assert "As if Groq were down" in page
    assert "Groq llama-3.1-8b-instant: down (simulated)" in page
    fragment = operator_client.get(
        "/agents/support-bot/?without=groq", headers={"HX-Request": "true", "HX-Target": "routing"}
    ).content.decode()
    assert fragment.strip().startswith('<section id="routing"')


def test_restore_from_the_page(operator_client, agent):
    operator_client.post("/agents/support-bot/policy", policy_post())
    page = operator_client.post("/agents/support-bot/versions/2/restore", follow=True)
    assert "Version 2 restored as version 4." in page.content.decode()
    assert PolicyVersion.objects.get(agent=agent, number=4).restored_from == 2


def test_runtime_tokens_are_shown_once_and_revocable(operator_client, agent):
    made = operator_client.post("/agents/support-bot/tokens", {"name": "prod"})
    body = made.content.decode()
    token = body.split('data-testid="new-agent-token">')[1].split("<")[0]
    assert token.startswith("kagent_")
    again = operator_client.get("/agents/support-bot/").content.decode()
    assert token not in again and AgentToken.objects.get().prefix in again
    stored = AgentToken.objects.get()
    operator_client.post(f"/agents/support-bot/tokens/{stored.pk}/revoke")
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    assert GROQ_KEY not in again


def test_defaults_are_chosen_among_verified_models(operator_client, agent):
    page = operator_client.get("/agents/").content.decode()
    assert '<option value="openai|text-embedding-3-small">OpenAI · text-embedding-3-small' in page
    assert "no verified model for tts" in page
    operator_client.post(
        "/agents/defaults", {"function": "embedding", "choice": "openai|text-embedding-3-small"}
    )
    assert FunctionDefault.objects.get(function="embedding").model == "text-embedding-3-small"
    bad = operator_client.post("/agents/defaults", {"function": "chat", "choice": "groq|gpt-9"})
    assert bad.status_code == 400 and "Groq has not discovered" in bad.content.decode()


def test_unknown_agents_are_404(operator_client, db):
    assert operator_client.get("/agents/nobody/").status_code == 404
