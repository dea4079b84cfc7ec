"""Providers whose API follows OpenAI's shape (Bearer key, `{base}/models` as `{"data": [...]}`).

Each class holds what differs: URLs, capabilities, the better probe where one exists (key info,
balance) and the vendor's error quirks, each citing providers.md.
"""

from providers.fields import api_key_method
from providers.http import ProbeResponse
from providers.values import Capability, Credential, Credit, Model, Outcome, Verdict
from providers.verification import ErrorFields, HttpProvider, Probe, number, openai_style_models


class Perplexity(HttpProvider):
    """providers.md §6: no balance or key-info endpoint, and the model lists may not check the key.

    The cheapest honest proof is a chat request that cannot be billed: an empty `messages` list
    is rejected (400) after the gateway has checked the key (a bad key gets 401 there, as an HTML
    page). A control request without any key must get 401 first; if it does not, the check
    would prove nothing and Koda says so instead of guessing.
    """

    id = "perplexity"
    name = "Perplexity"
    docs_url = "https://docs.perplexity.ai/api-reference"
    keys_url = "https://www.perplexity.ai/account/api/keys"
    billing_url = "https://www.perplexity.ai/account/api/billing"
    default_base_url = "https://api.perplexity.ai"
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT, Capability.WEB_SEARCH})
    good_for = "Answers grounded in live web search, with citations (Sonar)."
    needs_default_model = True
    # Perplexity publishes no key-checked model list; these are its documented Sonar models.
    SONAR_MODELS = (
        "sonar",
        "sonar-pro",
        "sonar-reasoning",
        "sonar-reasoning-pro",
        "sonar-deep-research",
    )
    unchecked_note = (
        "Checked with an empty chat request, which Perplexity rejects before "
        "generating anything (not billed). Credit was not checked: Perplexity has "
        "no balance endpoint. Models are Koda's list of Sonar models."
    )
    _EMPTY_CHAT = {"model": "sonar", "messages": []}

    def probes_for(self, credential: Credential) -> list[Probe]:
        if self.gateway_host:
            # A gateway lists what it serves; its budget is proved by providers.gateway.
            return [Probe("GET", "/models", models=openai_style_models)]
        return [
            Probe(
                "POST",
                "/chat/completions",
                json_body=self._EMPTY_CHAT,
                send_credentials=False,
                expect=self._control_refused,
            ),
            Probe(
                "POST", "/chat/completions", json_body=self._EMPTY_CHAT, expect=self._key_accepted
            ),
        ]

    def _control_refused(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        if response.status == 401:
            return None
        if response.status in (400, 422):
            return Verdict(
                Outcome.UNEXPECTED_RESPONSE,
                "Perplexity answered a request without any key as if it were "
                "authorised, so this check cannot prove the key.",
                "Verify the key by hand with one small request, then report this.",
            )
        return self.classify_error(response)

    def _key_accepted(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        # A JSON 400/422 is the answer to the empty request itself: the key got past the
        # gateway's authentication (a bad key gets its 401 HTML page instead).
        if response.status in (400, 422) and response.is_json:
            return None
        return self.expect_success(response, notes)

    def check(self, credential: Credential):
        result = super().check(credential)
        if result.ok and not self.via_gateway(credential):
            result.models = [Model.of(m, capabilities=["chat"]) for m in self.SONAR_MODELS]
        return result


class Mistral(HttpProvider):
    """providers.md §7: 401 bodies vary (`{"message":"Unauthorized"}`, `{"detail":…}`, empty)."""

    id = "mistral"
    name = "Mistral"
    docs_url = "https://docs.mistral.ai/api/#tag/models"
    keys_url = "https://console.mistral.ai/api-keys"
    billing_url = "https://console.mistral.ai/billing"
    default_base_url = "https://api.mistral.ai/v1"
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "European-hosted chat, code (Codestral) and embeddings."
    needs_default_model = True
    unchecked_note = "Credit not checked: Mistral has no free endpoint that shows it."
    # Mistral's model cards flag chat and vision; embedding models (mistral-embed) are named so.
    _CAPABILITIES = {"completion_chat": "chat", "vision": "vision"}

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [Probe("GET", "/models", models=self._models)]

    def _models(self, body) -> list[Model]:
        return [
            Model.of(
                m["id"],
                m.get("name"),
                [
                    cap
                    for key, cap in self._CAPABILITIES.items()
                    if (m.get("capabilities") or {}).get(key)
                ]
                + (["embedding"] if "embed" in str(m["id"]) else []),
            )
            for m in body["data"]
        ]

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        if response.status == 401:
            return Verdict(
                Outcome.INVALID_CREDENTIALS,
                f"{self.name} does not accept this key (new keys can take a few minutes "
                "to start working; Codestral keys only work on codestral.mistral.ai).",
                f"Wait a few minutes. {self.key_remedy}",
            )
        if response.status in (429, 503):
            if fields.code == "3505" or fields.has("capacity"):
                return self.unavailable(fields.message)
            if fields.has("monthly", "usage limit", "spend"):
                return self.billing(fields.message)
        return None


class Qwen(HttpProvider):
    """providers.md §8: keys are region-bound; a key from the other region gets 401."""

    id = "qwen"
    name = "Qwen"
    docs_url = "https://www.alibabacloud.com/help/en/model-studio/error-code"
    keys_url = "https://modelstudio.console.alibabacloud.com/?tab=playground#/api-key"
    billing_url = "https://usercenter2-intl.aliyun.com/billing"
    default_base_url = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
    alternate_base_urls = ("https://dashscope.aliyuncs.com/compatible-mode/v1",)
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "Strong multilingual and coding models at low cost (Alibaba Model Studio)."
    needs_default_model = True
    unchecked_note = "Credit not checked: Model Studio has no free endpoint that shows it."

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [Probe("GET", "/models", models=openai_style_models)]

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        code = fields.code or fields.type
        if code == "Arrearage":
            return self.billing("the account is overdue (Arrearage)")
        if code == "AllocationQuota.FreeTierOnly":
            return Verdict(
                Outcome.BILLING,
                "The model's free tier is used up and 'use free tier only' is on.",
                "Turn off 'free tier only' in the Model Studio console, or pick another model.",
            )
        if code == "Throttling.AllocationQuota":
            return self.billing(fields.message or "token quota exceeded")
        if code.startswith("Throttling") or code == "limit_requests":
            return self.rate_limited(fields.message, response.retry_after)
        if code.startswith(
            (
                "AccessDenied",
                "Model.AccessDenied",
                "Workspace.AccessDenied",
                "Endpoint.AccessDenied",
            )
        ):
            return self.scope(f"{code}: {fields.message}")
        if response.status == 401:
            return Verdict(
                Outcome.INVALID_CREDENTIALS,
                "Model Studio does not accept this key in either region (international or China).",
                "Check the key, and that Coding/Token Plan keys are not used here.",
            )
        return None


class Kimi(HttpProvider):
    """providers.md §9: the balance endpoint proves the key and shows credit; .ai/.cn keys are
    platform-bound."""

    id = "kimi"
    name = "Kimi"
    docs_url = "https://platform.moonshot.ai/docs/api/balance"
    keys_url = "https://platform.moonshot.ai/console/api-keys"
    billing_url = "https://platform.moonshot.ai/console/account"
    default_base_url = "https://api.moonshot.ai/v1"
    alternate_base_urls = ("https://api.moonshot.cn/v1",)
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT})
    good_for = "Long-context agentic work and coding (Moonshot Kimi K2)."
    needs_default_model = True

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [
            Probe(
                "GET",
                "/users/me/balance",
                check=self._balance,
                credit=self._credit,
                vendor_only=True,
            ),
            Probe("GET", "/models", models=openai_style_models),
        ]

    def _balance(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        data = response.json.get("data") if isinstance(response.json, dict) else None
        available = number(data.get("available_balance")) if isinstance(data, dict) else None
        if available is None:
            return self.unreadable("balance")
        if available <= 0:
            return self.billing(f"available balance is {available:g}")
        notes.append(f"Available balance: {available:g}.")
        return None

    @staticmethod
    def _credit(body) -> Credit | None:
        # The body names no currency: the international platform bills in USD, the Chinese
        # one in CNY, so the figure is shown as "credit" (providers.md §9).
        available = number(body["data"].get("available_balance"))
        return Credit(available, "credit") if available is not None else None

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        kind = fields.type
        if kind in ("invalid_authentication_error", "incorrect_api_key_error"):
            return Verdict(
                Outcome.INVALID_CREDENTIALS,
                "Moonshot does not accept this key on platform.moonshot.ai or .cn.",
                self.key_remedy,
            )
        if kind == "permission_denied_error":
            return self.scope(fields.message)
        if kind == "exceeded_current_quota_error":
            # The type says quota, whatever the text: "Your account … is suspended, please check
            # your plan and billing details" is fixed by paying (providers.md §9).
            return self.billing(fields.message)
        if kind == "engine_overloaded_error":
            return self.unavailable(fields.message)
        if kind == "resource_not_found_error":
            return Verdict(
                Outcome.ENDPOINT_NOT_FOUND,
                f"{self.name} has no such endpoint here.",
                f"Check the base URL (default {self.default_base_url}).",
            )
        return None


class Groq(HttpProvider):
    """providers.md §10."""

    id = "groq"
    name = "Groq"
    docs_url = "https://console.groq.com/docs/errors"
    keys_url = "https://console.groq.com/keys"
    billing_url = "https://console.groq.com/settings/billing"
    default_base_url = "https://api.groq.com/openai/v1"
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT, Capability.STT})
    good_for = "Very fast, cheap inference for triage and routing; Whisper transcription."
    needs_default_model = True
    unchecked_note = "Spend not checked: Groq has no free endpoint that shows it."

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [Probe("GET", "/models", models=self._models)]

    @staticmethod
    def _models(body) -> list[Model]:
        return [
            Model.of(
                m["id"],
                capabilities=["stt"] if "whisper" in str(m["id"]) else ["chat"],
                context_length=m.get("context_window")
                if isinstance(m.get("context_window"), int)
                else None,
            )
            for m in body["data"]
            if m.get("active", True)
        ]

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        if fields.code == "organization_restricted":
            return self.revoked(fields.message)
        if fields.code == "invalid_api_key":
            return self.invalid(fields.message)
        if fields.code == "rate_limit_exceeded" and fields.has("per day", "(TPD)", "(RPD)"):
            # The daily allowance of the tier is spent; the fix is a higher tier.
            return self.billing(fields.message)
        if response.status == 498 or fields.code == "flex_tier_capacity_exceeded":
            return self.unavailable("flex tier capacity exceeded")
        if fields.code == "unknown_url":
            return Verdict(
                Outcome.ENDPOINT_NOT_FOUND,
                fields.message[:300],
                f"Check the base URL (default {self.default_base_url}).",
            )
        return None


class DeepSeek(HttpProvider):
    """providers.md §11: `/user/balance` proves the key and shows whether it can be used."""

    id = "deepseek"
    name = "DeepSeek"
    docs_url = "https://api-docs.deepseek.com/api/get-user-balance"
    keys_url = "https://platform.deepseek.com/api_keys"
    billing_url = "https://platform.deepseek.com/top_up"
    default_base_url = "https://api.deepseek.com"
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT})
    good_for = "Low-cost reasoning and coding (DeepSeek V3 / R1)."
    needs_default_model = True

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [
            Probe(
                "GET", "/user/balance", check=self._balance, credit=self._credit, vendor_only=True
            ),
            Probe("GET", "/models", models=openai_style_models),
        ]

    def _balance(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        body = response.json if isinstance(response.json, dict) else {}
        if "is_available" not in body:
            return self.unreadable("balance")
        infos = body.get("balance_infos")
        balances = ", ".join(
            f"{b.get('total_balance')} {b.get('currency')}"
            for b in (infos if isinstance(infos, list) else [])
            if isinstance(b, dict)
        )
        if body["is_available"] is not True:
            return self.billing(f"balance not available ({balances or 'no balance'})")
        notes.append(f"Balance: {balances}.")
        return None

    @staticmethod
    def _credit(body) -> Credit | None:
        """The USD balance if there is one, else the first (amounts are strings)."""
        infos = [b for b in body.get("balance_infos") or [] if isinstance(b, dict)]
        infos.sort(key=lambda b: b.get("currency") != "USD")
        for info in infos:
            amount = number(info.get("total_balance"))
            if amount is not None:
                return Credit(amount, str(info.get("currency") or ""))
        return None

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        if fields.type == "authentication_error":
            return self.invalid(fields.message)
        if response.status == 402 or fields.has("Insufficient Balance"):
            return self.billing(fields.message or "insufficient balance")
        return None


class XAI(HttpProvider):
    """providers.md §12: `/api-key` shows blocked/disabled flags; errors are `{code, error}`."""

    id = "xai"
    name = "xAI"
    docs_url = "https://docs.x.ai/docs/api-reference#api-key"
    keys_url = "https://console.x.ai/team/default/api-keys"
    billing_url = "https://console.x.ai/team/default/billing"
    default_base_url = "https://api.x.ai/v1"
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT, Capability.VISION})
    good_for = "Grok models with real-time knowledge."
    needs_default_model = True
    unchecked_note = "Credit not checked: xAI's free endpoints do not show it."

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [
            Probe("GET", "/api-key", check=self._key_flags, vendor_only=True),
            Probe("GET", "/models", models=openai_style_models),
        ]

    def _key_flags(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        body = response.json if isinstance(response.json, dict) else {}
        flags = [
            f
            for f in ("team_blocked", "api_key_blocked", "api_key_disabled")
            if body.get(f) is True
        ]
        if flags:
            return self.revoked(", ".join(flags))
        acls = body.get("acls")
        if isinstance(acls, list) and acls and not any(a.endswith(":*") for a in acls):
            notes.append("The key is limited to: " + ", ".join(map(str, acls))[:200])
        return None

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        if fields.has("Incorrect API key"):  # xAI answers 400 to a bad key
            return self.invalid(fields.message)
        if fields.has("credits or licenses", "used all available credits", "spending limit"):
            return self.billing(fields.message)
        if response.status == 400 and fields.has("api key"):
            return self.invalid(fields.message)
        if response.status == 403 and fields.has("blocked", "disabled"):
            return self.revoked(fields.message)
        return None


class OpenRouter(HttpProvider):
    """providers.md §13: `/key` proves the key (its `/models` is public and proves nothing)."""

    id = "openrouter"
    name = "OpenRouter"
    docs_url = "https://openrouter.ai/docs/api-reference/api-keys/get-current-key"
    keys_url = "https://openrouter.ai/settings/keys"
    billing_url = "https://openrouter.ai/settings/credits"
    default_base_url = "https://openrouter.ai/api/v1"
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT, Capability.VISION})
    good_for = "One key for hundreds of models from many vendors, with fallbacks."
    needs_default_model = True

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [
            Probe("GET", "/key", check=self._key_info, credit=self._credit, vendor_only=True),
            Probe(
                "GET",
                "/models",
                models=openai_style_models,
                note="Models are OpenRouter's public catalog.",
            ),
        ]

    def _key_info(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        data = response.json.get("data") if isinstance(response.json, dict) else None
        if not isinstance(data, dict):
            return self.unreadable("key info")
        remaining = number(data.get("limit_remaining"))
        if data.get("limit") is not None and remaining is not None and remaining <= 0:
            return self.billing(f"the key's limit of {data.get('limit')} is used up")
        if data.get("is_free_tier"):
            notes.append("This account never bought credits: only free models will work.")
        if remaining is not None:
            notes.append(f"Key limit remaining: {remaining:g}.")
        return None

    @staticmethod
    def _credit(body) -> Credit | None:
        """What is left of the key's limit (USD); a key without a limit shows nothing."""
        data = body["data"]
        remaining, limit = number(data.get("limit_remaining")), number(data.get("limit"))
        if remaining is None or limit is None:
            return None
        return Credit(remaining, "USD", max(0.0, remaining / limit) if limit > 0 else None)

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        if response.status == 401 and fields.has("disabled", "expired"):
            return self.revoked(fields.message)
        if response.status == 402:
            return self.billing(fields.message)
        return None
