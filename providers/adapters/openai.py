"""OpenAI (Platform API keys). Facts: providers.md §2 and OpenAI's error-codes guide."""

import re

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from providers.fields import AuthMethod, CredentialField, FieldKind, Method, api_key_method
from providers.http import ProbeResponse
from providers.oauth import LoginFlow, jwt_claims
from providers.values import Capability, Credential, Model, Outcome, RuntimeAccess, Verdict
from providers.verification import ErrorFields, HttpProvider, Probe, openai_style_models, text

# ChatGPT sign-in (the Codex CLI's device flow, providers.md §2b). The token is for ChatGPT's
# backend, not api.openai.com. Its usage endpoint is internal and has moved before: a backend
# without it is still checked through the model list.
USAGE_MISSING = "ChatGPT's usage endpoint is not at this backend; the model list was checked."
CODEX_CLIENT_VERSION = "0.50.0"


def _chatgpt_account(body: dict) -> dict[str, str]:
    """Account id, plan and email from the ID token's claims (shown, never trusted for auth)."""
    claims = jwt_claims(text(body.get("id_token"), 16384))
    auth = claims.get("https://api.openai.com/auth")
    auth = auth if isinstance(auth, dict) else {}
    return {
        "account_id": text(auth.get("chatgpt_account_id"), 128),
        "plan": text(auth.get("chatgpt_plan_type"), 64),
        "email": text(claims.get("email"), 200),
    }


def _usage(body) -> dict[str, str]:
    plan = text(body.get("plan_type"), 64) if isinstance(body, dict) else ""
    return {"plan": plan} if plan else {}


def _codex_models(body) -> list[Model]:
    items = body.get("models") if isinstance(body, dict) else None
    return [
        Model.of(m.get("slug") or m["id"], m.get("display_name"))
        for m in (items if isinstance(items, list) else [])
        if isinstance(m, dict)
    ]


class OpenAI(HttpProvider):
    id = "openai"
    name = "OpenAI"
    docs_url = "https://platform.openai.com/docs/api-reference/models/list"
    keys_url = "https://platform.openai.com/api-keys"
    billing_url = "https://platform.openai.com/settings/organization/billing"
    default_base_url = "https://api.openai.com/v1"
    methods = (
        api_key_method(
            default_base_url,
            CredentialField(
                "organization",
                "Organization ID",
                kind=FieldKind.IDENTIFIER,
                help="org-…, optional",
                max_length=128,
            ),
            CredentialField(
                "project",
                "Project ID",
                kind=FieldKind.IDENTIFIER,
                help="proj_…, optional",
                max_length=128,
            ),
        ),
        Method(
            AuthMethod.LOGIN,
            "Sign in with ChatGPT",
            help="Use a ChatGPT plan's access (Plus, Pro, Team): Koda shows a code, you enter "
            "it at OpenAI and approve.",
        ),
    )
    capabilities = frozenset(
        {Capability.CHAT, Capability.EMBEDDING, Capability.TTS, Capability.STT, Capability.VISION}
    )
    good_for = "General-purpose chat and tools, embeddings, speech in and out (GPT)."
    needs_default_model = True
    # A key with no quota still lists models (providers.md §2), so say what was not checked.
    unchecked_note = "Credit not checked: OpenAI's model list answers even with no quota left."

    def login_flow(self) -> LoginFlow:
        auth = settings.KODA_CHATGPT_AUTH_BASE_URL.rstrip("/")
        return LoginFlow(
            kind="device",
            name=self.name,
            client_id=settings.KODA_CHATGPT_CLIENT_ID,
            token_urls=(f"{auth}/oauth/token",),
            token_encoding="form",
            refresh_extra={"scope": "openid profile email"},
            device_code_url=f"{auth}/api/accounts/deviceauth/usercode",
            device_poll_url=f"{auth}/api/accounts/deviceauth/token",
            verification_url=f"{auth}/codex/device",
            device_redirect_uri=f"{auth}/deviceauth/callback",
            account=_chatgpt_account,
        )

    def base_url(self, credential: Credential) -> str:
        if credential.method == AuthMethod.LOGIN:
            return settings.KODA_CHATGPT_BACKEND_URL.rstrip("/")
        return super().base_url(credential)

    @sensitive_variables()
    def auth_headers(self, credential: Credential) -> dict[str, str]:
        if credential.method == AuthMethod.LOGIN:
            headers = {"Authorization": f"Bearer {credential.get('access_token')}"}
            if credential.get("account_id"):
                headers["chatgpt-account-id"] = credential.get("account_id")
            return headers
        headers = {"Authorization": f"Bearer {credential.get('api_key')}"}
        if credential.get("organization"):
            headers["OpenAI-Organization"] = credential.get("organization")
        if credential.get("project"):
            headers["OpenAI-Project"] = credential.get("project")
        return headers

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        if credential.method == AuthMethod.LOGIN:
            # ChatGPT's Codex backend speaks the Responses API (POST /responses).
            headers = {"originator": "codex_cli_rs", "OpenAI-Beta": "responses=experimental"}
            if credential.get("account_id"):
                headers["chatgpt-account-id"] = credential.get("account_id")
            return RuntimeAccess("chatgpt", f"{self.base_url(credential)}/codex", headers)
        headers = {
            name: credential.get(field)
            for field, name in (
                ("organization", "OpenAI-Organization"),
                ("project", "OpenAI-Project"),
            )
            if credential.get(field)
        }
        return RuntimeAccess("openai", self.base_url(credential), headers)

    def probes_for(self, credential: Credential) -> list[Probe]:
        if credential.method == AuthMethod.LOGIN:
            return [
                Probe("GET", "/wham/usage", expect=self._usage_expect, details=_usage),
                Probe(
                    "GET",
                    f"/codex/models?client_version={CODEX_CLIENT_VERSION}",
                    expect=self._models_expect,
                    models=_codex_models,
                ),
            ]
        return [Probe("GET", "/models", models=openai_style_models)]

    def _usage_expect(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        if response.status == 404:
            notes.append(USAGE_MISSING)
            return None
        return self.expect_success(response, notes)

    def _models_expect(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        if response.status == 404:
            if USAGE_MISSING in notes:
                return Verdict(
                    Outcome.ENDPOINT_NOT_FOUND,
                    f"Neither ChatGPT's usage nor its model list answers at {response.url}.",
                    "Check KODA_CHATGPT_BACKEND_URL (default https://chatgpt.com/backend-api).",
                )
            notes.append("ChatGPT did not list its models here; the sign-in itself works.")
            return None
        return self.expect_success(response, notes)

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        # Machine-readable codes first; message text only where OpenAI sends no code.
        if fields.code == "account_deactivated":
            return self.revoked(fields.message)
        if fields.code == "mismatched_organization":
            return Verdict(
                Outcome.INVALID_CREDENTIALS,
                "The organization does not match this key's organization.",
                "Clear the Organization field or use that organization's key.",
            )
        if fields.code == "insufficient_quota" or fields.type == "insufficient_quota":
            return self.billing(fields.message)
        if fields.code == "unsupported_country_region_territory":
            return self.region(fields.message)
        if fields.code == "rate_limit_exceeded":
            return self.rate_limited(fields.message, response.retry_after)
        if fields.code == "invalid_api_key":
            return self.invalid(fields.message)
        if fields.has("insufficient permissions", "Missing scopes"):
            # Restricted keys get 401 with no code, not 403 (PowerToys#32989): the key is valid.
            scopes = re.search(r"Missing scopes: ([\w.]+(?:,\s*[\w.]+)*)", fields.message)
            needed = f"needs {scopes.group(1).strip()}" if scopes else fields.message
            return self.scope(f"{needed} (give the key 'Models: Read')")
        if fields.has("deactivated account"):
            return self.revoked(fields.message)
        if fields.code == "unknown_url" or fields.has("Invalid URL"):
            return Verdict(
                Outcome.ENDPOINT_NOT_FOUND,
                f"{self.name}: {fields.message}"[:300],
                f"Check the base URL (default {self.default_base_url}).",
            )
        if response.status == 401:
            return self.invalid(fields.message)
        return None
