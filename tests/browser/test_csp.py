"""Every page carries the security headers, and runs under its strict Content-Security-Policy
with nothing refused: no inline script or style, no resource from elsewhere (htmx included)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.browser.test_layout import PAGES, house  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def test_every_page_runs_under_the_csp_with_nothing_refused(page, koda_server, house):  # noqa: F811
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    response = page.goto(koda_server.url + "/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    log_in(page, koda_server, "ada", "correct horse battery staple")
    for path in PAGES:
        response = page.goto(koda_server.url + path)
        assert response.status == 200, path
        headers = response.headers
        policy = headers.get("content-security-policy", "")
        for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
            assert directive in policy, (path, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        for name, value in HEADERS.items():
            assert headers.get(name) == value, (path, name, headers.get(name))
        # htmx works under the policy: its script loaded and initialised.
        if not path.startswith("/admin/"):
            assert page.evaluate("typeof window.htmx === 'object'"), path
    assert not refused, refused
