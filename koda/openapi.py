"""The OpenAPI 3 document of the JSON API. A test checks that every API route and method is in it
and that the document validates, so it cannot silently fall behind the code."""

from __future__ import annotations

from django.http import HttpRequest

from koda.api import api_view
from providers.base import Outcome

ERROR = {"$ref": "#/components/schemas/Error"}
PROVIDER_ID = {
    "name": "provider_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "A provider id from the catalog (or an alias).",
}


def _error_responses(*statuses: int) -> dict:
    text = {
        400: "Bad input",
        401: "Not authenticated",
        403: "Forbidden (CSRF rule, not an operator)",
        404: "Unknown provider",
        405: "Method not allowed",
        409: "Conflict",
        413: "Body over 64 KB",
        415: "Body is not JSON",
        422: "Verification failed",
    }
    return {
        str(s): {"description": text[s], "content": {"application/json": {"schema": ERROR}}}
        for s in (401, 403, *statuses)
    }


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


CONNECTION_STATE = {
    "type": "object",
    "properties": {
        "provider_id": {"type": "string"},
        "status": {"type": "string", "enum": ["not_configured", "verified", "degraded", "failing"]},
        "auth_method": {"type": ["string", "null"]},
        "secret_hint": {
            "type": ["string", "null"],
            "description": "Ends with the key's last 4 characters; never the key.",
        },
        **{
            name: {"type": ["string", "null"]}
            for name in (
                "base_url",
                "organization",
                "project",
                "endpoint_url",
                "runtime_path",
                "default_model",
                "verified_at",
                "failing_since",
            )
        },
        "ready": {
            "type": "boolean",
            "description": "Verified, with a default model where one is needed.",
        },
        "models": {"type": "array", "items": {"type": "string"}},
        "last_check": {"type": ["object", "null"]},
    },
}


OUTCOMES = [str(o) for o in Outcome]

VERIFICATION = {
    "type": "object",
    "required": [
        "ok",
        "outcome",
        "message",
        "remedy",
        "http_status",
        "raw_error",
        "probe",
        "latency_ms",
        "checked_at",
        "models",
    ],
    "properties": {
        "ok": {"type": "boolean"},
        "outcome": {"type": "string", "enum": OUTCOMES},
        "message": {"type": "string"},
        "remedy": {"type": "string"},
        "http_status": {"type": ["integer", "null"]},
        "raw_error": {
            "type": "string",
            "description": "The provider's body, secret redacted, at most 4 KB.",
        },
        "probe": {"type": "string", "examples": ["GET https://api.openai.com/v1/models"]},
        "latency_ms": {"type": "integer"},
        "checked_at": {"type": "string", "format": "date-time"},
        "models": {"type": "array", "items": {"type": "string"}},
        "notes": {
            "type": "array",
            "items": {"type": "string"},
            "description": "What was and was not checked.",
        },
    },
}


def _body(properties: dict, required: list[str]) -> dict:
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


def build() -> dict:
    connection_ref = {"$ref": "#/components/schemas/ConnectionState"}
    with_verification = _json(
        {
            "type": "object",
            "properties": {
                "connection": connection_ref,
                "verification": {"$ref": "#/components/schemas/Verification"},
            },
        }
    )
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
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "details"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        }
                    },
                },
                "ConnectionState": CONNECTION_STATE,
                "Verification": VERIFICATION,
            },
        },
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": _json({"type": "object"}), **_error_responses()},
                }
            },
            "/connections/catalog": {
                "get": {
                    "summary": "Every provider with its fields, capabilities and connection status",
                    "operationId": "catalog",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "providers": {"type": "array", "items": {"type": "object"}},
                                    "integrations": {"type": "array", "items": {"type": "object"}},
                                },
                            }
                        ),
                        **_error_responses(),
                    },
                }
            },
            "/providers/{provider_id}/connection": {
                "parameters": [PROVIDER_ID],
                "get": {
                    "summary": "A provider's connection state (never the secret)",
                    "operationId": "connectionGet",
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"connection": connection_ref}}
                        ),
                        **_error_responses(404),
                    },
                },
                "delete": {
                    "summary": "Disconnect: remove the stored credential",
                    "operationId": "connectionDelete",
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"connection": connection_ref}}
                        ),
                        **_error_responses(404, 409),
                    },
                },
            },
            "/providers/{provider_id}/connection/disconnect": {
                "parameters": [PROVIDER_ID],
                "post": {
                    "summary": "Alias of DELETE .../connection",
                    "operationId": "connectionDisconnect",
                    "responses": {
                        "200": _json({"type": "object"}),
                        **_error_responses(404, 409, 415),
                    },
                },
            },
        },
    }
    doc["paths"].update(
        {
            "/integrations/{integration_id}/health": {
                "parameters": [
                    {
                        "name": "integration_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "page_size",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    },
                ],
                "get": {
                    "summary": "Status, failing-since, last ok, uptime and recent snapshots",
                    "operationId": "integrationHealth",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "provider_id": {"type": "string"},
                                    "status": {"type": "string"},
                                    "failing_since": {"type": ["string", "null"]},
                                    "last_ok_at": {"type": ["string", "null"]},
                                    "uptime": {
                                        "type": "object",
                                        "properties": {
                                            "24h": {"type": ["number", "null"]},
                                            "7d": {"type": ["number", "null"]},
                                        },
                                    },
                                    "snapshots": {"type": "array", "items": {"type": "object"}},
                                    "page": {"type": "integer"},
                                    "page_size": {"type": "integer"},
                                    "next_page": {"type": ["integer", "null"]},
                                },
                            }
                        ),
                        **_error_responses(400, 404),
                    },
                },
            },
            "/providers/{provider_id}/connection/api-key": {
                "parameters": [PROVIDER_ID],
                "put": {
                    "summary": "Verify an API key and store it only if it round-trips",
                    "description": "A refused key is never stored and leaves an existing "
                    "credential untouched (422 verification_failed, with "
                    "details.verification). organization/project exist for OpenAI only.",
                    "operationId": "connectionPutApiKey",
                    "requestBody": _body(
                        {
                            "api_key": {"type": "string", "maxLength": 1024},
                            "base_url": {"type": "string", "format": "uri"},
                            "organization": {"type": "string"},
                            "project": {"type": "string"},
                        },
                        ["api_key"],
                    ),
                    "responses": {
                        "200": with_verification,
                        **_error_responses(400, 404, 413, 415, 422),
                    },
                },
            },
            "/providers/{provider_id}/connection/verify": {
                "parameters": [PROVIDER_ID],
                "post": {
                    "summary": "Re-verify the stored credential and record a snapshot",
                    "operationId": "connectionVerify",
                    "responses": {"200": with_verification, **_error_responses(404, 409, 415)},
                },
            },
            "/providers/{provider_id}/connection/default-model": {
                "parameters": [PROVIDER_ID],
                "put": {
                    "summary": "Set the default model (one of the discovered models)",
                    "operationId": "connectionPutDefaultModel",
                    "requestBody": _body({"model": {"type": "string"}}, ["model"]),
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"connection": connection_ref}}
                        ),
                        **_error_responses(400, 404, 409, 415),
                    },
                },
            },
            "/providers/{provider_id}/models": {
                "parameters": [PROVIDER_ID],
                "get": {
                    "summary": "The models discovered by the last successful verification",
                    "operationId": "connectionModels",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "provider_id": {"type": "string"},
                                    "default_model": {"type": ["string", "null"]},
                                    "models": {"type": "array", "items": {"type": "object"}},
                                },
                            }
                        ),
                        **_error_responses(404, 409),
                    },
                },
            },
        }
    )
    return doc


@api_view(["GET"])
def openapi_view(request: HttpRequest):
    return build()
