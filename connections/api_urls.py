"""The connections app's JSON API routes, under /api/control-plane/ (design §7)."""

from django.urls import path

from connections import api

P = "providers/<str:provider_id>"

urlpatterns = [
    path("connections/catalog", api.catalog, name="catalog"),
    path(f"{P}/connection", api.connection, name="connection"),
    path(f"{P}/connection/disconnect", api.connection_disconnect, name="connection-disconnect"),
    path(f"{P}/connection/api-key", api.connection_api_key, name="connection-api-key"),
    path(f"{P}/connection/local", api.connection_local, name="connection-local"),
    path(f"{P}/connection/verify", api.connection_verify, name="connection-verify"),
    path(
        f"{P}/connection/default-model",
        api.connection_default_model,
        name="connection-default-model",
    ),
    path(f"{P}/models", api.connection_models, name="connection-models"),
    path(
        "integrations/<str:integration_id>/health",
        api.integration_health,
        name="integration-health",
    ),
]
