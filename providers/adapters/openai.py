"""OpenAI (Platform API keys). Facts: providers.md §2 and OpenAI's error-codes guide."""

import re

from django.views.decorators.debug import sensitive_variables

from providers.fields import AuthMethod, CredentialField, FieldKind, Method, api_key_method
from providers.http import ProbeResponse
from providers.values import Capability, Credential, Outcome, RuntimeAccess, Verdict
from providers.verification import ErrorFields, HttpProvider, Probe, openai_style_models


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
        Method(AuthMethod.LOGIN, "Sign in with ChatGPT", help="Use a ChatGPT plan's access."),
    )
    capabilities = frozenset(
        {Capability.CHAT, Capability.EMBEDDING, Capability.TTS, Capability.STT, Capability.VISION}
    )
    good_for = "General-purpose chat and tools, embeddings, speech in and out (GPT)."
    needs_default_model = True
    # A key with no quota still lists models (providers.md §2), so say what was not checked.
    unchecked_note = "Credit not checked: OpenAI's model list answers even with no quota left."

    @sensitive_variables()
    def auth_headers(self, credential: Credential) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {credential.get('api_key')}"}
        if credential.get("organization"):
            headers["OpenAI-Organization"] = credential.get("organization")
        if credential.get("project"):
            headers["OpenAI-Project"] = credential.get("project")
        return headers

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
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
        return [Probe("GET", "/models", models=openai_style_models)]

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
                f"OpenAI: {fields.message}"[:300],
                f"Check the base URL (default {self.default_base_url}).",
            )
        if response.status == 401:
            return self.invalid(fields.message)
        return None
