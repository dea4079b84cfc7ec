"""Operator-defined OpenAI-compatible providers: added through the API and the dashboard, then
providers like the others (connection, verification, health, models, defaults, agents), and
removed only when nothing uses them."""

from __future__ import annotations

import pytest
import responses
from django.utils import timezone

from agents.services import agent_create, policy_set
from connections.models import Connection
from koda.context import Context
from koda.models import AuditEvent
from providers.models import CustomProvider
from providers.registry import PROVIDERS, get_provider
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db

VLLM = "http://127.0.0.1:8000/v1"
VLLM_MODELS = {
    "object": "list",
    "data": [
        {"id": "Qwen/Qwen2.5-7B-Instruct", "object": "model", "owned_by": "vllm"},
        {"id": "BAAI/bge-small-en-v1.5-embed", "object": "model", "owned_by": "vllm"},
    ],
}
TOGETHER_KEY = "tgp_v1_CustomProviderKey0123456789abcdefGHIJ"


def add(api, **body):
    return api.call("POST", "/providers", body)


def test_a_preset_fills_the_defaults_and_the_provider_joins_the_catalog(api):
    answer = add(api, id="lab-vllm", name="Lab vLLM", preset="vllm")
    assert answer.status_code == 201, answer.content
    entry = answer.json()
    assert entry["custom"] is True and entry["preset"] == "vllm" and entry["kind"] == "local"
    assert entry["default_base_url"] == VLLM
    assert entry["capabilities"] == ["chat", "embedding"]
    (method,) = entry["auth_methods"]
    assert method["id"] == "local_endpoint"
    assert {f["name"]: f["required"] for f in method["fields"]} == {
        "endpoint_url": False,
        "api_key": False,
    }
    catalog = api.get("/connections/catalog").json()["providers"]
    assert catalog[-1]["id"] == "lab-vllm"
    event = AuditEvent.objects.get(action="provider.create")
    assert event.target == "provider:lab-vllm" and event.diff["base_url"] == VLLM


@responses.activate
def test_a_custom_provider_connects_verifies_and_serves_an_agent(api):
    add(api, id="lab-vllm", name="Lab vLLM", preset="vllm")
    responses.add("GET", f"{VLLM}/models", json=VLLM_MODELS)
    answer = api.call("PUT", "/providers/lab-vllm/connection/local", {})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["connection"]["status"] == "verified"
    assert body["verification"]["models"] == [m["id"] for m in VLLM_MODELS["data"]]
    assert "Authorization" not in responses.calls[0].request.headers  # needs no key
    assert (
        api.call(
            "PUT",
            "/providers/lab-vllm/connection/default-model",
            {"model": "Qwen/Qwen2.5-7B-Instruct"},
        ).status_code
        == 200
    )
    health = api.get("/integrations/lab-vllm/health").json()
    assert health["name"] == "Lab vLLM" and health["status"] == "verified"

    ctx = Context.command("tests")
    agent = agent_create(slug="lab-bot", name="Lab bot", ctx=ctx)
    policy_set(
        agent=agent,
        data={"roles": {"triage": {"provider": "lab-vllm", "model": "Qwen/Qwen2.5-7B-Instruct"}}},
        ctx=ctx,
    )
    resolved = api.get("/agents/lab-bot/model-policy/resolve?role=triage").json()["resolved"]
    assert resolved == {
        "provider": "lab-vllm",
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "source": "override",
    }
    embedding = api.get("/providers/embedding/models").json()
    assert any(m["provider_id"] == "lab-vllm" for m in embedding["models"]), embedding


@responses.activate
def test_a_cloud_preset_takes_a_key_and_sends_its_extra_headers(api):
    answer = add(
        api,
        id="together",
        name="Together",
        preset="together",
        headers={"X-Team": "agents"},
    )
    assert answer.status_code == 201, answer.content
    responses.add("GET", "https://api.together.xyz/v1/models", json=VLLM_MODELS)
    configured = api.call(
        "PUT", "/providers/together/connection/api-key", {"api_key": TOGETHER_KEY}
    )
    assert configured.status_code == 200, configured.content
    sent = responses.calls[0].request.headers
    assert sent["Authorization"] == f"Bearer {TOGETHER_KEY}" and sent["X-Team"] == "agents"
    assert TOGETHER_KEY not in str(AuditEvent.objects.values_list("diff", flat=True))


def test_a_cloud_preset_is_held_to_the_cloud_egress_rules(api):
    add(api, id="corp-gw", name="Corp gateway", base_url="http://10.0.0.5:8080/v1")
    answer = api.call(
        "PUT", "/providers/corp-gw/connection/api-key", {"api_key": "corp-key-0123456789"}
    )
    error = assert_error(answer, 422, "verification_failed")
    assert error["details"]["verification"]["outcome"] == "blocked_destination"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "openai", "name": "Mine"}, "id"),
        ({"id": "claude", "name": "Mine"}, "id"),
        ({"id": "new", "name": "Mine"}, "id"),
        ({"id": "Bad_Id", "name": "Mine"}, "id"),
        ({"id": "ok-id", "name": "Mine", "preset": "nope"}, "preset"),
        ({"id": "ok-id", "name": "Mine", "base_url": "ftp://x"}, "base_url"),
        ({"id": "ok-id", "name": "Mine"}, "base_url"),  # generic: no default URL
        (
            {"id": "ok-id", "name": "M", "preset": "vllm", "headers": {"Authorization": "x"}},
            "headers",
        ),
        (
            {"id": "ok-id", "name": "M", "preset": "vllm", "capabilities": ["telepathy"]},
            "capabilities",
        ),
    ],
)
def test_bad_definitions_are_refused_field_by_field(api, body, field):
    error = assert_error(add(api, **body), 400, "invalid_input")
    assert field in error["details"]["fields"], error
    assert not CustomProvider.objects.exists()


def test_it_is_removed_only_when_nothing_uses_it(api):
    add(api, id="lab-vllm", name="Lab vLLM", preset="vllm")
    Connection.objects.create(provider_id="lab-vllm", auth_method="local_endpoint")
    ctx = Context.command("tests")
    agent = agent_create(slug="lab-bot", name="Lab bot", ctx=ctx)
    policy_set(agent=agent, data={"fallback_order": ["lab-vllm"]}, ctx=ctx)

    refused = assert_error(api.call("DELETE", "/providers/lab-vllm"), 409, "provider_in_use")
    assert refused["details"]["connected"] is True
    assert refused["details"]["agents"] == [
        {"agent": "lab-bot", "name": "Lab bot", "where": "fallback_order"}
    ]
    assert "Lab bot (fallback_order)" in refused["message"]
    Connection.objects.filter(provider_id="lab-vllm").delete()
    policy_set(agent=agent, data={"fallback_order": []}, ctx=ctx)
    answer = api.call("DELETE", "/providers/lab-vllm")
    assert answer.status_code == 200 and answer.json() == {
        "provider_id": "lab-vllm",
        "deleted": True,
    }
    assert get_provider("lab-vllm") is None
    assert AuditEvent.objects.filter(action="provider.delete").count() == 1
    assert_error(api.call("DELETE", "/providers/openai"), 409, "builtin_provider")
    assert_error(api.call("DELETE", "/providers/nope"), 404, "unknown_provider")


def test_another_worker_sees_a_new_provider_on_its_first_request_for_it(api):
    CustomProvider.objects.create(
        id="seen-late",
        name="Seen late",
        preset="generic",
        base_url="https://llm.example/v1",
        updated_at=timezone.now(),
    )  # written by another process: this one's registry has not reloaded
    assert get_provider("seen-late").name == "Seen late"
    assert "seen-late" in PROVIDERS


def test_the_dashboard_adds_one_from_a_preset_and_refuses_its_removal_while_used(operator_client):
    form = operator_client.get("/providers/new/?preset=lmstudio").content.decode()
    assert 'value="http://127.0.0.1:1234/v1"' in form and 'value="LM Studio"' in form
    bad = operator_client.post(
        "/providers/new/",
        {
            "preset": "lmstudio",
            "id": "openai",
            "name": "LM",
            "base_url": "http://127.0.0.1:1234/v1",
        },
    )
    assert bad.status_code == 400 and "is taken" in bad.content.decode()
    made = operator_client.post(
        "/providers/new/",
        {
            "preset": "lmstudio",
            "id": "desk-lms",
            "name": "Desk LM Studio",
            "base_url": "http://127.0.0.1:1234/v1",
            "capabilities": ["chat"],
            "headers": "X-Desk: 7",
        },
    )
    assert made.status_code == 302 and made["Location"] == "/providers/desk-lms/"
    page = operator_client.get("/providers/desk-lms/").content.decode()
    assert "Desk LM Studio" in page and "Remove Desk LM Studio" in page
    assert PROVIDERS["desk-lms"].extra_headers == {"X-Desk": "7"}
    Connection.objects.create(provider_id="desk-lms", auth_method="local_endpoint")
    refused = operator_client.post("/providers/desk-lms/remove")
    assert refused.status_code == 409 and "it is connected" in refused.content.decode()
    Connection.objects.all().delete()
    assert operator_client.post("/providers/desk-lms/remove")["Location"] == "/"
    assert not CustomProvider.objects.exists()


@responses.activate
def test_a_connected_custom_provider_is_on_operations_and_swept(api, operator_client):
    from connections.health import _check

    add(api, id="lab-vllm", name="Lab vLLM", preset="vllm")
    responses.add("GET", f"{VLLM}/models", json=VLLM_MODELS)
    api.call("PUT", "/providers/lab-vllm/connection/local", {})
    Connection.objects.filter(provider_id="lab-vllm").update(next_check_at=None)
    assert _check("lab-vllm") == "ok"  # what each sweep worker does with a claimed row
    page = operator_client.get("/operations/").content.decode()
    assert "Lab vLLM" in page
