"""Ollama: a local server (no credentials) or Ollama cloud (ollama.com API keys)."""

from providers.base import API_KEY_FIELD, AuthMethod, Capability, CredentialField, Provider

LOCAL_DEFAULT = "http://127.0.0.1:11434"
CLOUD_DEFAULT = "https://ollama.com"


class Ollama(Provider):
    id = "ollama"
    name = "Ollama"
    kind = "local"
    docs_url = "https://github.com/ollama/ollama/blob/main/docs/api.md"
    keys_url = "https://ollama.com/settings/keys"
    billing_url = "https://ollama.com/settings"
    default_base_url = LOCAL_DEFAULT
    auth_methods = {
        AuthMethod.LOCAL_ENDPOINT: (
            CredentialField("endpoint_url", "Endpoint URL", kind="url", help=LOCAL_DEFAULT),
        ),
        AuthMethod.API_KEY: (API_KEY_FIELD,),
    }
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "Open-weight models on your own hardware, or Ollama's hosted cloud models."
    needs_default_model = True
