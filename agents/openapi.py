"""The agents app's part of the OpenAPI document: agents, model policies, versions, resolution,
global defaults, and the runtime contract (agent runtime tokens only)."""

from __future__ import annotations

from agents import resolution
from agents.policy import FUNCTIONS
from connections.api_schemas import BOOLEAN, INTEGER, STRING, STRINGS, nullable, ref
from koda.openapi import error_responses, json_request, json_response, strict
from providers.values import Outcome

AGENT_ID = {
    "name": "agent_id",
    "in": "path",
    "required": True,
    "description": "The agent's slug.",
    "schema": {"type": "string", "examples": ["support-bot"]},
}
ROLE = {
    "name": "role",
    "in": "query",
    "required": True,
    "description": "A role (triage, draft, final, …) or a function (chat, embedding, tts, stt).",
    "schema": {"type": "string", "maxLength": 40, "examples": ["triage"]},
}
RUNTIME = [{"agentToken": []}]
REASONS = [
    resolution.NOT_ALLOWED,
    resolution.NOT_CONNECTED,
    resolution.FAILING,
    resolution.MODEL_NOT_DISCOVERED,
    resolution.NO_MODEL,
    resolution.SIMULATED_DOWN,
    resolution.DUPLICATE,
]


def schemas() -> dict:
    pick = strict({"provider": STRING, "model": STRING})
    candidate = strict(
        {
            "provider": STRING,
            "model": STRING,
            "source": {"type": "string", "enum": ["override", "fallback", "default"]},
        }
    )
    skipped = strict(
        {
            "provider": STRING,
            "model": nullable("string"),
            "reason": {"type": "string", "enum": REASONS},
        }
    )
    policy_fields = {
        "roles": {"type": "object", "additionalProperties": pick},
        "allowed_providers": STRINGS,
        "fallback_order": STRINGS,
    }
    resolution_fields = {
        "role": STRING,
        "function": {"type": "string", "enum": list(FUNCTIONS)},
        "resolved": {"oneOf": [candidate, {"type": "null"}]},
        "skipped": {"type": "array", "items": skipped},
        "message": STRING,
    }
    return {
        "Agent": strict(
            {"id": STRING, "name": STRING, "version": nullable("integer"), "created_at": STRING}
        ),
        "ModelPolicy": strict(
            {**policy_fields, "agent": STRING, "version": INTEGER, "warnings": STRINGS}
        ),
        "Resolution": strict(
            {**resolution_fields, "candidates": {"type": "array", "items": candidate}},
            optional=("message",),
        ),
        "RuntimeResolution": strict(
            {
                **resolution_fields,
                "candidates": {
                    "type": "array",
                    "items": strict(
                        {
                            "provider": STRING,
                            "model": STRING,
                            "source": STRING,
                            "protocol": {
                                "type": "string",
                                "description": "openai (OpenAI-compatible), anthropic, google, "
                                "elevenlabs, ollama, chatgpt (ChatGPT sign-in: the Responses "
                                "API at base_url), or a local runtime's name.",
                            },
                            "base_url": STRING,
                            "headers": {"type": "object", "additionalProperties": STRING},
                            "paths": {"type": "object", "additionalProperties": STRING},
                            "credential": {
                                "type": "object",
                                "additionalProperties": STRING,
                                "description": (
                                    'The secret parts ({"api_key": …}); of a sign-in only '
                                    '{"access_token": …}, sent as Authorization: Bearer (the '
                                    "refresh token stays in Koda, which keeps the access token "
                                    "fresh); empty for keyless servers."
                                ),
                            },
                        }
                    ),
                },
            },
            optional=("message",),
        ),
        "PolicyVersion": strict(
            {
                "number": INTEGER,
                "policy": strict(policy_fields),
                "changes": {
                    "type": "array",
                    "items": strict({"field": STRING, "before": {}, "after": {}}),
                },
                "restored_from": nullable("integer"),
                "actor": STRING,
                "created_at": STRING,
            }
        ),
    }


def paths() -> dict:
    policy = json_response(ref("ModelPolicy"))
    return {
        "/agents": {
            "get": {
                "summary": "Every agent",
                "operationId": "agents",
                "responses": {
                    "200": json_response(
                        strict({"agents": {"type": "array", "items": ref("Agent")}})
                    ),
                    **error_responses(),
                },
            },
            "post": {
                "summary": "Create an agent (its policy starts empty: roles use the defaults)",
                "operationId": "agentCreate",
                "requestBody": json_request(
                    {
                        "id": {**STRING, "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"},
                        "name": {**STRING, "maxLength": 120},
                    },
                    ["id", "name"],
                ),
                "responses": {
                    "201": json_response(strict({"agent": ref("Agent")}), "Created"),
                    **error_responses(409),
                },
            },
        },
        "/agents/{agent_id}/model-policy": {
            "parameters": [AGENT_ID],
            "get": {
                "summary": "The agent's current model policy",
                "operationId": "agentPolicy",
                "responses": {"200": policy, **error_responses(404)},
            },
            "put": {
                "summary": "Replace the model policy (a new version; field-level errors)",
                "operationId": "agentPolicyPut",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "roles": {"type": "object"},
                                    "allowed_providers": STRINGS,
                                    "fallback_order": STRINGS,
                                },
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {"200": policy, **error_responses(404)},
            },
        },
        "/agents/{agent_id}/model-policy/resolve": {
            "parameters": [
                AGENT_ID,
                ROLE,
                {
                    "name": "without",
                    "in": "query",
                    "description": "Providers to treat as down (comma-separated): a simulation.",
                    "schema": {"type": "string", "examples": ["groq"]},
                },
            ],
            "get": {
                "summary": "Which model the role uses now: candidates in order, and every one "
                "left out with its reason",
                "operationId": "agentResolve",
                "responses": {"200": json_response(ref("Resolution")), **error_responses(404)},
            },
        },
        "/agents/{agent_id}/model-policy/versions": {
            "parameters": [AGENT_ID],
            "get": {
                "summary": "Every version of the policy, newest first, with what changed",
                "operationId": "agentVersions",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "agent": STRING,
                                "versions": {"type": "array", "items": ref("PolicyVersion")},
                            }
                        )
                    ),
                    **error_responses(404),
                },
            },
        },
        "/agents/{agent_id}/model-policy/versions/{number}/restore": {
            "parameters": [
                AGENT_ID,
                {
                    "name": "number",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            "post": {
                "summary": "Make an old version current again (itself a new version)",
                "operationId": "agentVersionRestore",
                "responses": {"200": policy, **error_responses(404)},
            },
        },
        "/agents/{agent_id}/runtime/resolve": {
            "parameters": [AGENT_ID, ROLE],
            "get": {
                "summary": "For the agent's runtime: the candidates with what is needed to call "
                "each, credentials included",
                "description": "The one exit for a secret: answers only this agent's runtime token "
                "(operator sessions and API tokens get 403), only for providers the agent may use; "
                "every issuance is audited with the keys' hints; Cache-Control: no-store.",
                "operationId": "agentRuntimeResolve",
                "security": RUNTIME,
                "responses": {
                    "200": json_response(ref("RuntimeResolution")),
                    **error_responses(404),
                },
            },
        },
        "/agents/{agent_id}/runtime/report": {
            "parameters": [AGENT_ID],
            "post": {
                "summary": "For the agent's runtime: report a failed call (a health snapshot "
                "with trigger runtime)",
                "operationId": "agentRuntimeReport",
                "security": RUNTIME,
                "requestBody": json_request(
                    {
                        "provider": STRING,
                        "model": STRING,
                        "outcome": {
                            "type": "string",
                            "enum": [o.value for o in Outcome if o != Outcome.OK],
                        },
                        "http_status": {"type": "integer", "minimum": 100, "maximum": 599},
                        "raw_error": STRING,
                    },
                    ["provider", "model", "outcome"],
                ),
                "responses": {
                    "202": json_response(
                        strict(
                            {
                                "recorded": BOOLEAN,
                                "connection_status": STRING,
                                "next_check_at": nullable("string"),
                            }
                        ),
                        "Recorded",
                    ),
                    **error_responses(404, 429),
                },
            },
        },
        "/defaults": {
            "get": {
                "summary": "The global default model per function (chat, embedding, tts, stt)",
                "operationId": "defaults",
                "responses": {
                    "200": json_response(
                        strict(
                            {
                                "defaults": strict(
                                    {
                                        f: {
                                            "oneOf": [
                                                strict({"provider": STRING, "model": STRING}),
                                                {"type": "null"},
                                            ]
                                        }
                                        for f in FUNCTIONS
                                    }
                                )
                            }
                        )
                    ),
                    **error_responses(),
                },
            }
        },
        "/defaults/{function}": {
            "parameters": [
                {
                    "name": "function",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": list(FUNCTIONS)},
                }
            ],
            "put": {
                "summary": "Set a function's default: one of a verified connection's models",
                "operationId": "defaultSet",
                "requestBody": json_request(
                    {"provider": STRING, "model": STRING}, ["provider", "model"]
                ),
                "responses": {
                    "200": json_response(
                        strict({"function": STRING, "provider": STRING, "model": STRING})
                    ),
                    **error_responses(),
                },
            },
        },
    }


def document() -> dict:
    return {
        "paths": paths(),
        "schemas": schemas(),
        "securitySchemes": {
            "agentToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "An agent runtime token (kagent_…), made on the agent's page or "
                "with manage.py create_agent_token.",
            }
        },
    }
