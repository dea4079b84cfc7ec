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
    re_path(r"^(?P<rest>.*)$", not_found, name="not-found"),
]
