"""Anthropic (Claude API)."""

from providers.base import API_KEY_FIELD, AuthMethod, Capability, Provider, base_url_field


class Anthropic(Provider):
    id = "anthropic"
    name = "Anthropic"
    docs_url = "https://docs.anthropic.com/en/api/models-list"
    keys_url = "https://console.anthropic.com/settings/keys"
    billing_url = "https://console.anthropic.com/settings/billing"
    default_base_url = "https://api.anthropic.com"
    auth_methods = {
        AuthMethod.API_KEY: (API_KEY_FIELD, base_url_field(default_base_url)),
        AuthMethod.LOGIN: (),
    }
    capabilities = frozenset({Capability.CHAT, Capability.VISION})
    good_for = "Careful reasoning, long documents and tool use (Claude)."
    needs_default_model = True
