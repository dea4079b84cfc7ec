"""The provider registry: a literal map from stable id to adapter (no autodiscovery), plus the
operator-defined OpenAI-compatible providers (providers.custom), read from the database.

Ids are stored in the database and used in API paths: never rename one. The custom providers
are re-read at most every RELOAD_SECONDS in each process, and at once when an unknown id is
asked for or a custom provider is added or removed here (`reload()`), so another worker sees a
new provider on its first request for it and a removed one within seconds.
"""

import threading
import time
from collections.abc import Iterator, Mapping

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

BUILTINS: dict[str, Provider] = {
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

RELOAD_SECONDS = 2.0


class Registry(Mapping[str, Provider]):
    """Built-ins first (in their order), then custom providers by id."""

    def __init__(self, builtins: dict[str, Provider]) -> None:
        self._builtins = builtins
        self._custom: dict[str, Provider] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()
        self._rows: list = []
        # Moves whenever the custom providers read differ from the last read: what depends on
        # the catalog (a cached answer) compares it.
        self.generation = 0

    def reload(self) -> None:
        from django.db import DatabaseError, transaction

        from providers.custom import OpenAICompatible
        from providers.models import CustomProvider

        try:
            with transaction.atomic():  # a savepoint: a missing table spoils no transaction
                rows = list(CustomProvider.objects.all())
        except (DatabaseError, RuntimeError):
            # Before the first migration, or where the database may not be used (a test
            # without one): the built-ins alone.
            rows = []
        signature = [[getattr(row, f.attname) for f in row._meta.concrete_fields] for row in rows]
        if signature != self._rows:
            self._rows = signature
            self.generation += 1
        self._custom = {
            row.id: OpenAICompatible(row) for row in rows if row.id not in self._builtins
        }
        self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        """Forget the custom providers read so far: the next use reads them again."""
        with self._lock:
            self._custom, self._loaded_at = {}, float("-inf")

    def _fresh(self, *, missing: str | None = None) -> dict[str, Provider]:
        age = time.monotonic() - self._loaded_at
        if age > RELOAD_SECONDS or missing is not None:  # an unknown id: maybe added elsewhere
            with self._lock:
                self.reload()
        return self._custom

    def __getitem__(self, provider_id: str) -> Provider:
        if provider_id in self._builtins:
            return self._builtins[provider_id]
        custom = self._custom if provider_id in self._custom else self._fresh(missing=provider_id)
        return custom[provider_id]

    def __contains__(self, provider_id: object) -> bool:
        try:
            self[provider_id]  # type: ignore[index]
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        yield from self._builtins
        yield from list(self._fresh())

    def __len__(self) -> int:
        return len(self._builtins) + len(self._fresh())

    def is_builtin(self, provider_id: str) -> bool:
        return provider_id in self._builtins


PROVIDERS = Registry(BUILTINS)


def get_provider(provider_id: str) -> Provider | None:
    """The adapter for an id or alias, or None when there is no such provider."""
    return PROVIDERS.get(ALIASES.get(provider_id, provider_id))


def declared_fields(*methods: AuthMethod) -> dict[str, CredentialField]:
    """Every credential field the providers declare (for these methods, or all), by name, in
    registry order; where providers differ, the longest limit wins. The connection state, the
    API's input and the OpenAPI schemas are built from this, never from a list of their own."""
    fields: dict[str, CredentialField] = {}
    # The built-ins declare every field name (custom providers reuse theirs): no database read.
    for provider in BUILTINS.values():
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
