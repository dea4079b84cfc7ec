"""JSON API plumbing: auth, the CSRF rule, body parsing; the error shape is `koda.api_errors`.

Every API view is wrapped by `api_view`, which:
- authenticates by `Authorization: Bearer <token>` or the operator session cookie (401 otherwise);
- applies the cookie-write CSRF rule (design §7): JSON content type required, and an `Origin`
  header, when present, must name this host;
- answers 405 for methods the view does not take, 413 for bodies over 64 KB (declared or
  chunked), 411 for a chunked body the server cannot de-chunk;
- turns every `ApiError` into `{"error": {"code", "message", "details"}}` with its status, and
  any other exception into a 500 of the same shape, with no traceback, in debug mode too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from koda.api_errors import (  # re-exported: views import the API plumbing from one place
    DATABASE_ERRORS,
    DATABASE_RETRY_AFTER,
    ApiError,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InvalidInput,
    InvalidJson,
    LengthRequired,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServerError,
    Unauthenticated,
    Unprocessable,
    UnsupportedMediaType,
    error_response,
    is_database_down,
)
from koda.api_json import parse_json
from koda.crypto import InvalidToken
from koda.operators import is_operator
from koda.prepared import Lookup
from koda.tokens import api_token_authenticate

__all__ = [
    "DATABASE_ERRORS",
    "DATABASE_RETRY_AFTER",
    "UNSAFE_METHODS",
    "ApiError",
    "Conflict",
    "DatabaseUnavailable",
    "Forbidden",
    "InvalidInput",
    "InvalidJson",
    "LengthRequired",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "ServerError",
    "Unauthenticated",
    "Unprocessable",
    "UnsupportedMediaType",
    "api_view",
    "error_response",
    "is_database_down",
    "operator_authenticator",
    "parse_json",
]

log = logging.getLogger("koda.api")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


def _origin_matches_host(request: HttpRequest) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc:
        return False  # "null" and other opaque origins are never this host
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    expected_scheme = "https" if request.is_secure() else "http"
    return parts.scheme == expected_scheme and parts.netloc.lower() == request.get_host().lower()


def operator_authenticator(lookup: Lookup | None = None) -> Callable[[HttpRequest], str]:
    """The operator authentication (a bearer API token or the session cookie), for
    `api_view(authenticate=…)`. `lookup`: a token lookup that reads more in the same statement
    (`koda.tokens.api_token_lookup(annotations)`), for views that want it on the token."""

    def authenticate(request: HttpRequest) -> str:
        """Set request.user / request.api_token; return "token" or "session"; raise on failure."""
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, credentials = header.partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise Unauthenticated(
                    "Use 'Authorization: Bearer <token>'.", headers={"WWW-Authenticate": "Bearer"}
                )
            token = api_token_authenticate(credentials.strip(), lookup)
            if token is None:
                raise Unauthenticated(
                    "The bearer token is unknown or revoked.",
                    code="invalid_token",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            request.user = token.operator
            request.api_token = token
            return "token"
        if not request.user.is_authenticated:
            raise Unauthenticated(
                "Log in to the dashboard (cookie koda_operator_session) "
                "or send Authorization: Bearer <token>.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not is_operator(request.user):
            raise Forbidden("This account is not an operator.")
        request.api_token = None
        return "session"

    return authenticate


_authenticate = operator_authenticator()


def _check_body(request: HttpRequest, via: str) -> None:
    length = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared = int(length)
    except ValueError:
        raise ApiError("Content-Length is not a number.", code="bad_request") from None
    limit = settings.KODA_API_MAX_BODY_BYTES
    if declared > limit:
        raise PayloadTooLarge(
            f"The body is over {limit // 1024} KB.",
            details={"max_bytes": limit, "content_length": declared},
        )
    if request.method not in UNSAFE_METHODS:
        return
    body = _read_body(request, limit)
    if len(body) > limit:
        raise PayloadTooLarge(f"The body is over {limit // 1024} KB.", details={"max_bytes": limit})
    if via == "session":
        if not _origin_matches_host(request):
            raise Forbidden(
                "Cross-origin writes are refused: Origin does not match this host.",
                code="origin_mismatch",
            )
        if not _is_json(request):
            raise Forbidden(
                "Cookie-authenticated writes must send Content-Type: application/json.",
                code="csrf_content_type",
            )
    elif declared and not _is_json(request):
        raise UnsupportedMediaType("Send the body as JSON (Content-Type: application/json).")


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The body, read at most one byte past the limit. A chunked body has no Content-Length, and
    Django would read it as empty: gunicorn de-chunks wsgi.input, so it is read from there; a
    server that hands over the raw chunked stream gets 411 instead of a silently empty body."""
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and not request.META.get("CONTENT_LENGTH"):
        if not request.META.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
            raise LengthRequired(
                "Send a Content-Length with the body (chunked bodies are refused)."
            )
        request._body = request.META["wsgi.input"].read(limit + 1)
    try:
        return request.body
    except RequestDataTooBig:
        return b"x" * (limit + 1)


def api_view(
    methods: Iterable[str], *, authenticate: Callable[[HttpRequest], str] | None = None
) -> Callable:
    """`authenticate` replaces the operator authentication for views that other callers use
    (an agent's runtime): it sets what the view needs on the request and returns "token" (bearer
    writes need JSON) or "session" (the cookie-write CSRF rule applies), or raises an ApiError."""
    allowed = sorted(set(methods) | ({"HEAD"} if "GET" in methods else set()))
    authenticator = authenticate or _authenticate

    def decorator(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                via = authenticator(request)
                if request.method not in allowed:
                    raise MethodNotAllowed(
                        f"{request.method} is not allowed here.",
                        details={"allowed": allowed},
                        headers={"Allow": ", ".join(allowed)},
                    )
                _check_body(request, via)
                result = view(request, *args, **kwargs)
            except ApiError as error:
                return error_response(error)
            except InvalidToken:
                log.error(
                    "a stored secret cannot be decrypted (%s %s)", request.method, request.path
                )
                return error_response(
                    ServerError(
                        "A stored secret cannot be decrypted with KODA_ENCRYPTION_KEY: was the "
                        "key changed without KODA_ENCRYPTION_KEY_PREVIOUS and a rotation?",
                        code="secret_unreadable",
                    )
                )
            except DATABASE_ERRORS:
                log.exception("database unavailable in %s %s", request.method, request.path)
                return error_response(DatabaseUnavailable())
            except Exception:
                # Logged through the redacting filter; the answer names nothing internal.
                log.exception("unexpected error in %s %s", request.method, request.path)
                return error_response(ServerError("Koda failed to answer; the error was logged."))
            if isinstance(result, HttpResponse):
                return result
            status, body = result if isinstance(result, tuple) else (200, result)
            return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})

        wrapper.api_methods = allowed
        return wrapper

    return decorator
