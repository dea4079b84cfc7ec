"""Built-in providers verified through a gateway (a LiteLLM proxy): each case failed before
providers/gateway.py. Bodies are LiteLLM's own (proxy/_types.py ProxyErrorTypes, the auth checks'
messages, /key/info), as captured in its source and issue threads."""

from __future__ import annotations

import pytest
import responses

from providers.fields import AuthMethod
from providers.registry import PROVIDERS
from providers.values import Credential, Outcome

GW = "https://llm-gateway.example"
KEY = "sk-litellm-Virtual0123456789abcdefGHIJ"

BUDGET = {
    "error": {
        "message": "Budget has been exceeded! Current cost: 10.0003, Max budget: 10.0",
        "type": "budget_exceeded",
        "param": None,
        "code": "400",
    }
}
BLOCKED = {
    "error": {
        "message": "Authentication Error, Key is blocked. Update via `/key/unblock` if you're "
        "an admin.",
        "type": "auth_error",
        "param": "None",
        "code": "401",
    }
}
EXPIRED = {
    "error": {
        "message": "Authentication Error - Expired Key. Key Expiry time 2026-11-01 00:00:00+00:00 "
        "and current time 2026-12-01 09:00:00+00:00",
        "type": "expired_key",
        "param": None,
        "code": "400",
    }
}
NOT_FOUND = {
    "error": {
        "message": "Authentication Error, Invalid proxy server token passed. Received API Key = "
        "sk-...GHIJ, Key Hash (Token) =5e1f0c. Unable to find token in cache or "
        "`LiteLLM_VerificationTokenTable`",
        "type": "token_not_found_in_db",
        "param": "key",
        "code": "401",
    }
}
NO_DB = {
    "error": {
        "message": "No connected db.",
        "type": "no_db_connection",
        "param": None,
        "code": "400",
    }
}
EMPTY_REFUSED = {
    "error": {
        "message": "litellm.BadRequestError: OpenAIException - [] is too short - 'messages'",
        "type": None,
        "param": None,
        "code": "400",
    }
}
MODELS = {"object": "list", "data": [{"id": "team-gpt", "object": "model", "owned_by": "openai"}]}
KEY_INFO = {
    "key": "5e1f0c",
    "info": {
        "key_name": "sk-...GHIJ",
        "spend": 3.25,
        "max_budget": 10.0,
        "expires": "2027-01-01T00:00:00+00:00",
        "blocked": None,
        "models": [],
    },
}

# The providers whose list LiteLLM serves as OpenAI does (anthropic: its own /v1/models shape).
OPENAI_SHAPED = ["openai", "groq", "mistral", "qwen", "perplexity"]


def base_for(provider_id: str) -> str:
    return f"{GW}/{provider_id}" + ("" if provider_id == "anthropic" else "/v1")


def credential(provider_id: str) -> Credential:
    return Credential(AuthMethod.API_KEY, {"base_url": base_for(provider_id)}, {"api_key": KEY})


def gateway(rsps, provider_id: str, *, models=200, key_info=404, chat=(400, EMPTY_REFUSED)):
    base = base_for(provider_id)
    if provider_id == "anthropic":
        listed = {"data": [{"id": "claude-sonnet-4-5", "type": "model"}], "has_more": False}
        rsps.add("GET", f"{base}/v1/models", status=200, json=listed)
        rsps.add("POST", f"{base}/v1/messages", status=chat[0], json=chat[1])
    else:
        body = MODELS if models == 200 else models[1]
        rsps.add("GET", f"{base}/models", status=200 if models == 200 else models[0], json=body)
        rsps.add("POST", f"{base}/chat/completions", status=chat[0], json=chat[1])
    if key_info == 404:
        rsps.add("GET", f"{GW}/key/info", status=404, json={"detail": "Not Found"})
    else:
        rsps.add("GET", f"{GW}/key/info", status=200, json=key_info)


@pytest.mark.parametrize("provider_id", [*OPENAI_SHAPED, "anthropic"])
@responses.activate
def test_a_spent_litellm_budget_is_billing_not_ok(provider_id):
    gateway(responses, provider_id, chat=(400, BUDGET))
    result = PROVIDERS[provider_id].verify(credential(provider_id))
    assert result.outcome == Outcome.BILLING, (result.outcome, result.message)
    assert "Budget has been exceeded" in result.message
    assert "llm-gateway.example" in result.remedy and "budget" in result.remedy
    assert "platform.openai.com" not in result.remedy + result.message
    assert "budget_exceeded" in result.raw_error


@pytest.mark.parametrize("provider_id", OPENAI_SHAPED)
@responses.activate
def test_a_spent_budget_is_also_read_from_litellm_key_info(provider_id):
    info = {**KEY_INFO, "info": {**KEY_INFO["info"], "spend": 10.02}}
    gateway(responses, provider_id, key_info=info, chat=(200, {}))
    result = PROVIDERS[provider_id].verify(credential(provider_id))
    assert result.outcome == Outcome.BILLING
    assert "spent 10.02 of its 10 budget" in result.message


@pytest.mark.parametrize(
    ("body", "status", "outcome"),
    [
        (BLOCKED, 401, Outcome.REVOKED_CREDENTIALS),
        (EXPIRED, 400, Outcome.REVOKED_CREDENTIALS),
        (NOT_FOUND, 401, Outcome.INVALID_CREDENTIALS),
    ],
    ids=["blocked", "expired", "not_found"],
)
@responses.activate
def test_litellm_key_states_read_by_their_type(body, status, outcome):
    gateway(responses, "openai", models=(status, body))
    result = PROVIDERS["openai"].verify(credential("openai"))
    assert result.outcome == outcome, result.message
    assert result.message.startswith("llm-gateway.example (gateway)")
    assert "platform.openai.com" not in result.remedy
    assert "administrator" in result.remedy or "gateway" in result.remedy


@responses.activate
def test_a_gateway_without_its_database_says_it_is_misconfigured():
    gateway(responses, "groq", models=(400, NO_DB))
    result = PROVIDERS["groq"].verify(credential("groq"))
    assert result.outcome == Outcome.PROVIDER_UNAVAILABLE
    assert "misconfigured" in result.message and "DATABASE_URL" in result.remedy


@pytest.mark.parametrize(
    ("provider_id", "vendor_path"),
    [
        ("openrouter", "/key"),
        ("deepseek", "/user/balance"),
        ("xai", "/api-key"),
        ("kimi", "/users/me/balance"),
    ],
)
@responses.activate
def test_a_vendor_key_info_probe_missing_at_the_gateway_falls_back_to_its_models(
    provider_id, vendor_path
):
    base = base_for(provider_id)
    responses.add("GET", base + vendor_path, status=404, json={"detail": "Not Found"})
    gateway(responses, provider_id)
    result = PROVIDERS[provider_id].verify(credential(provider_id))
    assert result.ok, result.message
    assert [m.id for m in result.models] == ["team-gpt"]
    assert any(f"no {vendor_path}" in n for n in result.notes)
    assert any("Checked through the gateway at llm-gateway.example" in n for n in result.notes)


@responses.activate
def test_perplexity_through_a_gateway_does_not_take_a_refused_key_for_ok():
    gateway(responses, "perplexity", chat=(401, NOT_FOUND))
    result = PROVIDERS["perplexity"].verify(credential("perplexity"))
    assert result.outcome == Outcome.INVALID_CREDENTIALS
    assert "sonar" not in " ".join(m.id for m in result.models)


@responses.activate
def test_litellm_key_info_spend_and_budget_are_shown():
    gateway(responses, "openai", key_info=KEY_INFO)
    result = PROVIDERS["openai"].verify(credential("openai"))
    assert result.ok, result.message
    assert result.details == {
        "spend": "3.25",
        "budget": "10",
        "key_expires": "2027-01-01T00:00:00+00:00",
    }
    chat = next(c for c in responses.calls if c.request.method == "POST")
    assert b'"messages": []' in chat.request.body  # nothing to generate
    assert not any("OpenAI's model list answers" in n for n in result.notes)  # a vendor note


@responses.activate
def test_the_vendors_own_regional_hosts_are_not_gateways():
    responses.add(
        "GET",
        "https://api.eu.residency.elevenlabs.io/v1/user/subscription",
        json={"tier": "creator", "character_count": 10, "character_limit": 100000},
    )
    provider = PROVIDERS["elevenlabs"]
    eu = Credential(
        AuthMethod.API_KEY,
        {"base_url": "https://api.eu.residency.elevenlabs.io"},
        {"api_key": "sk_" + "e" * 48},
    )
    assert not provider.via_gateway(eu)
    assert PROVIDERS["openai"].via_gateway(credential("openai"))
    kimi_cn = Credential(
        AuthMethod.API_KEY, {"base_url": "https://api.moonshot.cn/v1"}, {"api_key": KEY}
    )
    assert not PROVIDERS["kimi"].via_gateway(kimi_cn)


@responses.activate
def test_a_local_litellm_provider_proves_its_budget_on_127_0_0_1(settings):
    """Added as a local provider, a LiteLLM proxy on this machine gets the same checks: its key
    info and the budget proof go by the local egress rules, like the model list."""
    from types import SimpleNamespace

    from providers.custom import OpenAICompatible

    settings.KODA_ALLOW_PRIVATE_BASE_URLS = False
    proxy = OpenAICompatible(
        SimpleNamespace(
            id="team-litellm",
            name="Team LiteLLM",
            preset="litellm",
            base_url="http://127.0.0.1:4000",
            requires_key=True,
            headers={},
            capabilities=["chat"],
        )
    )
    responses.add("GET", "http://127.0.0.1:4000/models", json=MODELS)
    responses.add("GET", "http://127.0.0.1:4000/key/info", json=KEY_INFO)
    responses.add("POST", "http://127.0.0.1:4000/chat/completions", status=400, json=BUDGET)
    credential = Credential(AuthMethod.LOCAL_ENDPOINT, {}, {"api_key": KEY})
    result = proxy.verify(credential)
    assert result.outcome == Outcome.BILLING, (result.message, result.notes)
    assert result.details["spend"] == "3.25"
    assert len(responses.calls) == 3
