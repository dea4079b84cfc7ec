"""The API's one error shape and its exception hierarchy: every error under /api/ is
`{"error": {"code", "message", "details"}}` with its status (design §7). Raised by views through
`koda.api` (which re-exports these), answered by `api_view` and by Django's error handlers
(`koda.errors`)."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        self.headers = headers or {}


class InvalidJson(ApiError):
    code = "invalid_json"


class InvalidInput(ApiError):
    code = "invalid_input"


class Unauthenticated(ApiError):
    status, code = 401, "authentication_required"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class Conflict(ApiError):
    status, code = 409, "conflict"


class LengthRequired(ApiError):
    status, code = 411, "length_required"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class Unprocessable(ApiError):
    status, code = 422, "unprocessable"


class ServerError(ApiError):
    status, code = 500, "internal_error"


# What a lost database raises (refused or dropped connection, SQLite's file locked or gone), and
# how soon to ask again.
DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER = "5"


class DatabaseUnavailable(ApiError):
    status, code = 503, "database_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Koda cannot reach its database; try again shortly.",
            headers={"Retry-After": DATABASE_RETRY_AFTER},
        )


def is_database_down(exc: BaseException | None) -> bool:
    """The database refused or dropped the connection (or SQLite's file is locked or gone)."""
    return isinstance(exc, DATABASE_ERRORS)


def error_response(error: ApiError) -> JsonResponse:
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    response = JsonResponse(body, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response
