"""The OpenAPI 3 document of the JSON API.

koda writes the frame (security, the error shape, the conventions every operation shares) and
each installed app contributes its own paths and schemas through its AppConfig's `openapi()`,
so koda imports no app. Tests check that every API route and method is documented, that the
document validates, and that every answer the API tests receive matches it.
"""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest

from koda.api import api_view

ERROR = {"$ref": "#/components/schemas/Error"}

# Statuses any operation can answer through the API conventions (koda.api): bad JSON or input,
# no auth, the CSRF rule, a method it does not take, a chunked or oversized body, a non-JSON
# body, an unexpected failure, the database out of reach.
_CONVENTIONS = (400, 401, 403, 405, 411, 413, 415, 500, 503)
_DESCRIPTIONS = {
    400: "Bad input",
    401: "Not authenticated",
    403: "Forbidden (CSRF rule, not an operator)",
    404: "Unknown provider or path",
    405: "Method not allowed",
    409: "Conflict: nothing configured, already exists, or confirmation required (see code)",
    411: "Chunked body the server cannot read",
    413: "Body over 64 KB",
    410: "Gone: the sign-in session expired",
    415: "Body is not JSON",
    422: "Verification failed",
    500: "Koda failed (the error is logged)",
    429: "Too many requests (Retry-After says when to try again)",
    502: "The provider refused or could not be reached",
    503: "Koda cannot reach its database (database_unavailable); Retry-After says when to retry",
}


def error_responses(*statuses: int) -> dict:
    """The error answers of one operation: the shared conventions plus `statuses`."""
    return {
        str(s): {
            "description": _DESCRIPTIONS[s],
            "content": {"application/json": {"schema": ERROR}},
        }
        for s in sorted({*_CONVENTIONS, *statuses})
    }


def json_response(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def json_request(properties: dict, required: list[str]) -> dict:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": False,
                }
            }
        },
    }


def strict(properties: dict, *, optional: tuple[str, ...] = ()) -> dict:
    """An object schema with exactly these properties, all present but `optional`."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def build() -> dict:
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "Koda control plane API",
            "version": "1.0.0",
            "description": "Connect, verify and monitor AI model providers.",
        },
        "servers": [{"url": "/api/control-plane"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "koda_operator_session"},
            },
            "schemas": {
                "Error": strict(
                    {
                        "error": strict(
                            {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {"type": "object"},
                            }
                        )
                    }
                ),
            },
        },
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": json_response({"type": "object"}), **error_responses()},
                }
            },
        },
    }
    for config in apps.get_app_configs():
        contribute = getattr(config, "openapi", None)
        if contribute is None:
            continue
        part = contribute()
        for section, target in (
            ("paths", doc["paths"]),
            ("schemas", doc["components"]["schemas"]),
            ("securitySchemes", doc["components"]["securitySchemes"]),
        ):
            for name, value in part.get(section, {}).items():
                if name in target:
                    raise ValueError(f"{config.label} documents {name} twice")
                target[name] = value
    return doc


@api_view(["GET"])
def openapi_view(request: HttpRequest):
    return build()
