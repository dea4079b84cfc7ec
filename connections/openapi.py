"""The connections app's part of the OpenAPI document (contributed through its AppConfig): its
paths, with request bodies built from the adapters' declarations (`declared_fields`); the
response schemas are in `api_schemas`."""

from __future__ import annotations

from connections.api_schemas import (
    INTEGER,
    PROVIDER_ID,
    STRING,
    WHEN,
    nullable,
    ref,
    schemas,
)
from connections.models import THRESHOLD_UNITS
from koda.openapi import error_responses, json_request, json_response, strict
from providers.fields import AuthMethod, CredentialField, FieldKind
from providers.registry import BUILTINS, declared_fields

CONFIRM = {
    "name": "confirm",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["true", "false"], "default": "false"},
    "description": "Go ahead although agents depend on the provider (see 409 "
    "confirmation_required).",
}
CONFIRM_NOTE = (
    "When agents' roles use this provider and the change would move them to another candidate "
    "or leave them without one, the answer is 409 `confirmation_required` with "
    '`details.affected`: [{"agent", "name", "role", "now", "then", "effect"}] (`now`, `then`: '
    '{"provider", "model"}; `then` is null when the role would be left without a model), and '
    "nothing changes; "
    "repeat with `?confirm=true` to go ahead (the audit event records who was affected)."
)


def _field_schema(spec: CredentialField) -> dict:
    schema = {
        "type": "string",
        "maxLength": spec.max_length,
        "description": spec.help or spec.label,
    }
    if spec.kind == FieldKind.URL:
        schema["format"] = "uri"
    return schema


def _credential_body(*methods: AuthMethod) -> dict:
    """The request body of a configure route: every field those methods declare; required
    where every provider's method requires it."""
    fields = declared_fields(*methods)
    required = [
        name
        for name in fields
        if all(
            (spec := m.field(name)) is not None and spec.required
            for p in BUILTINS.values()
            for m in p.methods
            if m.id in methods
        )
    ]
    return json_request({name: _field_schema(spec) for name, spec in fields.items()}, required)


def paths() -> dict:
    state = json_response(strict({"connection": ref("ConnectionState")}))
    with_verification = json_response(
        strict({"connection": ref("ConnectionState"), "verification": ref("Verification")})
    )
    configure_note = (
        "Verifies first and stores only what round-trips: a refused credential is never stored "
        "and leaves an existing one untouched (422 verification_failed, with "
        "details.verification and details.connection)."
    )
    return {
        "/connections/catalog": {
            "get": {
                "summary": "Every provider with its fields, capabilities and connection status",
                "operationId": "catalog",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "providers": {"type": "array", "items": ref("CatalogEntry")},
                                "integrations": {"type": "array", "items": {"type": "object"}},
                            }
                        )
                    ),
                    **error_responses(),
                },
            }
        },
        "/providers/{provider_id}/connection": {
            "parameters": [PROVIDER_ID],
            "get": {
                "summary": "A provider's connection state (never the secret)",
                "operationId": "connectionGet",
                "responses": {"200": state, **error_responses(404)},
            },
            "delete": {
                "summary": "Disconnect: remove the stored credential",
                "description": CONFIRM_NOTE,
                "operationId": "connectionDelete",
                "parameters": [CONFIRM],
                "responses": {"200": state, **error_responses(404, 409)},
            },
        },
        "/providers/{provider_id}/connection/disconnect": {
            "parameters": [PROVIDER_ID],
            "post": {
                "summary": "Alias of DELETE .../connection",
                "description": CONFIRM_NOTE,
                "operationId": "connectionDisconnect",
                "parameters": [CONFIRM],
                "responses": {"200": state, **error_responses(404, 409)},
            },
        },
        "/providers/{provider_id}/connection/api-key": {
            "parameters": [PROVIDER_ID],
            "put": {
                "summary": "Verify an API key and store it only if it round-trips",
                "description": configure_note + " Each provider takes the fields its catalog "
                "entry lists for api_key (organization and project are OpenAI's).",
                "operationId": "connectionPutApiKey",
                "requestBody": _credential_body(AuthMethod.API_KEY),
                "responses": {"200": with_verification, **error_responses(404, 422)},
            },
        },
        "/providers/{provider_id}/connection/local": {
            "parameters": [PROVIDER_ID],
            "put": {
                "summary": "Verify a local endpoint or runtime and store it only if it works",
                "description": configure_note + " With runtime_path the local runtime (a "
                "binary on the Koda host) is checked, otherwise the local endpoint (a running "
                "server; endpoint_url defaults to the provider's usual address).",
                "operationId": "connectionPutLocal",
                "requestBody": _credential_body(
                    AuthMethod.LOCAL_ENDPOINT, AuthMethod.LOCAL_RUNTIME
                ),
                "responses": {"200": with_verification, **error_responses(404, 422)},
            },
        },
        "/providers/{provider_id}/connection/verify": {
            "parameters": [PROVIDER_ID],
            "post": {
                "summary": "Re-verify the stored credential and record a snapshot",
                "operationId": "connectionVerify",
                "responses": {"200": with_verification, **error_responses(404, 409)},
            },
        },
        "/providers/{provider_id}/connection/default-model": {
            "parameters": [PROVIDER_ID],
            "put": {
                "summary": "Set the default model (one of the discovered models)",
                "description": CONFIRM_NOTE,
                "operationId": "connectionPutDefaultModel",
                "parameters": [CONFIRM],
                "requestBody": json_request({"model": {**STRING, "maxLength": 256}}, ["model"]),
                "responses": {"200": state, **error_responses(404, 409)},
            },
        },
        "/providers/{provider_id}/connection/credit-threshold": {
            "parameters": [PROVIDER_ID],
            "put": {
                "summary": "Set the low-credit threshold (below: null clears it)",
                "description": "Under it the connection shows low credit beside its status (it "
                "still works) and notification channels are told. `unit`: amount (in the unit "
                "the provider reports) or percent (of the allowance, where the provider states "
                "one).",
                "operationId": "connectionPutCreditThreshold",
                "requestBody": json_request(
                    {
                        "below": {"type": ["number", "null"], "minimum": 0},
                        "unit": {"type": "string", "enum": list(THRESHOLD_UNITS)},
                    },
                    ["below"],
                ),
                "responses": {"200": state, **error_responses(404, 409)},
            },
        },
        "/providers/{provider_id}/models": {
            "parameters": [PROVIDER_ID],
            "get": {
                "summary": "The models discovered by the last successful verification",
                "operationId": "connectionModels",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "provider_id": STRING,
                                "default_model": nullable("string"),
                                "models": {"type": "array", "items": ref("Model")},
                            }
                        )
                    ),
                    **error_responses(404, 409),
                },
            },
        },
        "/integrations/{integration_id}/health": {
            "parameters": [
                {
                    "name": "integration_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "examples": ["openai"]},
                },
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100_000},
                },
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
                    "200": json_response(
                        strict(
                            {
                                "provider_id": STRING,
                                "name": STRING,
                                "status": STRING,
                                "failing_since": WHEN,
                                "last_ok_at": WHEN,
                                "last_check": {"oneOf": [ref("LastCheck"), {"type": "null"}]},
                                "uptime": strict(
                                    {"24h": nullable("number"), "7d": nullable("number")}
                                ),
                                "snapshots": {"type": "array", "items": ref("Snapshot")},
                                "page": INTEGER,
                                "page_size": INTEGER,
                                "next_page": nullable("integer"),
                            }
                        )
                    ),
                    **error_responses(404),
                },
            },
        },
    }


def document() -> dict:
    from connections import openapi_catalogs, openapi_custom, openapi_login

    return {
        "paths": {
            **paths(),
            **openapi_login.paths(),
            **openapi_custom.paths(),
            **openapi_catalogs.paths(),
        },
        "schemas": {**schemas(), **openapi_catalogs.schemas()},
    }
