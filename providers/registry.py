"""The provider registry: a literal map from stable id to adapter (no autodiscovery).

Ids are stored in the database and used in API paths: never rename one.
"""

from providers.adapters.anthropic import Anthropic
from providers.adapters.elevenlabs import ElevenLabs
from providers.adapters.google import Google
from providers.adapters.local_servers import MLX, LlamaCpp
from providers.adapters.model_files import Kokoro, WhisperCpp
from providers.adapters.ollama import Ollama
from providers.adapters.openai import OpenAI
from providers.adapters.openai_compatible import (
    XAI,
    DeepSeek,
    Groq,
    Kimi,
    Mistral,
    OpenRouter,
    Perplexity,
    Qwen,
)
from providers.base import Provider
from providers.fields import AuthMethod, CredentialField

PROVIDERS: dict[str, Provider] = {
    "anthropic": Anthropic(),
    "openai": OpenAI(),
    "google": Google(),
    "ollama": Ollama(),
    "elevenlabs": ElevenLabs(),
    "perplexity": Perplexity(),
    "mistral": Mistral(),
    "qwen": Qwen(),
    "kimi": Kimi(),
    "groq": Groq(),
    "deepseek": DeepSeek(),
    "xai": XAI(),
    "openrouter": OpenRouter(),
    "llamacpp": LlamaCpp(),
    "mlx": MLX(),
    "kokoro": Kokoro(),
    "whispercpp": WhisperCpp(),
}

# Names Koda's agents already use for some providers (issue 3).
ALIASES: dict[str, str] = {"claude": "anthropic", "codex": "openai", "gemini": "google"}


def get_provider(provider_id: str) -> Provider | None:
    """The adapter for an id or alias, or None when there is no such provider."""
    return PROVIDERS.get(ALIASES.get(provider_id, provider_id))


def declared_fields(*methods: AuthMethod) -> dict[str, CredentialField]:
    """Every credential field the providers declare (for these methods, or all), by name, in
    registry order; where providers differ, the longest limit wins. The connection state, the
    API's input and the OpenAPI schemas are built from this, never from a list of their own."""
    fields: dict[str, CredentialField] = {}
    for provider in PROVIDERS.values():
        for method in provider.methods:
            if methods and method.id not in methods:
                continue
            for spec in method.fields:
                known = fields.get(spec.name)
                if known is None or spec.max_length > known.max_length:
                    fields[spec.name] = spec
    return fields


def public_field_names() -> list[str]:
    """The public credential fields, as connection state names them (design §7)."""
    return [name for name, spec in declared_fields().items() if not spec.secret]
