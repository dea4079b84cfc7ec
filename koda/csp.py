"""django-csp's middleware, with the policy built once instead of on every answer.

`csp.middleware.CSPMiddleware` builds both headers (enforced, report-only) from the settings on
every response: about a tenth of a fast API answer's time, for a value that only the settings
change. Here they are built once and kept until a setting changes (`setting_changed`, as tests
override them). A response that tailors its policy (django-csp's decorators) or a request that
asked for a nonce takes the library's own path, so every feature of the library still works.
"""

from __future__ import annotations

import http.client
from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

# What django-csp's decorators set on a response to tailor its policy.
TAILORED = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# The library's (and Django's) debug pages keep their inline styles under DEBUG.
DEBUG_PAGES = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


@cache
def _headers() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, value, the response attribute exempting it, excluded path prefixes) for each
    policy the settings configure."""
    headers = []
    for header, setting, exempt, report_only in (
        (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
    ):
        value = build_policy(report_only=report_only)
        if value:
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            headers.append((header, value, exempt, tuple(prefixes)))
    return tuple(headers)


@receiver(setting_changed)
def _policy_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _headers.cache_clear()


class CSPMiddleware(LibraryCSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in TAILORED
        ):
            return super().process_response(request, response)
        if response.status_code in DEBUG_PAGES and settings.DEBUG:
            return response
        for header, value, exempt, prefixes in _headers():
            if (
                header not in response
                and not getattr(response, exempt, False)
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = value
        # As the library: a nonce asked for after the header is written is an error, not a
        # nonce the policy does not carry.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
