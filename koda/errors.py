"""Django's error handlers (the root URLconf names them): what a request gets when it fails
outside a view's own handling, in middleware, before routing (a host not in
KODA_ALLOWED_HOSTS), or on an unexpected exception. Under /api/ the answer is the JSON error
shape; elsewhere a short page. Neither touches the database, which may be what failed: a lost
database is a 503 that says so, never a traceback."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape

from koda.api_errors import (
    DATABASE_RETRY_AFTER,
    ApiError,
    DatabaseUnavailable,
    ServerError,
    error_response,
    is_database_down,
)

API_PREFIX = "/api/"


def _page(status: int, title: str, message: str) -> HttpResponse:
    # No request context: context processors would read the session and the database.
    try:
        body = render_to_string("koda/error.html", {"title": title, "message": message})
    except Exception:  # an error page must not fail (e.g. static files not collected yet)
        body = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
        body += f"<p>{escape(message)}</p>"
    response = HttpResponse(body, status=status)
    if status == 503:
        response["Retry-After"] = DATABASE_RETRY_AFTER
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: a malformed request, or a Host header Koda does not serve (DisallowedHost)."""
    message = "This request cannot be served (a malformed request, or a host Koda does not serve)."
    if _is_api(request):
        return error_response(ApiError(message, code="bad_request", status=400))
    return _page(400, "Bad request", message)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the database is out of reach (Django calls this inside the except
    block, so the exception is at hand)."""
    if is_database_down(sys.exc_info()[1]):
        if _is_api(request):
            return error_response(DatabaseUnavailable())
        return _page(
            503,
            "Database unavailable",
            "Koda cannot reach its database. Nothing was changed; try again shortly.",
        )
    if _is_api(request):
        return error_response(ServerError("Koda failed to answer; the error was logged."))
    return _page(500, "Something went wrong", "Koda failed to answer; the error was logged.")
