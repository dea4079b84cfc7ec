"""The API routes koda itself serves: the OpenAPI document, and a JSON 404 for every path no app
claims (included last by the root URLconf)."""

from django.urls import path, re_path

from koda import openapi
from koda.api import NotFound, api_view


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request, rest: str):
    raise NotFound(f"There is no API endpoint /api/control-plane/{rest}.")


urlpatterns = [
    path("openapi.json", openapi.openapi_view, name="openapi"),
    # [\s\S], not ".": a path with an encoded newline is still an API path, answered in JSON.
    re_path(r"^(?P<rest>[\s\S]*)$", not_found, name="api-not-found"),
]
