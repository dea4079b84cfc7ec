"""Every JSON API route, under /api/control-plane/ (design §7)."""

from django.urls import path, re_path

from connections import api as connections_api
from koda import openapi
from koda.api import NotFound, api_view


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request, rest: str):
    raise NotFound(f"There is no API endpoint /api/control-plane/{rest}.")


app_name = "api"
urlpatterns = [
    path("openapi.json", openapi.openapi_view, name="openapi"),
    path("connections/catalog", connections_api.catalog, name="catalog"),
    path("providers/<str:provider_id>/connection", connections_api.connection, name="connection"),
    path(
        "providers/<str:provider_id>/connection/disconnect",
        connections_api.connection_disconnect,
        name="connection-disconnect",
    ),
    path(
        "providers/<str:provider_id>/connection/api-key",
        connections_api.connection_api_key,
        name="connection-api-key",
    ),
    path(
        "providers/<str:provider_id>/connection/verify",
        connections_api.connection_verify,
        name="connection-verify",
    ),
    path(
        "providers/<str:provider_id>/connection/default-model",
        connections_api.connection_default_model,
        name="connection-default-model",
    ),
    path(
        "providers/<str:provider_id>/models",
        connections_api.connection_models,
        name="connection-models",
    ),
    path(
        "integrations/<str:integration_id>/health",
        connections_api.integration_health,
        name="integration-health",
    ),
    re_path(r"^(?P<rest>.*)$", not_found, name="not-found"),
]
