"""OpenAI (Platform API keys, optional organization and project)."""

from providers.base import (
    API_KEY_FIELD,
    AuthMethod,
    Capability,
    CredentialField,
    Provider,
    base_url_field,
)


class OpenAI(Provider):
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
