"""The connections API's response schemas, for its part of the OpenAPI document: derived from
the declarations and enums (public credential fields, `Model`, outcomes, triggers), never a list
of their own."""

from __future__ import annotations

import dataclasses
import types
import typing

from connections.models import THRESHOLD_UNITS, Status
from connections.selectors import PUBLIC_FIELDS
from koda.context import Via
from koda.openapi import strict
from providers.fields import AuthMethod, FieldKind
from providers.registry import ALIASES, BUILTINS
from providers.values import Model, Outcome

# The path parameter of every per-provider operation.
PROVIDER_ID = {
    "name": "provider_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "examples": [*BUILTINS, *ALIASES][:6]},
    "description": "A provider id from the catalog (or an alias: "
    + ", ".join(f"{a} → {t}" for a, t in ALIASES.items())
    + ").",
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(type_: str, **extra) -> dict:
    return {"type": [type_, "null"], **extra}


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
STRINGS = {"type": "array", "items": STRING}
NUMBER = {"type": "number"}
WHEN = nullable("string", format="date-time")


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
    credit = strict(
        {
            "amount": nullable("number"),
            "unit": {**STRING, "description": "USD, CNY, characters, or credit (no currency)."},
            "share_left": nullable(
                "number", minimum=0, maximum=1, description="Of the allowance, when stated."
            ),
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
                "credential_stored_at": {
                    **WHEN,
                    "description": "When the operator stored this credential (a key set or "
                    "replaced, a sign-in); a token refresh does not move it.",
                },
                "rotation_due": {
                    **BOOLEAN,
                    "description": "The stored credential is older than KODA_KEY_ROTATION_DAYS.",
                },
                "credit": {"oneOf": [ref("CreditState"), {"type": "null"}]},
                "last_check": {"oneOf": [ref("LastCheck"), {"type": "null"}]},
            }
        ),
        "Credit": credit,
        "CreditState": strict(
            {
                **credit["properties"],
                "checked_at": WHEN,
                "low": {
                    **BOOLEAN,
                    "description": "Under the threshold: shown beside the status (the "
                    "connection still works) and told to notification channels.",
                },
                "threshold": {
                    "oneOf": [
                        strict(
                            {
                                "below": NUMBER,
                                "unit": {"type": "string", "enum": list(THRESHOLD_UNITS)},
                            }
                        ),
                        {"type": "null"},
                    ]
                },
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
                "credit": {"oneOf": [ref("Credit"), {"type": "null"}]},
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
                "custom": BOOLEAN,
                "preset": nullable("string"),
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
