"""The OpenAPI paths of operator-defined OpenAI-compatible providers: add one, remove one."""

from __future__ import annotations

from connections.api_schemas import BOOLEAN, PROVIDER_ID, STRING, ref
from koda.openapi import error_responses, json_request, json_response, strict
from providers.values import Capability


def paths() -> dict:
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
