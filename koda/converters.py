"""URL path converters. `anypath`: any characters, "/" and newlines included. Django's `path`
converter is ".+", whose "." stops at a newline, so a model name with one fell to the API's
catch-all 404 instead of reaching its operation (found by the fuzzer)."""

from __future__ import annotations

from django.urls import register_converter


class AnyPath:
    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyPath, "anypath")
