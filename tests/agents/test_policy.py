"""Agents and their model policies through the API: field-level validation, warnings, versions
with diffs, restore, the audit trail."""

from __future__ import annotations

import copy

import pytest

from agents.models import PolicyVersion
from koda.models import AuditEvent
from tests.agents.conftest import POLICY
from tests.conftest import assert_error


def put_policy(api, policy, agent="support-bot"):
    return api.call("PUT", f"/agents/{agent}/model-policy", policy)


def test_an_agent_is_created_listed_and_starts_with_an_empty_policy(api, providers):
    made = api.call("POST", "/agents", {"id": "research", "name": "Research"})
    assert made.status_code == 201, made.content
    assert made.json()["agent"] == {
        "id": "research",
        "name": "Research",
        "version": 1,
        "created_at": made.json()["agent"]["created_at"],
    }
    assert [a["id"] for a in api.get("/agents").json()["agents"]] == ["research"]
    policy = api.get("/agents/research/model-policy").json()
    assert policy["roles"] == {} and policy["fallback_order"] == [] and policy["version"] == 1
    assert AuditEvent.objects.filter(action="agent.create", target="agent:research").exists()

    again = api.call("POST", "/agents", {"id": "research", "name": "Again"})
    assert_error(again, 409, "agent_exists")
    for body, field in (
        ({"id": "Not A Slug", "name": "x"}, "id"),
        ({"id": "ok", "name": ""}, "name"),
    ):
        bad = api.call("POST", "/agents", body)
        assert set(assert_error(bad, 400, "invalid_input")["details"]["fields"]) == {field}


def test_a_valid_policy_is_a_new_version_and_the_same_policy_again_is_not(api, agent):
    current = api.get("/agents/support-bot/model-policy").json()
    assert current["version"] == 2 and current["roles"] == POLICY["roles"]
    assert current["warnings"] == []

    same = put_policy(api, POLICY)
    assert same.status_code == 200 and same.json()["version"] == 2
    changed = copy.deepcopy(POLICY)
    changed["roles"]["draft"] = {"provider": "openai", "model": "gpt-4.1-mini"}
    answer = put_policy(api, changed)
    assert answer.status_code == 200, answer.content
    assert answer.json()["version"] == 3
    assert PolicyVersion.objects.filter(agent=agent).count() == 3


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"roles": {"triage": {"provider": "nonesuch", "model": "x"}}},
            "roles.triage.provider",
            "Unknown provider",
        ),
        (
            {"roles": {"triage": {"provider": "groq", "model": "gpt-9"}}},
            "roles.triage.model",
            "has not discovered 'gpt-9'",
        ),
        (
            {"roles": {"final": {"provider": "anthropic", "model": "claude-sonnet-4-5"}}},
            "roles.final.provider",
            "not among the providers this agent may use",
        ),
        ({"fallback_order": ["groq", "groq"]}, "fallback_order.1", "already in the fallback"),
        ({"fallback_order": ["openai"]}, "fallback_order.0", "not among the providers"),
        ({"roles": {"Bad Role!": {"provider": "groq", "model": "x"}}}, "roles.Bad Role!", "role"),
        ({"roles": {"x": {"provider": "mistral", "model": "m"}}}, "roles.x.provider", "connected"),
    ],
)
def test_invalid_policies_get_field_level_errors_and_change_nothing(
    api, agent, change, field, words
):
    policy = {"roles": {}, "allowed_providers": ["groq"], "fallback_order": []}
    if "mistral" in str(change) or "nonesuch" in str(change) or "gpt-9" in str(change):
        policy["allowed_providers"] = []
    policy.update(change)
    answer = put_policy(api, policy)
    error = assert_error(answer, 400, "invalid_policy")
    assert field in error["details"]["fields"], error
    assert any(words in m for m in error["details"]["fields"][field]), error
    assert PolicyVersion.objects.filter(agent=agent).count() == 2


def test_provider_aliases_become_ids_and_bodies_that_are_not_policies_are_refused(api, agent):
    answer = put_policy(api, {"roles": {}, "fallback_order": ["claude"], "allowed_providers": []})
    assert answer.status_code == 200, answer.content
    assert answer.json()["fallback_order"] == ["anthropic"]
    assert_error(put_policy(api, {"roles": {}, "extra": 1}), 400, "unknown_fields")
    assert_error(put_policy(api, {"roles": []}), 400, "invalid_input")
    assert_error(put_policy(api, {"roles": {"t": "groq"}}), 400, "invalid_policy")
    assert_error(put_policy(api, {}, agent="nobody"), 404, "unknown_agent")


def test_one_vendor_for_every_candidate_is_a_warning_not_an_error(api, agent):
    answer = put_policy(
        api,
        {
            "roles": {"triage": {"provider": "groq", "model": "llama-3.1-8b-instant"}},
            "allowed_providers": [],
            "fallback_order": ["groq"],
        },
    )
    assert answer.status_code == 200, answer.content
    (warning,) = answer.json()["warnings"]
    assert "Groq" in warning and "Two vendors" in warning
    assert api.get("/agents/support-bot/model-policy").json()["warnings"] == [warning]


def test_versions_carry_diffs_and_a_restore_is_itself_a_new_audited_version(api, agent):
    smaller = copy.deepcopy(POLICY)
    del smaller["roles"]["final"]
    smaller["fallback_order"] = ["openai"]
    assert put_policy(api, smaller).json()["version"] == 3

    history = api.get("/agents/support-bot/model-policy/versions").json()["versions"]
    assert [v["number"] for v in history] == [3, 2, 1]
    assert history[0]["changes"] == [
        {
            "field": "roles.final",
            "before": {"provider": "anthropic", "model": "claude-sonnet-4-5"},
            "after": None,
        },
        {"field": "fallback_order", "before": ["anthropic", "openai"], "after": ["openai"]},
    ]
    assert history[0]["actor"].startswith("ada (token ")

    restored = api.call("POST", "/agents/support-bot/model-policy/versions/2/restore", {})
    assert restored.status_code == 200, restored.content
    assert restored.json()["version"] == 4 and restored.json()["roles"] == POLICY["roles"]
    newest = api.get("/agents/support-bot/model-policy/versions").json()["versions"][0]
    assert newest["restored_from"] == 2
    assert {c["field"] for c in newest["changes"]} == {"roles.final", "fallback_order"}

    events = AuditEvent.objects.filter(target="agent:support-bot").order_by("pk")
    actions = [e.action for e in events]
    assert actions.count("agent.policy") == 2 and actions[-1] == "agent.policy_restore"
    assert events.last().diff["restored_from"] == 2
    missing = api.call("POST", "/agents/support-bot/model-policy/versions/99/restore", {})
    assert_error(missing, 404, "unknown_version")


def test_restoring_a_version_that_no_longer_fits_the_connections_is_refused(api, agent, providers):
    providers["anthropic"].delete()
    answer = api.call("POST", "/agents/support-bot/model-policy/versions/2/restore", {})
    error = assert_error(answer, 400, "invalid_policy")
    assert "roles.final.provider" in error["details"]["fields"]


def test_the_agents_api_is_for_operators(client, agent):
    from tests.conftest import ApiClient

    anonymous = ApiClient(client)
    assert anonymous.get("/agents").status_code == 401
    assert anonymous.call("PUT", "/agents/support-bot/model-policy", POLICY).status_code == 401
