"""Anthropic (Claude API). Facts: providers.md §1; docs.claude.com/en/api/errors."""

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from providers.fields import AuthMethod, Method, api_key_method
from providers.http import ProbeResponse
from providers.oauth import LoginFlow
from providers.values import Capability, Credential, Model, Outcome, RuntimeAccess, Verdict
from providers.verification import ErrorFields, HttpProvider, Probe, text

API_VERSION = "2023-06-01"
# Claude login tokens are sent as Bearer with this beta (without it: 401 "OAuth authentication is
# currently not supported."). providers.md §1b.
OAUTH_BETA = "oauth-2025-04-20"
# Where the code exchange is posted when KODA_CLAUDE_OAUTH_TOKEN_URL is unset: the current host,
# then the older ones (one is reported to 404 now), while they answer 404.
TOKEN_URLS = (
    "https://platform.claude.com/v1/oauth/token",
    "https://console.anthropic.com/v1/oauth/token",
    "https://api.anthropic.com/v1/oauth/token",
)
CLAUDE_CODE_ONLY = "only authorized for use with Claude Code"


def _models(body) -> list[Model]:
    return [Model.of(m["id"], m.get("display_name")) for m in body["data"]]


def _account(body: dict) -> dict[str, str]:
    """Who signed in, from a token answer or the OAuth profile (shapes vary: read what is
    there)."""
    account = body.get("account") if isinstance(body.get("account"), dict) else {}
    organization = body.get("organization") if isinstance(body.get("organization"), dict) else {}
    plan = text(organization.get("organization_type") or account.get("subscription_type"))
    if not plan and account.get("has_claude_max") is True:
        plan = "max"
    elif not plan and account.get("has_claude_pro") is True:
        plan = "pro"
    return {
        "account_id": text(account.get("uuid"), 64),
        "email": text(account.get("email_address") or account.get("email"), 200),
        "organization": text(organization.get("name"), 200),
        "plan": plan[:64],
    }


def _profile(body) -> dict[str, str]:
    facts = _account(body if isinstance(body, dict) else {})
    return {
        name: facts[key]
        for name, key in (("account", "email"), ("organization", "organization"), ("plan", "plan"))
        if facts[key]
    }


class Anthropic(HttpProvider):
    id = "anthropic"
    name = "Anthropic"
    docs_url = "https://docs.anthropic.com/en/api/models-list"
    keys_url = "https://console.anthropic.com/settings/keys"
    billing_url = "https://console.anthropic.com/settings/billing"
    default_base_url = "https://api.anthropic.com"
    methods = (
        api_key_method(default_base_url),
        Method(
            AuthMethod.LOGIN,
            "Claude login",
            help="Sign in with a Claude account (Pro, Max or Team): open the link, approve, "
            "and paste the code Claude shows back here.",
        ),
    )
    capabilities = frozenset({Capability.CHAT, Capability.VISION})
    good_for = "Careful reasoning, long documents and tool use (Claude)."
    needs_default_model = True
    unchecked_note = "Credit balance not checked: Anthropic has no free endpoint that shows it."

    def login_flow(self) -> LoginFlow:
        token_url = settings.KODA_CLAUDE_OAUTH_TOKEN_URL
        return LoginFlow(
            kind="paste",
            name=self.name,
            client_id=settings.KODA_CLAUDE_OAUTH_CLIENT_ID,
            token_urls=(token_url,) if token_url else TOKEN_URLS,
            authorize_url=settings.KODA_CLAUDE_OAUTH_AUTHORIZE_URL,
            redirect_uri=settings.KODA_CLAUDE_OAUTH_REDIRECT_URI,
            scopes=settings.KODA_CLAUDE_OAUTH_SCOPES,
            authorize_extra={"code": "true"},  # the page that shows code#state to copy
            account=_account,
        )

    def base_url(self, credential: Credential) -> str:
        if credential.method == AuthMethod.LOGIN:
            return settings.KODA_CLAUDE_API_BASE_URL.rstrip("/")
        return super().base_url(credential)

    @sensitive_variables()
    def auth_headers(self, credential: Credential) -> dict[str, str]:
        if credential.method == AuthMethod.LOGIN:
            return {
                "Authorization": f"Bearer {credential.get('access_token')}",
                "anthropic-version": API_VERSION,
                "anthropic-beta": OAUTH_BETA,
            }
        return {"x-api-key": credential.get("api_key"), "anthropic-version": API_VERSION}

    protocol = "anthropic"

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        headers = {"anthropic-version": API_VERSION}
        if credential.method == AuthMethod.LOGIN:
            headers["anthropic-beta"] = OAUTH_BETA  # the token goes as Authorization: Bearer
        return RuntimeAccess("anthropic", self.base_url(credential), headers)

    def probes_for(self, credential: Credential) -> list[Probe]:
        models = Probe("GET", "/v1/models?limit=1000", models=_models)
        if credential.method == AuthMethod.LOGIN:
            # The OAuth profile is free and says who signed in (needs user:profile), then the
            # model list: a token Anthropic restricts to Claude Code is refused there.
            return [Probe("GET", "/api/oauth/profile", details=_profile), models]
        # Free and token-less; newest models first, up to 1000 in one page.
        return [models]

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        body = response.json if isinstance(response.json, dict) else {}
        if fields.has(CLAUDE_CODE_ONLY):
            return Verdict(
                Outcome.INSUFFICIENT_SCOPE,
                f"Anthropic restricts this sign-in to Claude Code: {fields.message}"[:300],
                "Agents cannot use this token. Connect Anthropic with an API key instead.",
            )
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
                f"{self.name} has no such endpoint here.",
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
