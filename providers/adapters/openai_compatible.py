"""Providers whose API follows OpenAI's shape (Bearer key, `GET {base}/models`), driven by a table.

Each row holds what differs: ids, URLs, capabilities. Per-vendor probes and error quirks are
added to the classes below, each citing providers.md.
"""

from providers.base import API_KEY_FIELD, AuthMethod, Capability, Provider, base_url_field


def _api_key_methods(default_base_url: str) -> dict:
    return {AuthMethod.API_KEY: (API_KEY_FIELD, base_url_field(default_base_url))}


class Perplexity(Provider):
    id = "perplexity"
    name = "Perplexity"
    docs_url = "https://docs.perplexity.ai/api-reference"
    keys_url = "https://www.perplexity.ai/account/api/keys"
    billing_url = "https://www.perplexity.ai/account/api/billing"
    default_base_url = "https://api.perplexity.ai"
    auth_methods = _api_key_methods(default_base_url)
    capabilities = frozenset({Capability.CHAT, Capability.WEB_SEARCH})
    good_for = "Answers grounded in live web search, with citations (Sonar)."
    needs_default_model = True


class Mistral(Provider):
    id = "mistral"
    name = "Mistral"
    docs_url = "https://docs.mistral.ai/api/#tag/models"
    keys_url = "https://console.mistral.ai/api-keys"
    billing_url = "https://console.mistral.ai/billing"
    default_base_url = "https://api.mistral.ai/v1"
    auth_methods = _api_key_methods(default_base_url)
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "European-hosted chat, code (Codestral) and embeddings."
    needs_default_model = True


class Qwen(Provider):
    id = "qwen"
    name = "Qwen"
    docs_url = (
        "https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope"
    )
    keys_url = "https://modelstudio.console.alibabacloud.com/?tab=playground#/api-key"
    billing_url = "https://usercenter2-intl.aliyun.com/billing"
    default_base_url = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
    auth_methods = _api_key_methods(default_base_url)
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "Strong multilingual and coding models at low cost (Alibaba Model Studio)."
    needs_default_model = True


class Kimi(Provider):
    id = "kimi"
    name = "Kimi"
    docs_url = "https://platform.moonshot.ai/docs/api/chat"
    keys_url = "https://platform.moonshot.ai/console/api-keys"
    billing_url = "https://platform.moonshot.ai/console/account"
    default_base_url = "https://api.moonshot.ai/v1"
    auth_methods = _api_key_methods(default_base_url)
    capabilities = frozenset({Capability.CHAT})
    good_for = "Long-context agentic work and coding (Moonshot Kimi K2)."
    needs_default_model = True


class Groq(Provider):
    id = "groq"
    name = "Groq"
    docs_url = "https://console.groq.com/docs/api-reference#models-list"
    keys_url = "https://console.groq.com/keys"
    billing_url = "https://console.groq.com/settings/billing"
    default_base_url = "https://api.groq.com/openai/v1"
    auth_methods = _api_key_methods(default_base_url)
    capabilities = frozenset({Capability.CHAT, Capability.STT})
    good_for = "Very fast, cheap inference for triage and routing; Whisper transcription."
    needs_default_model = True


class DeepSeek(Provider):
    id = "deepseek"
    name = "DeepSeek"
    docs_url = "https://api-docs.deepseek.com/api/get-user-balance"
    keys_url = "https://platform.deepseek.com/api_keys"
    billing_url = "https://platform.deepseek.com/top_up"
    default_base_url = "https://api.deepseek.com"
    auth_methods = _api_key_methods(default_base_url)
    capabilities = frozenset({Capability.CHAT})
    good_for = "Low-cost reasoning and coding (DeepSeek V3 / R1)."
    needs_default_model = True


class XAI(Provider):
    id = "xai"
    name = "xAI"
    docs_url = "https://docs.x.ai/docs/api-reference#api-key"
    keys_url = "https://console.x.ai/team/default/api-keys"
    billing_url = "https://console.x.ai/team/default/billing"
    default_base_url = "https://api.x.ai/v1"
    auth_methods = _api_key_methods(default_base_url)
    capabilities = frozenset({Capability.CHAT, Capability.VISION})
    good_for = "Grok models with real-time knowledge."
    needs_default_model = True


class OpenRouter(Provider):
    id = "openrouter"
    name = "OpenRouter"
    docs_url = "https://openrouter.ai/docs/api-reference/api-keys/get-current-key"
    keys_url = "https://openrouter.ai/settings/keys"
    billing_url = "https://openrouter.ai/settings/credits"
    default_base_url = "https://openrouter.ai/api/v1"
    auth_methods = _api_key_methods(default_base_url)
    capabilities = frozenset({Capability.CHAT, Capability.VISION})
    good_for = "One key for hundreds of models from many vendors, with fallbacks."
    needs_default_model = True
