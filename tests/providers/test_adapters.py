"""Each API-key adapter against the contract, with bodies from ../shared/providers.md."""

from __future__ import annotations

import json

import responses

from providers.values import Credit
from providers.values import Outcome as O
from tests.providers.contract import ProviderContract

CLOUDFLARE_403 = (
    "<html><head><title>Attention Required! | Cloudflare</title></head>"
    "<body>Sorry, you have been blocked</body></html>"
)


def openai_list(*ids: str) -> dict:
    return {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": 1721172741, "owned_by": "system"} for i in ids
        ],
    }


def oai_error(message: str, type_: str | None = "invalid_request_error", code=None) -> dict:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class TestAnthropic(ProviderContract):
    provider_id = "anthropic"
    key = "sk-ant-api03-Q2xhdWRlVGVzdEtleU9ubHk-0123456789abcdefABCD"
    ROUTES = {
        "/v1/models?limit=1000": {
            "data": [
                {
                    "type": "model",
                    "id": "claude-sonnet-4-5",
                    "display_name": "Claude Sonnet 4.5",
                    "created_at": "2025-09-29T00:00:00Z",
                },
                {
                    "type": "model",
                    "id": "claude-haiku-4-5",
                    "display_name": "Claude Haiku 4.5",
                    "created_at": "2025-10-01T00:00:00Z",
                },
            ],
            "first_id": "claude-sonnet-4-5",
            "last_id": "claude-haiku-4-5",
            "has_more": False,
        }
    }
    EXPECTED_MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5"]
    P = "/v1/models?limit=1000"

    def err(type_, message):
        return {
            "type": "error",
            "error": {"type": type_, "message": message},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        }

    FAILURES = {
        "invalid_key": (
            P,
            401,
            err("authentication_error", "invalid x-api-key"),
            O.INVALID_CREDENTIALS,
        ),
        "oauth_token": (
            P,
            401,
            err("authentication_error", "OAuth authentication is currently not supported."),
            O.INVALID_CREDENTIALS,
        ),
        "org_disabled": (
            P,
            400,
            err("invalid_request_error", "This organization has been disabled."),
            O.REVOKED_CREDENTIALS,
        ),
        "low_credit": (
            P,
            400,
            err(
                "invalid_request_error",
                "Your credit balance is too low to access the Anthropic API. "
                "Please go to Plans & Billing to upgrade or purchase credits.",
            ),
            O.BILLING,
        ),
        "billing_error": (P, 402, err("billing_error", "Payment required"), O.BILLING),
        "permission": (
            P,
            403,
            err(
                "permission_error",
                "Your API key does not have permission to use the specified resource.",
            ),
            O.INSUFFICIENT_SCOPE,
        ),
        "region": (
            P,
            403,
            {"error": {"type": "forbidden", "message": "Request not allowed"}},
            O.REGION_UNSUPPORTED,
        ),
        "rate_limited": (
            P,
            429,
            err(
                "rate_limit_error",
                "This request would exceed your account's rate limit. Please try again later.",
            ),
            O.RATE_LIMITED,
            {"retry-after": "30"},
        ),
        "overloaded": (P, 529, err("overloaded_error", "Overloaded"), O.PROVIDER_UNAVAILABLE),
        "api_error": (P, 500, err("api_error", "Internal server error"), O.PROVIDER_UNAVAILABLE),
        "not_found": (P, 404, err("not_found_error", "Not Found"), O.ENDPOINT_NOT_FOUND),
    }

    @responses.activate
    def test_it_sends_the_key_and_version_headers(self):
        self.register(responses)
        self.provider.verify(self.credential())
        headers = responses.calls[0].request.headers
        assert headers["x-api-key"] == self.key
        assert headers["anthropic-version"] == "2023-06-01"
        assert "Authorization" not in headers


class TestOpenAI(ProviderContract):
    provider_id = "openai"
    key = "sk-proj-T3BlbkFJtestkeyONLYforKODAtests0123456789abcd"
    ROUTES = {"/models": openai_list("gpt-4o-mini", "gpt-4.1", "text-embedding-3-small")}
    EXPECTED_MODELS = ["gpt-4o-mini", "text-embedding-3-small"]
    FAILURES = {
        "invalid_key": (
            "/models",
            401,
            oai_error(
                "Incorrect API key provided: sk-proj-****abcd. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            ),
            O.INVALID_CREDENTIALS,
        ),
        "missing_key": (
            "/models",
            401,
            oai_error("You didn't provide an API key."),
            O.INVALID_CREDENTIALS,
        ),
        "deactivated": (
            "/models",
            401,
            oai_error(
                "This key is associated with a deactivated account. If you feel this is an error, "
                "contact us through our help center at help.openai.com.",
                code="account_deactivated",
            ),
            O.REVOKED_CREDENTIALS,
        ),
        "restricted_key": (
            "/models",
            401,
            oai_error(
                "You have insufficient permissions for this operation. Missing scopes: model.read. "
                "Check that you have the correct role in your organization (Reader, Writer, Owner) "
                "and project (Member, Owner), and if you're using a restricted API key, that it has "
                "the necessary scopes."
            ),
            O.INSUFFICIENT_SCOPE,
        ),
        "org_mismatch": (
            "/models",
            401,
            oai_error(
                "OpenAI-Organization header should match organization for API key",
                code="mismatched_organization",
            ),
            O.INVALID_CREDENTIALS,
        ),
        "no_quota": (
            "/models",
            429,
            oai_error(
                "You exceeded your current quota, please check your plan and billing details.",
                type_="insufficient_quota",
                code="insufficient_quota",
            ),
            O.BILLING,
        ),
        "rate_limited": (
            "/models",
            429,
            oai_error(
                "Rate limit reached for gpt-4 in organization org-abc on tokens per min (TPM): "
                "Limit 10000, Used 9000, Requested 2000. Please try again in 9.816s.",
                type_="tokens",
                code="rate_limit_exceeded",
            ),
            O.RATE_LIMITED,
        ),
        "region": (
            "/models",
            403,
            {
                "error": {
                    "code": "unsupported_country_region_territory",
                    "message": "Country, region, or territory not supported",
                    "param": None,
                    "type": "request_forbidden",
                }
            },
            O.REGION_UNSUPPORTED,
        ),
        "unknown_url": (
            "/models",
            404,
            oai_error(
                "Unknown request URL: GET /v1/modelz. Please check the URL for typos.",
                code="unknown_url",
            ),
            O.ENDPOINT_NOT_FOUND,
        ),
        "overloaded": (
            "/models",
            503,
            oai_error(
                "The engine is currently overloaded, please try again later", type_="server_error"
            ),
            O.PROVIDER_UNAVAILABLE,
        ),
    }

    @responses.activate
    def test_it_sends_organization_and_project_only_when_set(self):
        self.register(responses)
        self.provider.verify(self.credential())
        self.provider.verify(self.credential(organization="org-abc", project="proj_xyz"))
        first, second = (c.request.headers for c in responses.calls)
        assert "OpenAI-Organization" not in first and "OpenAI-Project" not in first
        assert second["OpenAI-Organization"] == "org-abc"
        assert second["OpenAI-Project"] == "proj_xyz"
        assert second["Authorization"] == f"Bearer {self.key}"

    @responses.activate
    def test_it_names_the_missing_scope(self):
        self.register(responses, {"/models": (*self.FAILURES["restricted_key"][1:3], {})})
        result = self.provider.verify(self.credential())
        assert "model.read" in result.message


def google_error(code: int, status: str, message: str, *details) -> dict:
    return {"error": {"code": code, "message": message, "status": status, "details": list(details)}}


def error_info(reason: str) -> dict:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


def quota_failure(quota_id: str) -> dict:
    return {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": quota_id,
                "quotaValue": "50",
            }
        ],
    }


class TestGoogle(ProviderContract):
    provider_id = "google"
    key = "AIzaSyD-KodaTestOnlyKey-0123456789abcdefg"
    P = "/models?pageSize=1000"
    ROUTES = {
        P: {
            "models": [
                {
                    "name": "models/gemini-2.5-flash",
                    "displayName": "Gemini 2.5 Flash",
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                },
                {
                    "name": "models/text-embedding-004",
                    "displayName": "Text Embedding 004",
                    "supportedGenerationMethods": ["embedContent"],
                },
            ]
        }
    }
    EXPECTED_MODELS = ["gemini-2.5-flash", "text-embedding-004"]
    FAILURES = {
        "invalid_key": (
            P,
            400,
            google_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                error_info("API_KEY_INVALID"),
            ),
            O.INVALID_CREDENTIALS,
        ),
        "expired_key": (
            P,
            400,
            google_error(
                400,
                "INVALID_ARGUMENT",
                "API key expired. Please renew the API key.",
                error_info("API_KEY_INVALID"),
            ),
            O.REVOKED_CREDENTIALS,
        ),
        "leaked_key": (
            P,
            403,
            google_error(
                403,
                "PERMISSION_DENIED",
                "Your API key was reported as leaked. Please use another API key.",
            ),
            O.REVOKED_CREDENTIALS,
        ),
        "service_blocked": (
            P,
            403,
            google_error(
                403,
                "PERMISSION_DENIED",
                "Requests to this API generativelanguage.googleapis.com "
                "method google.ai.generativelanguage.v1beta.ModelService.ListModels are blocked.",
                error_info("API_KEY_SERVICE_BLOCKED"),
            ),
            O.INSUFFICIENT_SCOPE,
        ),
        "service_disabled": (
            P,
            403,
            google_error(
                403,
                "PERMISSION_DENIED",
                "Generative Language API has not been used in project "
                "123456 before or it is disabled.",
                error_info("SERVICE_DISABLED"),
            ),
            O.INSUFFICIENT_SCOPE,
        ),
        "daily_quota": (
            P,
            429,
            google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
                quota_failure("GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
            ),
            O.BILLING,
        ),
        "per_minute": (
            P,
            429,
            google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
                quota_failure("GenerateContentInputTokensPerModelPerMinute-FreeTier"),
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"},
            ),
            O.RATE_LIMITED,
        ),
        "region": (
            P,
            400,
            google_error(
                400, "FAILED_PRECONDITION", "User location is not supported for the API use."
            ),
            O.REGION_UNSUPPORTED,
        ),
    }

    @responses.activate
    def test_it_sends_the_key_in_a_header_never_the_url(self):
        self.register(responses)
        self.provider.verify(self.credential())
        request = responses.calls[0].request
        assert request.headers["x-goog-api-key"] == self.key
        assert self.key not in request.url

    @responses.activate
    def test_it_reads_capabilities_from_generation_methods(self):
        self.register(responses)
        models = {m.id: m for m in self.provider.verify(self.credential()).models}
        assert models["gemini-2.5-flash"].capabilities == ("chat",)
        assert models["text-embedding-004"].capabilities == ("embedding",)


def eleven_error(status: str, message: str) -> dict:
    return {"detail": {"status": status, "message": message}}


SUBSCRIPTION = {
    "tier": "creator",
    "character_count": 12000,
    "character_limit": 100000,
    "status": "active",
    "currency": "usd",
}


class TestElevenLabs(ProviderContract):
    provider_id = "elevenlabs"
    key = "sk_3f9a2b7c1d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"
    EXPECTED_CREDIT = Credit(88000.0, "characters", 0.88)
    ROUTES = {
        "/v1/user/subscription": SUBSCRIPTION,
        "/v1/models": [
            {
                "model_id": "eleven_multilingual_v2",
                "name": "Eleven Multilingual v2",
                "can_do_text_to_speech": True,
            },
            {
                "model_id": "eleven_flash_v2_5",
                "name": "Eleven Flash v2.5",
                "can_do_text_to_speech": True,
            },
        ],
        "/v1/voices": {"voices": [{"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel"}]},
    }
    EXPECTED_MODELS = ["eleven_multilingual_v2"]
    MODELS_PATH = "/v1/models"
    S = "/v1/user/subscription"
    FAILURES = {
        "invalid_key": (
            S,
            401,
            eleven_error("invalid_api_key", "Invalid API key"),
            O.INVALID_CREDENTIALS,
        ),
        "quota": (
            S,
            401,
            eleven_error(
                "quota_exceeded",
                "This request exceeds your quota of "
                "10000. You have 0 credits remaining, while 91 credits "
                "are required for this request.",
            ),
            O.BILLING,
        ),
        "free_tier_blocked": (
            S,
            401,
            eleven_error(
                "detected_unusual_activity", "Unusual activity detected. Free Tier usage disabled."
            ),
            O.BILLING,
        ),
        "concurrency": (
            S,
            429,
            eleven_error("too_many_concurrent_requests", "Too many concurrent requests."),
            O.RATE_LIMITED,
        ),
        "cloudflare": (
            S,
            403,
            "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>",
            O.REGION_UNSUPPORTED,
        ),
        "no_credit_left": (S, 200, {**SUBSCRIPTION, "character_count": 100000}, O.BILLING),
        "models_scope": (
            "/v1/models",
            401,
            eleven_error(
                "missing_permissions",
                "The API key you used is missing the permission "
                "models_read to execute this operation.",
            ),
            O.INSUFFICIENT_SCOPE,
        ),
    }

    @responses.activate
    def test_it_accepts_a_key_scoped_away_from_user_read(self):
        scoped = eleven_error(
            "missing_permissions",
            "The API key you used is missing the permission user_read to execute this operation.",
        )
        self.register(responses, {self.S: (401, scoped, {}), "/v1/voices": (401, scoped, {})})
        result = self.provider.verify(self.credential())
        assert result.ok
        assert any("user_read" in n for n in result.notes)
        assert any("voices_read" in n for n in result.notes)

    @responses.activate
    def test_it_reports_the_credit_left(self):
        self.register(responses)
        result = self.provider.verify(self.credential())
        assert "88000 characters left on the creator tier." in result.notes
        assert "1 voices available." in result.notes


def _perplexity(request):
    if "Authorization" not in request.headers:
        return 401, {"Content-Type": "text/html"}, PPLX_401
    return (
        400,
        {"Content-Type": "application/json"},
        json.dumps(
            {
                "error": {
                    "message": "messages must not be empty",
                    "type": "invalid_message",
                    "code": 400,
                }
            }
        ),
    )


PPLX_401 = (
    "<html><head><title>401 Authorization Required</title></head><body><center><h1>"
    "401 Authorization Required</h1></center><hr><center>openresty/1.25.3.1</center>"
    "</body></html>"
)


class TestPerplexity(ProviderContract):
    provider_id = "perplexity"
    key = "pplx-9dKodaTestOnlyKey0123456789abcdefABCDEFGH"
    C = "POST /chat/completions"
    ROUTES = {C: _perplexity}
    EXPECTED_MODELS = ["sonar", "sonar-pro"]
    OK_STATUS = 400  # the empty request's rejection, after the key was accepted
    FAILURES = {
        "invalid_key": (C, 401, PPLX_401, O.INVALID_CREDENTIALS),
        "no_credit": (C, 402, {"error": {"message": "Insufficient credit"}}, O.BILLING),
    }

    @responses.activate
    def test_it_proves_the_key_without_a_billable_request(self):
        self.register(responses)
        result = self.provider.verify(self.credential())
        assert result.ok
        control, keyed = responses.calls
        assert "Authorization" not in control.request.headers
        assert keyed.request.headers["Authorization"] == f"Bearer {self.key}"
        assert json.loads(keyed.request.body)["messages"] == []  # nothing to generate
        assert any("not billed" in n and "Credit was not checked" in n for n in result.notes)

    @responses.activate
    def test_it_verifies_the_operator_base_url_instead_of_the_default(self):
        # Through a gateway: its model list (not Koda's Sonar list), then its budget check.
        gateway = "https://llm-gateway.example/perplexity"
        listed = {"object": "list", "data": [{"id": "perplexity/sonar-pro", "object": "model"}]}
        responses.add("GET", gateway + "/models", json=listed)
        responses.add(
            "POST",
            gateway + "/chat/completions",
            status=400,
            json={"error": {"message": "messages: must not be empty", "type": "bad_request_error"}},
        )
        responses.add("GET", "https://llm-gateway.example/key/info", status=404)
        result = self.provider.verify(self.credential(base_url=gateway))
        assert result.ok, result.message
        assert [m.id for m in result.models] == ["perplexity/sonar-pro"]
        assert any("refused Koda's empty chat request as expected" in n for n in result.notes)

    @responses.activate
    def test_it_refuses_to_guess_when_the_control_is_not_refused(self):
        responses.add(
            "POST",
            self.base() + "/chat/completions",
            status=400,
            json={"error": {"message": "messages must not be empty"}},
        )
        result = self.provider.verify(self.credential())
        assert result.outcome == O.UNEXPECTED_RESPONSE and "cannot prove" in result.message


class TestMistral(ProviderContract):
    provider_id = "mistral"
    key = "mK0dAtEsTkEy0123456789abcdefABCD"
    ROUTES = {
        "/models": {
            "object": "list",
            "data": [
                {
                    "id": "mistral-large-latest",
                    "object": "model",
                    "name": "Mistral Large",
                    "capabilities": {"completion_chat": True, "vision": True},
                },
                {
                    "id": "mistral-embed",
                    "object": "model",
                    "capabilities": {"completion_chat": False},
                },
            ],
        }
    }
    EXPECTED_MODELS = ["mistral-large-latest", "mistral-embed"]
    FAILURES = {
        "invalid_gateway": (
            "/models",
            401,
            {"message": "Unauthorized", "request_id": "0f3c" * 8},
            O.INVALID_CREDENTIALS,
        ),
        "invalid_detail": ("/models", 401, {"detail": "Unauthorized"}, O.INVALID_CREDENTIALS),
        "rate_limited": (
            "/models",
            429,
            {
                "object": "error",
                "message": "Rate limit exceeded",
                "type": "rate_limited",
                "param": None,
                "code": "1300",
            },
            O.RATE_LIMITED,
        ),
        "capacity": (
            "/models",
            429,
            {
                "object": "error",
                "message": "Service tier capacity exceeded for this model.",
                "type": "invalid_request_error",
                "param": None,
                "code": "3505",
            },
            O.PROVIDER_UNAVAILABLE,
        ),
        "no_route": (
            "/models",
            404,
            {"message": "no Route matched with those values"},
            O.ENDPOINT_NOT_FOUND,
        ),
    }


def dashscope_error(code: str, message: str) -> dict:
    return {
        "error": {"code": code, "type": code, "param": None, "message": message},
        "request_id": "6b2c5f0e-0000-4000-8000-000000000000",
    }


class TestQwen(ProviderContract):
    provider_id = "qwen"
    key = "sk-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    ROUTES = {"/models": openai_list("qwen-plus", "qwen-max")}
    EXPECTED_MODELS = ["qwen-plus"]
    FAILURES = {
        "arrearage": (
            "/models",
            400,
            dashscope_error(
                "Arrearage", "Access denied, please make sure your account is in good standing."
            ),
            O.BILLING,
        ),
        "free_tier_only": (
            "/models",
            403,
            dashscope_error(
                "AllocationQuota.FreeTierOnly", "The free tier of the model has been exhausted."
            ),
            O.BILLING,
        ),
        "not_purchased": (
            "/models",
            403,
            dashscope_error("AccessDenied.Unpurchased", "Access to model denied."),
            O.INSUFFICIENT_SCOPE,
        ),
        "throttled": (
            "/models",
            429,
            dashscope_error(
                "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."
            ),
            O.RATE_LIMITED,
        ),
    }

    @responses.activate
    def test_it_tries_the_other_region_before_calling_a_key_invalid(self):
        bad = {
            "error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
        responses.add("GET", self.base() + "/models", status=401, json=bad)
        china = "https://dashscope.aliyuncs.com/compatible-mode/v1"
        responses.add("GET", china + "/models", json=openai_list("qwen-plus"))
        result = self.provider.verify(self.credential())
        assert result.ok and result.resolved_values == {"base_url": china}
        assert any("dashscope.aliyuncs.com" in n for n in result.notes)

    @responses.activate
    def test_it_calls_a_key_invalid_when_both_regions_refuse_it(self):
        bad = {"error": {"message": "Incorrect API key provided.", "code": "invalid_api_key"}}
        responses.add("GET", self.base() + "/models", status=401, json=bad)
        responses.add(
            "GET", "https://dashscope.aliyuncs.com/compatible-mode/v1/models", status=401, json=bad
        )
        result = self.provider.verify(self.credential())
        assert result.outcome == O.INVALID_CREDENTIALS and "either region" in result.message
        assert result.probe.startswith("GET https://dashscope-intl")


BALANCE = {
    "code": 0,
    "data": {"available_balance": 49.58, "voucher_balance": 46.58, "cash_balance": 3.0},
    "scode": "0x0",
    "status": True,
}


class TestKimi(ProviderContract):
    provider_id = "kimi"
    key = "sk-KimiTestOnlyKey0123456789abcdefABCDEFGHIJ"
    EXPECTED_CREDIT = Credit(49.58, "credit")
    ROUTES = {"/users/me/balance": BALANCE, "/models": openai_list("kimi-k2-0905-preview")}
    EXPECTED_MODELS = ["kimi-k2-0905-preview"]
    B = "/users/me/balance"
    FAILURES = {
        "invalid_key": (
            B,
            401,
            {
                "error": {
                    "message": "Invalid Authentication",
                    "type": "invalid_authentication_error",
                }
            },
            O.INVALID_CREDENTIALS,
        ),
        "permission": (
            B,
            403,
            {"error": {"message": "permission denied", "type": "permission_denied_error"}},
            O.INSUFFICIENT_SCOPE,
        ),
        "suspended": (
            B,
            429,
            {
                "error": {
                    "message": "Your account acct-1 is suspended, please "
                    "check your plan and billing details",
                    "type": "exceeded_current_quota_error",
                }
            },
            # The type (quota) wins over the word "suspended": it is fixed by paying.
            O.BILLING,
        ),
        "quota": (
            B,
            429,
            {
                "error": {
                    "message": "Your account acct-1 organization org-1 "
                    "exceeded current quota, please check your plan and "
                    "billing details",
                    "type": "exceeded_current_quota_error",
                }
            },
            O.BILLING,
        ),
        "empty_balance": (
            B,
            200,
            {
                **BALANCE,
                "data": {"available_balance": 0, "voucher_balance": 0, "cash_balance": -1.5},
            },
            O.BILLING,
        ),
        "rate_limited": (
            B,
            429,
            {"error": {"message": "max organization RPM: 3", "type": "rate_limit_reached_error"}},
            O.RATE_LIMITED,
        ),
    }

    @responses.activate
    def test_it_tries_the_china_platform_for_a_cn_key(self):
        bad = {
            "error": {"message": "Invalid Authentication", "type": "invalid_authentication_error"}
        }
        responses.add("GET", self.base() + "/users/me/balance", status=401, json=bad)
        cn = "https://api.moonshot.cn/v1"
        responses.add("GET", cn + "/users/me/balance", json=BALANCE)
        responses.add("GET", cn + "/models", json=openai_list("kimi-k2-0905-preview"))
        result = self.provider.verify(self.credential())
        assert result.ok and result.resolved_values == {"base_url": cn}

    @responses.activate
    def test_it_does_not_try_another_region_for_an_operator_base_url(self):
        bad = {
            "error": {"message": "Invalid Authentication", "type": "invalid_authentication_error"}
        }
        responses.add("GET", "https://api.moonshot.ai/v1/users/me/balance", status=401, json=bad)
        result = self.provider.verify(self.credential(base_url="https://api.moonshot.ai/v1"))
        assert result.outcome == O.INVALID_CREDENTIALS and len(responses.calls) == 1


class TestGroq(ProviderContract):
    provider_id = "groq"
    key = "gsk_KodaTestOnlyKey0123456789abcdefABCDEFGHIJKLMN"
    ROUTES = {
        "/models": {
            "object": "list",
            "data": [
                {
                    "id": "llama-3.1-8b-instant",
                    "object": "model",
                    "created": 1,
                    "owned_by": "Meta",
                    "active": True,
                    "context_window": 131072,
                },
                {
                    "id": "whisper-large-v3",
                    "object": "model",
                    "created": 1,
                    "owned_by": "OpenAI",
                    "active": True,
                },
            ],
        }
    }
    EXPECTED_MODELS = ["llama-3.1-8b-instant", "whisper-large-v3"]
    FAILURES = {
        "invalid_key": (
            "/models",
            401,
            oai_error("Invalid API Key", code="invalid_api_key"),
            O.INVALID_CREDENTIALS,
        ),
        "restricted": (
            "/models",
            400,
            oai_error(
                "Organization has been restricted. Please reach out to support if you believe this "
                "was in error.",
                code="organization_restricted",
            ),
            O.REVOKED_CREDENTIALS,
        ),
        "per_minute": (
            "/models",
            429,
            oai_error(
                "Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_1` "
                "service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11000, "
                "Requested 3000. Please try again in 11.455s.",
                type_="tokens",
                code="rate_limit_exceeded",
            ),
            O.RATE_LIMITED,
        ),
        "per_day": (
            "/models",
            429,
            oai_error(
                "Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_1` "
                "service tier `on_demand` on tokens per day (TPD): Limit 100000, Used 99000. Need "
                "more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing",
                type_="tokens",
                code="rate_limit_exceeded",
            ),
            O.BILLING,
        ),
        "cloudflare": ("/models", 403, CLOUDFLARE_403, O.REGION_UNSUPPORTED),
        "unknown_url": (
            "/models",
            404,
            oai_error(
                "Unknown request URL: GET /openai/v1/modelz. Please check the URL for typos, or see "
                "the docs at https://console.groq.com/docs/",
                code="unknown_url",
            ),
            O.ENDPOINT_NOT_FOUND,
        ),
    }


DEEPSEEK_BALANCE = {
    "is_available": True,
    "balance_infos": [
        {
            "currency": "USD",
            "total_balance": "110.00",
            "granted_balance": "10.00",
            "topped_up_balance": "100.00",
        }
    ],
}


class TestDeepSeek(ProviderContract):
    provider_id = "deepseek"
    key = "sk-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    EXPECTED_CREDIT = Credit(110.0, "USD")
    ROUTES = {
        "/user/balance": DEEPSEEK_BALANCE,
        "/models": openai_list("deepseek-chat", "deepseek-reasoner"),
    }
    EXPECTED_MODELS = ["deepseek-chat", "deepseek-reasoner"]
    B = "/user/balance"
    FAILURES = {
        "invalid_key": (
            B,
            401,
            {
                "error": {
                    "message": "Authentication Fails, Your api key: ****e8f9 is invalid",
                    "type": "authentication_error",
                    "param": None,
                    "code": "invalid_request_error",
                }
            },
            O.INVALID_CREDENTIALS,
        ),
        "insufficient_balance": (
            B,
            402,
            {
                "error": {
                    "message": "Insufficient Balance",
                    "type": "unknown_error",
                    "param": None,
                    "code": "invalid_request_error",
                }
            },
            O.BILLING,
        ),
        "not_available": (
            B,
            200,
            {
                "is_available": False,
                "balance_infos": [{"currency": "USD", "total_balance": "0.00"}],
            },
            O.BILLING,
        ),
    }


XAI_KEY_INFO = {
    "redacted_api_key": "xai-...b14o",
    "user_id": "u1",
    "name": "koda",
    "team_id": "t1",
    "acls": ["api-key:model:*", "api-key:endpoint:*"],
    "api_key_id": "k1",
    "team_blocked": False,
    "api_key_blocked": False,
    "api_key_disabled": False,
}


class TestXAI(ProviderContract):
    provider_id = "xai"
    key = "xai-KodaTestOnlyKey0123456789abcdefABCDEFGHIJKLMNOPQRSTUV"
    ROUTES = {
        "/api-key": XAI_KEY_INFO,
        "/models": {
            "object": "list",
            "data": [{"id": "grok-4", "object": "model", "created": 1, "owned_by": "xai"}],
        },
    }
    EXPECTED_MODELS = ["grok-4"]
    K = "/api-key"
    FAILURES = {
        "invalid_key": (
            K,
            400,
            {
                "code": "Client specified an invalid argument",
                "error": "Incorrect API key provided: xa***UV. You can obtain "
                "an API key from https://console.x.ai.",
            },
            O.INVALID_CREDENTIALS,
        ),
        "key_disabled": (K, 200, {**XAI_KEY_INFO, "api_key_disabled": True}, O.REVOKED_CREDENTIALS),
        "team_blocked": (K, 200, {**XAI_KEY_INFO, "team_blocked": True}, O.REVOKED_CREDENTIALS),
        "no_credits": (
            K,
            403,
            {
                "code": "permission-denied",
                "error": "Your newly created team "
                "doesn't have any credits or licenses yet. You can purchase "
                "those on https://console.x.ai/team/t1.",
            },
            O.BILLING,
        ),
        "spent_out": (
            K,
            429,
            {
                "code": "Some resource has been exhausted",
                "error": "Your team "
                "t1 has either used all available credits or reached its monthly "
                "spending limit.",
            },
            O.BILLING,
        ),
        "no_acl": (
            K,
            403,
            {
                "code": "permission-denied",
                "error": "The API key does not have access to this endpoint",
            },
            O.INSUFFICIENT_SCOPE,
        ),
    }


OPENROUTER_KEY = {
    "data": {
        "label": "sk-or-v1-abc...xyz",
        "limit": 25,
        "limit_remaining": 12.5,
        "usage": 12.5,
        "is_free_tier": False,
        "expires_at": None,
    }
}


class TestOpenRouter(ProviderContract):
    provider_id = "openrouter"
    key = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    EXPECTED_CREDIT = Credit(12.5, "USD", 0.5)
    ROUTES = {
        "/key": OPENROUTER_KEY,
        "/models": {
            "data": [
                {"id": "anthropic/claude-sonnet-4.5", "name": "Anthropic: Claude Sonnet 4.5"},
                {"id": "meta-llama/llama-3.1-8b-instruct:free", "name": "Llama 3.1 8B (free)"},
            ]
        },
    }
    EXPECTED_MODELS = ["anthropic/claude-sonnet-4.5"]
    K = "/key"
    FAILURES = {
        "unknown_key": (
            K,
            401,
            {"error": {"code": 401, "message": "User not found."}},
            O.INVALID_CREDENTIALS,
        ),
        "disabled_key": (
            K,
            401,
            {"error": {"code": 401, "message": "Key is disabled"}},
            O.REVOKED_CREDENTIALS,
        ),
        "no_credits": (
            K,
            402,
            {
                "error": {
                    "code": 402,
                    "message": "Insufficient credits. This account never purchased credits.",
                }
            },
            O.BILLING,
        ),
        "limit_used": (
            K,
            200,
            {"data": {**OPENROUTER_KEY["data"], "limit_remaining": 0}},
            O.BILLING,
        ),
    }


class TestOllamaCloud(ProviderContract):
    provider_id = "ollama"
    key = "4f3c2b1a0918273645546372819aabbc.KodaTestOnlyOllamaKey0123"
    EXPECTED_CREDIT = Credit(97.5, "USD", 0.725)
    ROUTES = {
        "/api/balance": {
            "included": {
                "balance_usd": 72.5,
                "allowance_usd": 100,
                "period": {"from": "2026-11-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"},
            },
            "purchased": {"balance_usd": 25},
        },
        "/api/tags": {
            "models": [
                {"name": "gpt-oss:120b", "model": "gpt-oss:120b", "size": 0, "digest": "a" * 64}
            ]
        },
    }
    EXPECTED_MODELS = ["gpt-oss:120b"]
    B = "/api/balance"
    FAILURES = {
        "invalid_json": (B, 401, {"error": "unauthorized"}, O.INVALID_CREDENTIALS),
        "invalid_text": (B, 401, "unauthorized\n", O.INVALID_CREDENTIALS),
        "no_balance": (
            B,
            200,
            {"included": {"balance_usd": 0}, "purchased": {"balance_usd": 0}},
            O.BILLING,
        ),
        "legacy_window_spent": (
            B,
            200,
            {
                "included": {
                    "session": {"remaining_percent": 40, "resets_at": "2026-11-24T00:00:00Z"},
                    "weekly": {"remaining_percent": 0, "resets_at": "2026-11-30T00:00:00Z"},
                }
            },
            O.BILLING,
        ),
    }

    @responses.activate
    def test_it_never_sends_the_key_to_the_public_tag_list(self):
        self.register(responses)
        assert self.provider.verify(self.credential()).ok
        balance, tags = responses.calls
        assert balance.request.headers["Authorization"] == f"Bearer {self.key}"
        assert "Authorization" not in tags.request.headers


def test_credit_is_read_in_each_shape_the_providers_answer():
    """providers.md: DeepSeek's amounts are strings in CNY or USD (USD shown when both are);
    Ollama's legacy plans give usage windows, not money; a key with no limit shows nothing."""
    from providers.adapters.ollama import _credit as ollama_credit
    from providers.adapters.openai_compatible import DeepSeek, OpenRouter

    both = {
        "is_available": True,
        "balance_infos": [
            {"currency": "CNY", "total_balance": "800.50"},
            {"currency": "USD", "total_balance": "110.00"},
        ],
    }
    assert DeepSeek._credit(both) == Credit(110.0, "USD")
    assert DeepSeek._credit({**both, "balance_infos": both["balance_infos"][:1]}) == Credit(
        800.5, "CNY"
    )
    legacy = {
        "included": {
            "session": {"remaining_percent": 40, "resets_at": "2026-12-01T05:00:00Z"},
            "weekly": {"remaining_percent": 85, "resets_at": "2026-12-07T00:00:00Z"},
        }
    }
    assert ollama_credit(legacy) == Credit(None, "", 0.4)
    unlimited = {"data": {**OPENROUTER_KEY["data"], "limit": None, "limit_remaining": None}}
    assert OpenRouter._credit(unlimited) is None
