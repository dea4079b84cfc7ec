"""The connections app's part of the OpenAPI document (contributed through its AppConfig).

Credential fields come from the adapters' declarations (`declared_fields`), the model shape
from `providers.base.Model`, outcome and trigger values from their enums: nothing here is a
second list of what the code already says.
"""

from __future__ import annotations

import dataclasses
import types
import typing

from connections.models import Status
from connections.selectors import PUBLIC_FIELDS
from koda.context import Via
from koda.openapi import error_responses, json_request, json_response, strict
from providers.base import Model, Outcome
from providers.fields import AuthMethod, CredentialField, FieldKind
from providers.registry import ALIASES, PROVIDERS, declared_fields


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(type_: str, **extra) -> dict:
    return {"type": [type_, "null"], **extra}


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
STRINGS = {"type": "array", "items": STRING}
WHEN = nullable("string", format="date-time")

PROVIDER_ID = {
    "name": "provider_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "examples": [*PROVIDERS, *ALIASES][:6]},
    "description": "A provider id from the catalog (or an alias: "
    + ", ".join(f"{a} → {t}" for a, t in ALIASES.items())
    + ").",
}


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
            for p in PROVIDERS.values()
            for m in p.methods
            if m.id in methods
        )
    ]
    return json_request({name: _field_schema(spec) for name, spec in fields.items()}, required)


def _model_schema() -> dict:
    """`Model.as_dict()`: `id` always, the other fields when the provider filled them in."""
    json_types = {str: "string", int: "integer"}
    properties = {}
    for f in dataclasses.fields(Model):
        hint = typing.get_type_hints(Model)[f.name]
        if typing.get_origin(hint) is tuple:
            properties[f.name] = STRINGS
        else:
            args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
            properties[f.name] = {"type": json_types[next(a for a in args if a is not type(None))]}
    return {
        "type": "object",
        "properties": properties,
        "required": ["id"],
        "additionalProperties": False,
    }


def schemas() -> dict:
    last_check = strict(
        {
            "outcome": STRING,
            "message": STRING,
            "remedy": STRING,
            "checked_at": WHEN,
            "latency_ms": nullable("integer"),
        }
    )
    field_spec = strict(
        {
            "name": STRING,
            "label": STRING,
            "kind": {"type": "string", "enum": [str(k) for k in FieldKind]},
            "secret": BOOLEAN,
            "required": BOOLEAN,
            "help": STRING,
            "max_length": INTEGER,
            "default": nullable("string"),
        }
    )
    return {
        "ConnectionState": strict(
            {
                "provider_id": STRING,
                "status": {"type": "string", "enum": [s.value for s in Status]},
                "ready": {
                    "type": "boolean",
                    "description": "Verified, with a default model where one is needed.",
                },
                "auth_method": {"type": ["string", "null"], "enum": [*map(str, AuthMethod), None]},
                "secret_hint": nullable(
                    "string", description="Ends with the key's last 4 characters; never the key."
                ),
                **{name: nullable("string") for name in PUBLIC_FIELDS},
                "default_model": nullable("string"),
                "models": STRINGS,
                "details": {
                    "type": "object",
                    "additionalProperties": STRING,
                    "description": "Facts from the last check (a runtime's version).",
                },
                "verified_at": WHEN,
                "failing_since": WHEN,
                "last_check": {"oneOf": [ref("LastCheck"), {"type": "null"}]},
            }
        ),
        "LastCheck": last_check,
        "Verification": strict(
            {
                "ok": BOOLEAN,
                "outcome": {"type": "string", "enum": [str(o) for o in Outcome]},
                "message": STRING,
                "remedy": STRING,
                "http_status": nullable("integer"),
                "raw_error": {
                    "type": "string",
                    "description": "The provider's body, secret redacted, at most 4 KB.",
                },
                "probe": {"type": "string", "examples": ["GET https://api.openai.com/v1/models"]},
                "latency_ms": INTEGER,
                "checked_at": {"type": "string", "format": "date-time"},
                "models": STRINGS,
                "notes": {**STRINGS, "description": "What was and was not checked."},
                "details": {"type": "object", "additionalProperties": STRING},
            }
        ),
        "Model": _model_schema(),
        "CatalogEntry": strict(
            {
                "id": STRING,
                "name": STRING,
                "kind": {"type": "string", "enum": ["cloud", "local"]},
                "docs_url": STRING,
                "keys_url": STRING,
                "default_base_url": STRING,
                "auth_methods": {
                    "type": "array",
                    "items": strict(
                        {
                            "id": {"type": "string", "enum": [str(m) for m in AuthMethod]},
                            "label": STRING,
                            "help": STRING,
                            "fields": {"type": "array", "items": field_spec},
                        }
                    ),
                },
                "capabilities": STRINGS,
                "good_for": STRING,
                "needs_default_model": BOOLEAN,
                "connection": ref("ConnectionState"),
            }
        ),
        "Snapshot": strict(
            {
                "id": INTEGER,
                "checked_at": {"type": "string", "format": "date-time"},
                "ok": BOOLEAN,
                "outcome": STRING,
                "http_status": nullable("integer"),
                "latency_ms": INTEGER,
                "message": STRING,
                "remedy": STRING,
                "raw_error": STRING,
                "probe": STRING,
                "trigger": {"type": "string", "enum": [v.value for v in Via]},
                "actor": nullable("string"),
                "candidate": BOOLEAN,
            }
        ),
    }


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
                "operationId": "connectionDelete",
                "responses": {"200": state, **error_responses(404, 409)},
            },
        },
        "/providers/{provider_id}/connection/disconnect": {
            "parameters": [PROVIDER_ID],
            "post": {
                "summary": "Alias of DELETE .../connection",
                "operationId": "connectionDisconnect",
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
                "operationId": "connectionPutDefaultModel",
                "requestBody": json_request({"model": {**STRING, "maxLength": 256}}, ["model"]),
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
    return {"paths": paths(), "schemas": schemas()}
