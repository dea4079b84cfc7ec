"""Google Gemini API (AI Studio keys)."""

from providers.base import API_KEY_FIELD, AuthMethod, Capability, Provider, base_url_field


class Google(Provider):
    id = "google"
    name = "Google"
    docs_url = "https://ai.google.dev/api/models#method:-models.list"
    keys_url = "https://aistudio.google.com/app/apikey"
    billing_url = "https://aistudio.google.com/usage"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    auth_methods = {AuthMethod.API_KEY: (API_KEY_FIELD, base_url_field(default_base_url))}
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "Long context, multimodal input and embeddings (Gemini)."
    needs_default_model = True
