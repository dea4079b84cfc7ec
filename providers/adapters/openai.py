"""OpenAI (Platform API keys). Facts: providers.md §2 and OpenAI's error-codes guide."""

import re

from providers.base import (
    API_KEY_FIELD,
    AuthMethod,
    Capability,
    Credential,
    CredentialField,
    Outcome,
    base_url_field,
)
from providers.http import ProbeResponse
from providers.verification import (
    ErrorFields,
    HttpProvider,
    Probe,
    Verdict,
    openai_style_models,
)


class OpenAI(HttpProvider):
    id = "openai"
    name = "OpenAI"
    docs_url = "https://platform.openai.com/docs/api-reference/models/list"
    keys_url = "https://platform.openai.com/api-keys"
    billing_url = "https://platform.openai.com/settings/organization/billing"
    default_base_url = "https://api.openai.com/v1"
    auth_methods = {
        AuthMethod.API_KEY: (
            API_KEY_FIELD,
            base_url_field(default_base_url),
            CredentialField(
                "organization", "Organization ID", help="org-…, optional", max_length=128
            ),
            CredentialField("project", "Project ID", help="proj_…, optional", max_length=128),
        ),
        AuthMethod.LOGIN: (),
    }
    capabilities = frozenset(
        {Capability.CHAT, Capability.EMBEDDING, Capability.TTS, Capability.STT, Capability.VISION}
    )
    good_for = "General-purpose chat and tools, embeddings, speech in and out (GPT)."
    needs_default_model = True
    # A key with no quota still lists models (providers.md §2), so say what was not checked.
    unchecked_note = "Credit not checked: OpenAI's model list answers even with no quota left."

    def auth_headers(self, credential: Credential) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {credential.api_key}"}
        if credential.organization:
            headers["OpenAI-Organization"] = credential.organization
        if credential.project:
            headers["OpenAI-Project"] = credential.project
        return headers

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [Probe("GET", "/models", models=openai_style_models)]

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        if fields.code == "account_deactivated" or fields.has("deactivated account"):
            return self.revoked(fields.message)
        if fields.has("insufficient permissions", "Missing scopes"):
            # Restricted keys get 401, not 403 (PowerToys#32989): the key is valid.
            scopes = re.search(r"Missing scopes: ([\w.]+(?:,\s*[\w.]+)*)", fields.message)
            needed = f"needs {scopes.group(1).strip()}" if scopes else fields.message
            return self.scope(f"{needed} (give the key 'Models: Read')")
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
        if fields.code in ("unknown_url",) or fields.has("Invalid URL"):
            return Verdict(
                Outcome.ENDPOINT_NOT_FOUND,
                f"OpenAI: {fields.message}"[:300],
                f"Check the base URL (default {self.default_base_url}).",
            )
        if response.status == 401:
            return self.invalid(fields.message)
        return None
