"""Anthropic (Claude API). Facts: providers.md §1; docs.claude.com/en/api/errors."""

from django.views.decorators.debug import sensitive_variables

from providers.fields import AuthMethod, Method, api_key_method
from providers.http import ProbeResponse
from providers.values import Capability, Credential, Model, Outcome, RuntimeAccess, Verdict
from providers.verification import ErrorFields, HttpProvider, Probe

API_VERSION = "2023-06-01"


def _models(body) -> list[Model]:
    return [Model.of(m["id"], m.get("display_name")) for m in body["data"]]


class Anthropic(HttpProvider):
    id = "anthropic"
    name = "Anthropic"
    docs_url = "https://docs.anthropic.com/en/api/models-list"
    keys_url = "https://console.anthropic.com/settings/keys"
    billing_url = "https://console.anthropic.com/settings/billing"
    default_base_url = "https://api.anthropic.com"
    methods = (
        api_key_method(default_base_url),
        Method(AuthMethod.LOGIN, "Claude login", help="Sign in with a Claude account."),
    )
    capabilities = frozenset({Capability.CHAT, Capability.VISION})
    good_for = "Careful reasoning, long documents and tool use (Claude)."
    needs_default_model = True
    unchecked_note = "Credit balance not checked: Anthropic has no free endpoint that shows it."

    @sensitive_variables()
    def auth_headers(self, credential: Credential) -> dict[str, str]:
        return {"x-api-key": credential.get("api_key"), "anthropic-version": API_VERSION}

    protocol = "anthropic"

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        return RuntimeAccess(
            "anthropic", self.base_url(credential), {"anthropic-version": API_VERSION}
        )

    def probes_for(self, credential: Credential) -> list[Probe]:
        # Free and token-less; newest models first, up to 1000 in one page.
        return [Probe("GET", "/v1/models?limit=1000", models=_models)]

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        body = response.json if isinstance(response.json, dict) else {}
        if response.status == 403 and fields.type == "forbidden" and "type" not in body:
            # Cloudflare geo block: no top-level "type"; inner type "forbidden" (claude-code#1613).
            return self.region(fields.message)
        if fields.type == "authentication_error":
            if fields.has("OAuth authentication"):
                return Verdict(
                    Outcome.INVALID_CREDENTIALS,
                    "This is a Claude login (OAuth) token, not an API key.",
                    "Use the login method, or create an API key in the console.",
                )
            return self.invalid(fields.message)
        if fields.type == "permission_error":
            return self.scope(fields.message)
        if fields.type == "billing_error":
            return self.billing(fields.message)
        if fields.type == "not_found_error":
            return Verdict(
                Outcome.ENDPOINT_NOT_FOUND,
                "Anthropic has no such endpoint here.",
                f"Check the base URL (default {self.default_base_url}, no /v1).",
            )
        if fields.type == "overloaded_error" or response.status == 529:
            return self.unavailable("overloaded (529)")
        if fields.type == "rate_limit_error":
            return self.rate_limited(fields.message, response.retry_after)
        # Text only refines the generic type: a disabled organization and a low credit balance
        # both come as 400 invalid_request_error (providers.md §1).
        if fields.type in ("invalid_request_error", ""):
            if fields.has("credit balance", "spend limit"):
                return self.billing(fields.message)
            if fields.has("has been disabled"):  # "This organization has been disabled."
                return self.revoked(fields.message)
        return None
