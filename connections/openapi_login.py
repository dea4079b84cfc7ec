"""The OpenAPI paths of a sign-in (Claude login, ChatGPT sign-in): start, poll, paste the code."""

from __future__ import annotations

from connections.api_schemas import INTEGER, PROVIDER_ID, STRING, WHEN, nullable, ref
from koda.openapi import error_responses, json_request, json_response

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


def paths() -> dict:
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
