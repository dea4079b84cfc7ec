"""The security headers are on every answer, pages, JSON and errors alike (issue 14)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_secured(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives.get("default-src") == "'self'", policy
    assert directives.get("script-src") == "'self'", policy
    assert directives.get("style-src") == "'self'", policy
    assert directives.get("object-src") == "'none'", policy
    assert directives.get("frame-ancestors") == "'none'", policy
    assert directives.get("form-action") == "'self'", policy
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))


@pytest.mark.parametrize(
    "path", ["/login/", "/healthz", "/api/control-plane/openapi.json", "/no-such-page/"]
)
def test_anonymous_answers_carry_the_headers(client, path):
    assert_secured(client.get(path))


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/providers/openai/",
        "/operations/",
        "/agents/",
        "/tokens/",
        "/notifications/",
        "/admin/",
    ],
)
def test_pages_carry_the_headers(operator_client, path):
    response = operator_client.get(path)
    assert response.status_code == 200
    assert_secured(response)


def test_json_answers_and_errors_carry_the_headers(api):
    assert_secured(api.get("/connections/catalog"))
    assert_secured(api.get("/providers/nonesuch/connection"))
    assert_secured(api.call("PUT", "/providers/openai/connection/api-key", {"api_key": 5}))
