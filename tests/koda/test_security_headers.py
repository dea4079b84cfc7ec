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


def _through_csp(response=None, *, nonce: bool = False):
    """One request through Koda's CSP middleware; `nonce`: the view asked for a nonce."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from koda.csp import CSPMiddleware

    def view(request):
        if nonce:
            str(request.csp_nonce)
        return response or HttpResponse("ok")

    request = RequestFactory().get("/")
    return CSPMiddleware(view)(request), request


def test_the_policy_built_once_is_the_one_django_csp_builds():
    from csp.utils import build_policy

    answer, request = _through_csp()
    assert answer["Content-Security-Policy"] == build_policy()
    assert "Content-Security-Policy-Report-Only" not in answer  # none configured
    with pytest.raises(Exception, match="after the CSP header has been written"):
        str(request.csp_nonce)  # as the library: too late for a nonce


def test_a_changed_setting_changes_the_policy(settings):
    first, _ = _through_csp()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    second, _ = _through_csp()
    assert (
        second["Content-Security-Policy"]
        == "default-src 'none'"
        != first["Content-Security-Policy"]
    )
    report_only = second["Content-Security-Policy-Report-Only"].split("; ")
    assert sorted(report_only) == ["default-src 'self'", "img-src 'self'"]  # in either order


def test_a_tailored_answer_or_a_nonce_takes_the_librarys_path(settings):
    import csp.constants
    from csp.decorators import csp_update
    from django.http import HttpResponse

    tailored = csp_update({"img-src": ["https://images.example"]})(lambda r: HttpResponse())
    answer, _ = _through_csp(tailored(None))
    assert "https://images.example" in answer["Content-Security-Policy"]

    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'self'"], "script-src": [csp.constants.NONCE]}
    }
    answer, request = _through_csp(nonce=True)
    assert f"'nonce-{request.csp_nonce}'" in answer["Content-Security-Policy"]
