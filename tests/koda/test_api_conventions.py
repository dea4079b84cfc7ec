"""API conventions (design §7): auth, the cookie-write CSRF rule, one error shape, limits."""

from __future__ import annotations

import pytest
from django.test import Client

from connections.models import Connection
from tests.conftest import API, assert_error, make_connection


@pytest.fixture
def connected(db):
    return make_connection("groq", api_key="gsk_" + "a" * 48)


def test_it_answers_401_in_the_error_shape_without_cookie_or_token(db):
    error = assert_error(Client().get(API + "/connections/catalog"), 401, "authentication_required")
    assert "Bearer" in error["message"]


@pytest.mark.parametrize("header", ["Basic YWRhOnB3", "Bearer", "Bearer    ", "Token abc"])
def test_it_rejects_a_malformed_authorization_header(db, header):
    response = Client().get(API + "/connections/catalog", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"authentication_required", "invalid_token"}


def test_it_rejects_an_unknown_bearer_token(db):
    response = Client().get(
        API + "/connections/catalog",
        headers={"Authorization": "Bearer koda_notarealtoken123456789"},
    )
    assert_error(response, 401, "invalid_token")


def test_it_lets_the_session_cookie_alone_reach_the_api(cookie_api, connected):
    assert cookie_api.get("/connections/catalog").status_code == 200
    response = cookie_api.call("DELETE", "/providers/groq/connection")
    assert response.status_code == 200, response.content
    assert not Connection.objects.exists()


def test_it_refuses_a_cross_origin_cookie_write(cookie_api, connected):
    response = cookie_api.call(
        "DELETE", "/providers/groq/connection", headers={"Origin": "https://evil.example"}
    )
    assert_error(response, 403, "origin_mismatch")
    assert Connection.objects.filter(provider_id="groq").exists()


@pytest.mark.parametrize("origin", ["null", "http://testserver.evil.example", "https://testserver"])
def test_it_treats_opaque_and_lookalike_origins_as_foreign(cookie_api, connected, origin):
    response = cookie_api.call(
        "POST", "/providers/groq/connection/disconnect", headers={"Origin": origin}
    )
    assert_error(response, 403, "origin_mismatch")


def test_it_accepts_a_same_origin_cookie_write(cookie_api, connected):
    response = cookie_api.call(
        "POST", "/providers/groq/connection/disconnect", headers={"Origin": "http://testserver"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"],
)
def test_it_refuses_a_cookie_write_that_is_not_json(cookie_api, connected, content_type):
    response = cookie_api.call(
        "POST", "/providers/groq/connection/disconnect", raw="", content_type=content_type
    )
    assert_error(response, 403, "csrf_content_type")
    assert Connection.objects.exists()


def test_it_lets_a_bearer_write_skip_the_cookie_rule(api, connected):
    response = api.call(
        "DELETE", "/providers/groq/connection", headers={"Origin": "https://automation.example"}
    )
    assert response.status_code == 200


def test_it_wants_json_for_a_bearer_write_with_a_body(api, connected):
    response = api.call(
        "POST",
        "/providers/groq/connection/disconnect",
        raw="a=b",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{nope", "invalid_json"),
        ("[1, 2]", "invalid_body"),
        ('"text"', "invalid_body"),
        (b"\xff\xfe", "invalid_json"),
    ],
)
def test_it_explains_malformed_json(api, connected, raw, code):
    response = api.call("POST", "/providers/groq/connection/disconnect", raw=raw)
    assert_error(response, 400, code)
    assert Connection.objects.exists()


def test_it_names_unknown_fields(api, connected):
    response = api.call("POST", "/providers/groq/connection/disconnect", {"force": True})
    error = assert_error(response, 400, "unknown_fields")
    assert error["details"]["unknown"] == ["force"]
    assert Connection.objects.exists()


def test_it_refuses_a_body_over_64_kb(api, connected):
    response = api.call(
        "POST", "/providers/groq/connection/disconnect", raw='{"x": "' + "a" * 70_000 + '"}'
    )
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"]["max_bytes"] == 65536
    assert Connection.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/connections/catalog"),
        ("PUT", "/providers/groq/connection"),
        ("GET", "/providers/groq/connection/disconnect"),
        ("DELETE", "/openapi.json"),
    ],
)
def test_it_answers_405_with_the_allowed_methods(api, method, path):
    response = api.call(method, path)
    error = assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == ", ".join(error["details"]["allowed"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/providers/nope/connection"),
        ("DELETE", "/providers/nope/connection"),
        ("POST", "/providers/nope/connection/disconnect"),
    ],
)
def test_it_answers_404_for_an_unknown_provider(api, method, path):
    error = assert_error(api.call(method, path), 404, "unknown_provider")
    assert error["details"] == {"provider_id": "nope"}


def test_it_answers_404_in_the_error_shape_for_an_unknown_path(api):
    assert_error(api.get("/no/such/thing"), 404, "not_found")


def test_it_answers_409_when_disconnecting_nothing(api):
    assert_error(api.call("DELETE", "/providers/groq/connection"), 409, "not_configured")


def test_it_resolves_provider_aliases(api):
    body = api.get("/providers/claude/connection").json()
    assert body["connection"]["provider_id"] == "anthropic"


def test_it_refuses_a_logged_in_user_who_is_not_an_operator(db):
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.create_user("guest", password="x" * 20))
    assert_error(client.get(API + "/connections/catalog"), 403, "forbidden")
