"""API conventions (design §7): auth, the cookie-write CSRF rule, one error shape, limits."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from connections.models import Connection
from tests.conftest import API, assert_documented, assert_error, make_connection


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


@pytest.mark.parametrize(
    ("path", "raw", "field"),
    [
        # What the fuzzer sent (a 500 on PostgreSQL, whose text columns refuse NUL).
        ("/agents", '{"id": "custom", "name": "a\\u0000b"}', "name"),
        ("/agents", '{"id": "custom", "name": "lone \\ud800 surrogate"}', "name"),
        # Nested, and in a key: every value of every field is read.
        (
            "/agents/support-bot/model-policy",
            '{"roles": {"triage\\u0000": {"model": "groq/llama"}}}',
            "roles",
        ),
        ("/defaults/chat", '{"provider": "groq", "model": "llama\\u0000"}', "model"),
    ],
)
def test_it_refuses_text_no_database_can_store(api, connected, path, raw, field):
    from agents.models import Agent
    from agents.services import agent_create
    from koda.context import Context

    agent_create(slug="support-bot", name="Support bot", ctx=Context.command("tests"))
    method = "POST" if path == "/agents" else "PUT"
    response = api.call(method, path, raw=raw)
    error = assert_error(response, 400, "invalid_input")
    assert field in error["details"]["fields"]
    assert list(Agent.objects.values_list("slug", flat=True)) == ["support-bot"]


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


@pytest.fixture
def debug(settings):
    """Development mode: Django's own error pages would show tracebacks and locals."""
    settings.DEBUG = True


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("[" * 40_000, "nested too deeply"),  # 40 KB of [[[[
        ('{"a":' * 10_000 + "1" + "}" * 10_000, "nested too deeply"),  # 10,000 nested objects
        ('{"api_key": ' + "7" * 5000 + "}", "cannot read"),  # past Python's int digit limit
        ('{"api_key": 1e999999}', "Expected a string"),  # inf: parsed, then refused by type
    ],
)
def test_it_explains_a_body_it_cannot_read_in_json(api, connected, debug, raw, words):
    response = api.call("PUT", "/providers/groq/connection/api-key", raw=raw)
    error = assert_error(
        response, 400, "invalid_json" if "Expected" not in words else "invalid_input"
    )
    assert words in json.dumps(error)
    assert Connection.objects.get().secrets["api_key"] == "gsk_" + "a" * 48  # nothing changed


@pytest.mark.parametrize("value", ["²", "٣", "9" * 5000, "-1", "0", "201", ""])
def test_it_refuses_an_odd_page_size_in_json(api, debug, value):
    error = assert_error(
        api.get(f"/integrations/groq/health?page_size={value}"), 400, "invalid_input"
    )
    assert "page_size" in error["details"]["fields"]


@pytest.mark.urls("tests.koda.broken_urls")
def test_it_answers_an_unexpected_error_in_json_without_a_traceback(api_token, debug, caplog):
    response = Client().get(API + "/boom", headers={"Authorization": f"Bearer {api_token}"})
    error = assert_error(response, 500, "internal_error")
    body = response.content.decode()
    assert "Traceback" not in body and "RuntimeError" not in body and "TracebackSecret" not in body
    assert "RuntimeError" in caplog.text  # logged for the operator, through the redacting filter
    assert "TracebackSecret" not in caplog.text
    assert error["message"] == "Koda failed to answer; the error was logged."


def test_it_says_when_a_stored_secret_cannot_be_decrypted(api, connected, debug, settings):
    settings.KODA_ENCRYPTION_KEY = "a-different-key-" + "d" * 40
    error = assert_error(
        api.call("POST", "/providers/groq/connection/verify"), 500, "secret_unreadable"
    )
    assert "KODA_ENCRYPTION_KEY" in error["message"]
    # What needs no secret still answers, to tell the operator what is there: the state and
    # the catalog never decrypt one.
    state = api.get("/providers/groq/connection")
    assert state.status_code == 200 and state.json()["connection"]["status"] != "not_configured"
    assert api.get("/connections/catalog").status_code == 200


def test_it_refuses_a_chunked_body_it_cannot_read_instead_of_reading_nothing(api_token, connected):
    # Django's own servers hand over the still-chunked stream; gunicorn de-chunks it (that case
    # is tested against `make run` in tests/test_make_run.py).
    response = Client().generic(
        "PUT",
        API + "/providers/groq/connection/api-key",
        data=b'b\r\n{"api_key":\r\n0\r\n\r\n',
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_token}"},
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert_error(response, 411, "length_required")
    assert_documented(response)
