"""A URLconf for one test: the real API routes plus a view that fails unexpectedly."""

from django.urls import include, path

from koda.api import api_view


@api_view(["GET"])
def boom(request):
    raise RuntimeError("internal detail: sk-proj-TracebackSecret-0123456789abcdef")


urlpatterns = [
    path("api/control-plane/boom", boom),
    path("api/control-plane/", include("koda.api_urls")),
]
