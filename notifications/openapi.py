"""The notifications app's part of the OpenAPI document: channels, their delivery log, tests."""

from __future__ import annotations

from connections.api_schemas import BOOLEAN, INTEGER, STRING, STRINGS, WHEN, nullable, ref
from koda.openapi import error_responses, json_request, json_response, strict
from notifications.models import EventKind, Kind

CHANNEL_ID = {
    "name": "channel_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "examples": [1]},
}
EVENTS = {
    "type": "array",
    "items": {"type": "string", "enum": list(EventKind.values)},
    "minItems": 1,
    "description": "The events this channel is sent (all of them when left out at creation).",
}
FIELDS = {
    "kind": {"type": "string", "enum": list(Kind.values)},
    "name": {**STRING, "minLength": 1, "maxLength": 120},
    "url": {
        **STRING,
        "maxLength": 2000,
        "description": "webhook and slack: where to POST (stored encrypted, shown as a hint).",
    },
    "to": {
        "type": "array",
        "items": {**STRING, "format": "email"},
        "minItems": 1,
        "maxItems": 10,
        "description": "email: the addresses.",
    },
    "events": EVENTS,
}
SECRET = {
    **STRING,
    "description": "A webhook's signing secret: X-Koda-Signature is sha256=<hex HMAC-SHA256 of the "
    "raw body under it>. Shown in this answer only.",
}


def schemas() -> dict:
    delivery = strict(
        {
            "at": STRING,
            "event": STRING,
            "event_id": nullable("integer"),
            "attempt": INTEGER,
            "ok": BOOLEAN,
            "status_code": nullable("integer"),
            "error": STRING,
            "retry_at": WHEN,
        }
    )
    channel = {
        "id": INTEGER,
        "kind": {"type": "string", "enum": list(Kind.values)},
        "name": STRING,
        "url_hint": nullable("string"),
        "to": STRINGS,
        "events": STRINGS,
        "status": {"type": "string", "enum": ["ok", "failing"]},
        "failing_since": WHEN,
        "last_error": STRING,
        "last_delivered_at": WHEN,
        "created_at": STRING,
        "deliveries": {"type": "array", "items": ref("Delivery")},
    }
    return {
        "Delivery": delivery,
        "NotificationChannel": strict(channel, optional=("deliveries",)),
    }


def paths() -> dict:
    one = strict({"channel": ref("NotificationChannel"), "secret": SECRET}, optional=("secret",))
    return {
        "/notification-channels": {
            "get": {
                "summary": "Every notification channel, with its delivery health",
                "operationId": "notificationChannels",
                "responses": {
                    "200": json_response(
                        strict({"channels": {"type": "array", "items": ref("NotificationChannel")}})
                    ),
                    **error_responses(),
                },
            },
            "post": {
                "summary": "Add a channel (a webhook's signing secret is in this answer only)",
                "operationId": "notificationChannelCreate",
                "requestBody": json_request(FIELDS, ["kind", "name"]),
                "responses": {
                    "201": json_response(one, "Created"),
                    **error_responses(),
                },
            },
        },
        "/notification-channels/{channel_id}": {
            "parameters": [CHANNEL_ID],
            "get": {
                "summary": "A channel and its latest deliveries (the delivery log)",
                "operationId": "notificationChannel",
                "responses": {"200": json_response(one), **error_responses(404)},
            },
            "put": {
                "summary": "Change a channel's name, destination or events (not its kind); "
                "rotate_secret gives a webhook a new signing secret, in this answer only",
                "operationId": "notificationChannelPut",
                "requestBody": json_request(
                    {**FIELDS, "rotate_secret": BOOLEAN},
                    [],
                ),
                "responses": {"200": json_response(one), **error_responses(404)},
            },
            "delete": {
                "summary": "Remove a channel and its delivery log",
                "operationId": "notificationChannelDelete",
                "responses": {"204": {"description": "Removed"}, **error_responses(404)},
            },
        },
        "/notification-channels/{channel_id}/test": {
            "parameters": [CHANNEL_ID],
            "post": {
                "summary": "Send a test notification now (one attempt, logged and audited)",
                "operationId": "notificationChannelTest",
                "responses": {
                    "200": json_response(
                        strict({"delivery": ref("Delivery"), "channel": ref("NotificationChannel")})
                    ),
                    **error_responses(404),
                },
            },
        },
    }


def document() -> dict:
    return {"paths": paths(), "schemas": schemas()}
