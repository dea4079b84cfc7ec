"""A JSON request body as the API reads it: one object, known fields of the right types, and
text that a database column can keep. Re-exported by `koda.api`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from koda.api_errors import InvalidInput, InvalidJson


def parse_json(
    request: HttpRequest,
    *,
    allowed: dict[str, type | tuple[type, ...]],
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """Parse the body as one JSON object whose fields are known and of the right type."""
    if not request.body:
        data: Any = {}
    else:
        try:
            data = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidJson(f"The body is not valid JSON: {exc}.") from None
        except RecursionError:
            raise InvalidJson("The body is nested too deeply to read.") from None
        except ValueError as exc:  # e.g. an integer of thousands of digits
            raise InvalidJson(f"The body has a value Koda cannot read: {exc}."[:300]) from None
    if not isinstance(data, dict):
        raise InvalidJson("The body must be a JSON object.", code="invalid_body")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"Unknown field(s): {', '.join(unknown)}.",
            code="unknown_fields",
            details={"unknown": unknown, "allowed": sorted(allowed)},
        )
    errors: dict[str, list[str]] = {}
    for name in required:
        if data.get(name) in (None, ""):
            errors.setdefault(name, []).append("This field is required.")
    for name, value in data.items():
        problem = _unstorable_text(value)
        if problem:
            errors.setdefault(name, []).append(problem)
            continue
        expected = allowed[name]
        if value is not None and (
            not isinstance(value, expected)
            or (isinstance(value, bool) and bool not in _as_tuple(expected))
        ):
            errors.setdefault(name, []).append(f"Expected {_type_name(expected)}.")
    if errors:
        raise InvalidInput("Some fields are invalid.", details={"fields": errors})
    return data


def _unstorable_text(value: Any) -> str | None:
    """Why a JSON value holds text no database column can keep, or None: the NUL character
    (PostgreSQL text refuses it) or a lone UTF-16 surrogate
    (`"\\ud800"` is valid JSON but no valid UTF-8). Checked for every field, nested values and
    keys included, so no endpoint meets it later as a 500."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "Text must not contain the NUL character (\\u0000)."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "Text must be valid Unicode (a lone surrogate such as \\ud800 is not)."
    return None


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        bool: "a boolean",
        list: "a list",
        dict: "an object",
    }
    return " or ".join(names.get(t, t.__name__) for t in _as_tuple(expected))
