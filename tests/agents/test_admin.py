"""Agents in admin: policy versions (who, when, what changed) for auditors, runtime tokens
without their hash, revocation through the same service as the agent page."""

from __future__ import annotations

import copy

from agents.models import AgentToken, PolicyVersion
from agents.services import policy_set
from koda.context import Context
from koda.models import AuditEvent
from tests.agents.conftest import POLICY


def test_versions_read_with_their_policy_and_changes_and_cannot_be_edited(operator_client, agent):
    changed = copy.deepcopy(POLICY)
    changed["fallback_order"] = ["openai"]
    policy_set(agent=agent, data=changed, ctx=Context.command("tests"))
    version = PolicyVersion.objects.get(agent=agent, number=3)
    listing = operator_client.get(f"/admin/agents/policyversion/?agent__id__exact={agent.pk}")
    assert listing.status_code == 200 and b"command tests" in listing.content
    detail = operator_client.get(f"/admin/agents/policyversion/{version.pk}/change/").content
    assert b"&quot;fallback_order&quot;" in detail and b"llama-3.1-8b-instant" in detail
    assert b"Changes from the version before" in detail and b"&quot;openai&quot;" in detail
    assert operator_client.get("/admin/agents/policyversion/add/").status_code == 403
    assert (
        operator_client.post(f"/admin/agents/policyversion/{version.pk}/delete/").status_code == 403
    )
    agent_page = operator_client.get(f"/admin/agents/agent/{agent.pk}/change/")
    assert agent_page.status_code == 200 and b"Policy versions" in agent_page.content


def test_runtime_tokens_show_no_hash_and_revoke_through_the_service(
    operator_client, agent, agent_token
):
    token = AgentToken.objects.get()
    listing = operator_client.get("/admin/agents/agenttoken/").content
    assert token.prefix.encode() in listing
    detail = operator_client.get(f"/admin/agents/agenttoken/{token.pk}/change/").content
    assert token.token_hash.encode() not in detail and agent_token.encode() not in detail
    answer = operator_client.post(
        "/admin/agents/agenttoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert answer.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action="agent_token.revoke")
    assert event.via == "admin" and event.actor_label == "ada"
