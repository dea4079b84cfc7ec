"""The connections app's part of the OpenAPI document (contributed through its AppConfig): its
paths, with request bodies built from the adapters' declarations (`declared_fields`); the
response schemas are in `api_schemas`."""

from __future__ import annotations

from connections.api_schemas import (
    BOOLEAN,
    INTEGER,
    STRING,
    WHEN,
    nullable,
    ref,
    schemas,
)
from connections.models import THRESHOLD_UNITS
from koda.openapi import error_responses, json_request, json_response, strict
from providers.fields import AuthMethod, CredentialField, FieldKind
from providers.registry import ALIASES, BUILTINS, declared_fields
from providers.values import Capability

PROVIDER_ID = {
    "name": "provider_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "examples": [*BUILTINS, *ALIASES][:6]},
    "description": "A provider id from the catalog (or an alias: "
    + ", ".join(f"{a} → {t}" for a, t in ALIASES.items())
    + ").",
}

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
        **_login_paths(),
        **_custom_paths(),
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


SESSION_ID = {
    "name": "session_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
    "description": "The session_id that login/start answered.",
}
LOGIN_NOTE = (
    "Sign-in providers: anthropic (Claude login, flow `paste`: open authorize_url, approve, "
    "POST the `code#state` the page shows to .../code) and openai (ChatGPT sign-in, flow "
    "`device`: enter user_code at verification_url, then GET the session until its status is "
    "completed; polling faster than `interval` asks nothing of the provider). A session lasts "
    "15 minutes; starting another replaces it. Tokens are verified with the provider before "
    "anything is stored; errors are `login_<reason>` (state_mismatch, already_used, expired, "
    "denied, invalid_code, invalid_input, provider_error, unreachable, unknown_session) or "
    "422 verification_failed (nothing stored). No token, verifier or code is ever answered."
)


def login_session_schema() -> dict:
    return {
        "type": "object",
        "properties": {
            "session_id": {"type": "string", "format": "uuid"},
            "provider_id": STRING,
            "flow": {"type": "string", "enum": ["paste", "device"]},
            "status": {
                "type": "string",
                "enum": [
                    "pending",
                    "exchanging",
                    "completed",
                    "failed",
                    "denied",
                    "expired",
                    "cancelled",
                ],
            },
            "expires_at": {"type": "string", "format": "date-time"},
            "reason": nullable("string"),
            "message": nullable("string"),
            "authorize_url": nullable("string", format="uri"),
            "user_code": nullable("string"),
            "verification_url": {"type": "string", "format": "uri"},
            "interval": INTEGER,
            "next_poll_at": WHEN,
            "connection": ref("ConnectionState"),
            "verification": ref("Verification"),
        },
        "required": ["session_id", "provider_id", "flow", "status", "expires_at"],
        "additionalProperties": False,
    }


def _login_paths() -> dict:
    session = json_response(login_session_schema())
    return {
        "/providers/{provider_id}/connection/login/start": {
            "parameters": [PROVIDER_ID],
            "post": {
                "summary": "Start a sign-in (Claude login, ChatGPT sign-in)",
                "description": LOGIN_NOTE,
                "operationId": "loginStart",
                "responses": {
                    "201": json_response(login_session_schema(), "Started"),
                    **error_responses(404, 502),
                },
            },
        },
        "/providers/{provider_id}/connection/login/{session_id}": {
            "parameters": [PROVIDER_ID, SESSION_ID],
            "get": {
                "summary": "A sign-in's state; polls the provider for a device sign-in",
                "description": LOGIN_NOTE,
                "operationId": "loginGet",
                "responses": {"200": session, **error_responses(404, 422)},
            },
        },
        "/providers/{provider_id}/connection/login/{session_id}/code": {
            "parameters": [PROVIDER_ID, SESSION_ID],
            "post": {
                "summary": "Exchange the pasted code#state of a paste-back sign-in",
                "description": LOGIN_NOTE,
                "operationId": "loginCode",
                "requestBody": json_request(
                    {
                        "code": {
                            **STRING,
                            "minLength": 1,
                            "maxLength": 4096,
                            "description": "`code#state` as the provider's page shows it, "
                            "or the whole callback URL.",
                        }
                    },
                    ["code"],
                ),
                "responses": {"200": session, **error_responses(404, 409, 410, 422, 502)},
            },
        },
    }


def _custom_paths() -> dict:
    from providers.custom import MAX_HEADERS, PRESETS

    note = (
        "An operator-defined OpenAI-compatible provider: a provider like the built-in ones "
        "(page, wizard, connection, verification by GET {base}/models, health, models, "
        "defaults, agents' policies). Presets fill base_url, requires_key and capabilities: "
        + "; ".join(
            f"{p.id} ({p.label}{', ' + p.base_url if p.base_url else ''})" for p in PRESETS.values()
        )
        + ". vllm, lmstudio and litellm are local servers (configured with PUT .../connection/"
        "local, private addresses allowed); the others with PUT .../connection/api-key."
    )
    return {
        "/providers": {
            "post": {
                "summary": "Add an OpenAI-compatible provider",
                "description": note,
                "operationId": "providerCreate",
                "requestBody": json_request(
                    {
                        "id": {
                            **STRING,
                            "pattern": "^[a-z][a-z0-9-]{1,31}$",
                            "description": "Never a built-in id or alias.",
                        },
                        "name": {**STRING, "minLength": 1, "maxLength": 80},
                        "base_url": {**STRING, "format": "uri", "maxLength": 2048},
                        "preset": {"type": "string", "enum": list(PRESETS), "default": "generic"},
                        "requires_key": BOOLEAN,
                        "headers": {
                            "type": "object",
                            "additionalProperties": {"type": "string", "maxLength": 1024},
                            "maxProperties": MAX_HEADERS,
                            "description": "Extra request headers, never secret (no "
                            "Authorization, Cookie or key headers).",
                        },
                        "capabilities": {
                            "type": "array",
                            "items": {"type": "string", "enum": [str(c) for c in Capability]},
                        },
                    },
                    ["id", "name"],
                ),
                "responses": {
                    "201": json_response(ref("CatalogEntry"), "Added"),
                    **error_responses(),
                },
            }
        },
        "/providers/{provider_id}": {
            "parameters": [PROVIDER_ID],
            "delete": {
                "summary": "Remove an operator-defined provider",
                "description": "Refused (409 provider_in_use, with details.connected and "
                'details.agents: [{"agent", "name", "where"}]) while it is connected or an '
                "agent's policy names it; 409 builtin_provider for a built-in one.",
                "operationId": "providerDelete",
                "responses": {
                    "200": json_response(strict({"provider_id": STRING, "deleted": BOOLEAN})),
                    **error_responses(404, 409),
                },
            },
        },
    }


def document() -> dict:
    from connections import openapi_catalogs

    return {
        "paths": {**paths(), **openapi_catalogs.paths()},
        "schemas": {**schemas(), **openapi_catalogs.schemas()},
    }
