"""The connections app's JSON API routes, under /api/control-plane/ (design §7)."""

from django.urls import path

import koda.converters  # noqa: F401 (registers <anypath:>)
from connections import api, catalogs_api, custom_api, login_api

P = "providers/<str:provider_id>"

# The local catalogs come before the generic provider routes they would otherwise match.
catalog_patterns = [
    path("providers/ollama/models", catalogs_api.ollama_models, name="ollama-models"),
    path("providers/ollama/models/pull", catalogs_api.ollama_pull, name="ollama-pull"),
    path(
        "providers/ollama/models/<anypath:name>", catalogs_api.ollama_delete, name="ollama-delete"
    ),
    path("providers/whispercpp/models", catalogs_api.whisper_models, name="whisper-models"),
    path(
        "providers/whispercpp/models/<str:variant>/download",
        catalogs_api.whisper_download,
        name="whisper-download",
    ),
    path(
        "providers/whispercpp/models/<str:variant>/select",
        catalogs_api.whisper_select,
        name="whisper-select",
    ),
    path(
        "providers/whispercpp/models/<str:variant>",
        catalogs_api.whisper_delete,
        name="whisper-delete",
    ),
    path("providers/kokoro/model", catalogs_api.kokoro_model, name="kokoro-model"),
    path(
        "providers/kokoro/model/download",
        catalogs_api.kokoro_model_download,
        name="kokoro-model-download",
    ),
    path("providers/kokoro/model/select", catalogs_api.kokoro_model_select, name="kokoro-select"),
    path("providers/kokoro/voices", catalogs_api.kokoro_voices, name="kokoro-voices"),
    path(
        "providers/kokoro/voices/<str:voice>/download",
        catalogs_api.kokoro_voice_download,
        name="kokoro-voice-download",
    ),
    path("providers/embedding/models", catalogs_api.embedding_models, name="embedding-models"),
    path(
        "providers/embedding/models/<anypath:model_id>/select",
        catalogs_api.embedding_select,
        name="embedding-select",
    ),
    path("providers/downloads/active", catalogs_api.downloads_active, name="downloads-active"),
    path("providers/downloads/<str:job_id>", catalogs_api.download_get, name="download"),
    path(
        "providers/downloads/<str:job_id>/cancel",
        catalogs_api.download_cancel,
        name="download-cancel",
    ),
]

urlpatterns = [
    # The hottest reads first (URL resolution tries patterns in order). Only
    # providers/downloads/connection could match both: download ids are UUIDs, and no provider
    # is called "downloads", so it is a 404 either way.
    path("connections/catalog", api.catalog, name="catalog"),
    path(f"{P}/connection", api.connection, name="connection"),
    *catalog_patterns,
    path("providers", custom_api.providers_create, name="providers-create"),
    path(P, custom_api.provider_delete, name="provider-delete"),
    path(f"{P}/connection/disconnect", api.connection_disconnect, name="connection-disconnect"),
    path(f"{P}/connection/api-key", api.connection_api_key, name="connection-api-key"),
    path(f"{P}/connection/local", api.connection_local, name="connection-local"),
    path(f"{P}/connection/verify", api.connection_verify, name="connection-verify"),
    path(f"{P}/connection/login/start", login_api.login_start, name="login-start"),
    path(f"{P}/connection/login/<str:session_id>", login_api.login_session, name="login-session"),
    path(f"{P}/connection/login/<str:session_id>/code", login_api.login_code, name="login-code"),
    path(
        f"{P}/connection/default-model",
        api.connection_default_model,
        name="connection-default-model",
    ),
    path(
        f"{P}/connection/credit-threshold",
        api.connection_credit_threshold,
        name="connection-credit-threshold",
    ),
    path(f"{P}/models", api.connection_models, name="connection-models"),
    path(
        "integrations/<str:integration_id>/health",
        api.integration_health,
        name="integration-health",
    ),
]
