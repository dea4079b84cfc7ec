"""Reading providers' error bodies and JSON values, whatever their shape: the machine-readable
parts of an error envelope (`error_fields`), and numbers and short strings from values that
should be ones. Shared by verification, the gateway rules and the sign-in flows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorFields:
    """The machine-readable parts of an error body, whatever the vendor's envelope."""

    type: str = ""
    code: str = ""
    status: str = ""
    reasons: tuple[str, ...] = ()
    message: str = ""

    def has(self, *needles: str) -> bool:
        """True when any needle appears in the message (case-insensitive): a hint only."""
        text = self.message.lower()
        return any(n.lower() in text for n in needles)


def error_fields(body: Any) -> ErrorFields:
    """Read OpenAI/Anthropic (`error.type/code`), Google (`error.status`, `details[].reason`),
    ElevenLabs (`detail.status`), xAI (`code`, `error` text), DashScope (`code`) envelopes."""
    if not isinstance(body, dict):
        return ErrorFields()
    error, detail = body.get("error"), body.get("detail")
    if isinstance(error, dict):
        details = error.get("details")
        reasons = tuple(
            text(d.get("reason"))
            for d in (details if isinstance(details, list) else [])
            if isinstance(d, dict) and d.get("reason")
        )
        return ErrorFields(
            type=text(error.get("type")),
            code=text(error.get("code")),
            status=text(error.get("status")),
            reasons=reasons,
            message=text(error.get("message")),
        )
    if isinstance(detail, dict):
        return ErrorFields(
            status=text(detail.get("status")),
            code=text(detail.get("code")),
            type=text(detail.get("type")),
            message=text(detail.get("message")),
        )
    message = error if isinstance(error, str) else detail if isinstance(detail, str) else ""
    return ErrorFields(
        code=text(body.get("code")),
        type=text(body.get("type")),
        message=text(message or body.get("message")),
    )


def number(value: Any) -> float | None:
    """A finite number from a JSON value (a bool, a list or "NaN" is not one)."""
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def text(value: Any, limit: int = 4096) -> str:
    """A short string from a JSON value that should be one ("" for objects, lists, null)."""
    return "" if value is None or isinstance(value, (dict, list, bool)) else str(value)[:limit]
