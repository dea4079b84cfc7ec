"""Configure → verify → set default through the JSON API, with providers faked by `responses`."""

from __future__ import annotations

import logging

import pytest
import responses
from django.db import connection as db

from connections.models import Connection, HealthSnapshot, Status
from koda.models import AuditEvent
from tests.conftest import assert_error

GOOD = "gsk_GoodKeyForKodaTests0123456789abcdefABCDEFGH"
BAD = "gsk_BadKeyForKodaTests0123456789abcdefABCDEFGHI"
NEW = "gsk_NewKeyForKodaTests0123456789abcdefABCDEFGHI"
GROQ = "https://api.groq.com/openai/v1/models"
MODELS = {
    "object": "list",
    "data": [
        {"id": "llama-3.1-8b-instant", "object": "model", "active": True},
        {"id": "llama-3.3-70b-versatile", "object": "model", "active": True},
    ],
}
INVALID = {
    "error": {
        "message": "Invalid API Key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}


@pytest.fixture
def groq():
    """Groq's models endpoint: GOOD and NEW keys work, anything else gets Groq's real 401."""

    def answer(request):
        import json

        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if key in (GOOD, NEW):
            return 200, {}, json.dumps(MODELS)
        return 401, {}, json.dumps(INVALID)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback("GET", GROQ, callback=answer, content_type="application/json")
        yield rsps


def put_key(api, key, provider="groq", **extra):
    return api.call("PUT", f"/providers/{provider}/connection/api-key", {"api_key": key, **extra})


def raw_table_dump() -> str:
    with db.cursor() as cursor:
        rows = []
        for table in ("connections_connection", "connections_healthsnapshot", "koda_auditevent"):
            cursor.execute(f"SELECT * FROM {table}")
            rows += cursor.fetchall()
    return repr(rows)


def test_it_stores_a_key_only_after_it_round_trips(api, groq, caplog):
    caplog.set_level(logging.DEBUG)
    response = put_key(api, GOOD)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verification"]["ok"] is True and body["verification"]["outcome"] == "ok"
    assert body["verification"]["probe"] == f"GET {GROQ}"
    state = body["connection"]
    assert state["status"] == "verified" and state["ready"] is False  # no default model yet
    assert state["secret_hint"] == "gsk_…EFGH"
    assert state["models"] == ["llama-3.1-8b-instant", "llama-3.3-70b-versatile"]
    stored = Connection.objects.get(provider_id="groq")
    assert stored.secrets["api_key"] == GOOD
    snapshot = HealthSnapshot.objects.get()
    assert (snapshot.ok, snapshot.trigger, snapshot.candidate) == (True, "api", False)
    assert AuditEvent.objects.filter(action="connection.configure").count() == 1
    for place in (response.content.decode(), caplog.text, raw_table_dump()):
        assert GOOD not in place and GOOD[4:20] not in place


def test_it_refuses_a_bad_key_and_stores_nothing(api, groq):
    response = put_key(api, BAD)
    error = assert_error(response, 422, "verification_failed")
    verification = error["details"]["verification"]
    assert verification["outcome"] == "invalid_credentials"
    assert verification["http_status"] == 401 and "Invalid API Key" in verification["raw_error"]
    assert verification["remedy"]
    assert not Connection.objects.exists()
    assert HealthSnapshot.objects.get().candidate is True
    assert BAD not in response.content.decode() and BAD not in raw_table_dump()


def test_it_keeps_the_old_key_and_defaults_when_a_rotation_fails(api, groq):
    put_key(api, GOOD)
    api.call("PUT", "/providers/groq/connection/default-model", {"model": "llama-3.1-8b-instant"})
    before = Connection.objects.get()
    assert_error(put_key(api, BAD), 422, "verification_failed")
    after = Connection.objects.get()
    assert after.secrets["api_key"] == GOOD and after.secret_hint == before.secret_hint
    assert after.default_model == "llama-3.1-8b-instant" and after.status == Status.VERIFIED
    refused = AuditEvent.objects.get(action="connection.configure_refused")
    assert refused.diff["kept_existing"] is True and BAD not in str(refused.diff)
    state = api.get("/providers/groq/connection").json()["connection"]
    assert state["ready"] is True and state["last_check"]["outcome"] == "ok"


def test_it_replaces_a_key_with_a_good_one_and_keeps_a_still_offered_default(api, groq):
    put_key(api, GOOD)
    api.call("PUT", "/providers/groq/connection/default-model", {"model": "llama-3.1-8b-instant"})
    response = put_key(api, NEW)
    assert response.status_code == 200
    stored = Connection.objects.get()
    assert stored.secrets["api_key"] == NEW and stored.default_model == "llama-3.1-8b-instant"
    event = AuditEvent.objects.filter(action="connection.configure").latest("id")
    assert event.diff["before"]["secret_hint"] == "gsk_…EFGH"
    assert event.diff["after"]["secret_hint"] == "gsk_…FGHI"


def test_it_reverifies_and_marks_a_revoked_key_failing(api, groq):
    put_key(api, GOOD)
    groq.replace("GET", GROQ, status=401, json=INVALID)
    response = api.call("POST", "/providers/groq/connection/verify")
    assert response.status_code == 200
    body = response.json()
    assert body["verification"]["outcome"] == "invalid_credentials"
    assert body["connection"]["status"] == "failing" and body["connection"]["failing_since"]
    assert HealthSnapshot.objects.filter(ok=False, candidate=False).count() == 1
    groq.replace("GET", GROQ, status=503, json={"error": {"message": "over capacity"}})
    body = api.call("POST", "/providers/groq/connection/verify").json()
    assert body["connection"]["status"] == "degraded"
    groq.replace("GET", GROQ, json=MODELS)
    body = api.call("POST", "/providers/groq/connection/verify").json()
    assert (
        body["connection"]["status"] == "verified" and body["connection"]["failing_since"] is None
    )


def test_it_answers_409_when_verifying_or_choosing_without_a_connection(api):
    assert_error(api.call("POST", "/providers/groq/connection/verify"), 409, "not_configured")
    assert_error(
        api.call("PUT", "/providers/groq/connection/default-model", {"model": "x"}),
        409,
        "not_configured",
    )
    assert_error(api.get("/providers/groq/models"), 409, "not_configured")


def test_it_sets_only_a_discovered_default_model(api, groq):
    put_key(api, GOOD)
    error = assert_error(
        api.call("PUT", "/providers/groq/connection/default-model", {"model": "gpt-4o"}),
        400,
        "unknown_model",
    )
    assert "llama-3.1-8b-instant" in error["details"]["models"]
    response = api.call(
        "PUT", "/providers/groq/connection/default-model", {"model": "llama-3.3-70b-versatile"}
    )
    assert response.json()["connection"]["default_model"] == "llama-3.3-70b-versatile"
    assert response.json()["connection"]["ready"] is True
    event = AuditEvent.objects.get(action="connection.default_model")
    assert event.diff == {"before": "", "after": "llama-3.3-70b-versatile"}
    models = api.get("/providers/groq/models").json()
    assert models["default_model"] == "llama-3.3-70b-versatile"
    assert [m["id"] for m in models["models"]] == [
        "llama-3.1-8b-instant",
        "llama-3.3-70b-versatile",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "api_key"),
        ({"api_key": ""}, "api_key"),
        ({"api_key": "   "}, "api_key"),
        ({"api_key": "gsk_with space"}, "api_key"),
        ({"api_key": "k" * 1025}, "api_key"),
        ({"api_key": 12345}, "api_key"),
        ({"api_key": GOOD, "base_url": "ftp://api.groq.com"}, "base_url"),
        ({"api_key": GOOD, "base_url": "https://user:pw@api.groq.com/openai/v1"}, "base_url"),
        ({"api_key": GOOD, "base_url": "https://api.groq.com/openai/v1?x=1"}, "base_url"),
        ({"api_key": GOOD, "base_url": "https://api.groq.com:99999/v1"}, "base_url"),
        ({"api_key": GOOD, "base_url": "https://a.example/" + "p" * 2100}, "base_url"),
    ],
)
def test_it_explains_bad_input_and_stores_nothing(api, groq, body, field):
    response = api.call("PUT", "/providers/groq/connection/api-key", body)
    error = assert_error(response, 400, "invalid_input")
    assert field in error["details"]["fields"]
    assert not Connection.objects.exists() and len(groq.calls) == 0


def test_it_refuses_fields_the_provider_does_not_take(api, groq):
    error = assert_error(put_key(api, GOOD, organization="org-1"), 400, "unknown_fields")
    assert error["details"]["unknown"] == ["organization"]


def test_it_refuses_an_api_key_for_a_provider_without_one(api):
    error = assert_error(put_key(api, GOOD, provider="kokoro"), 400, "unsupported_auth_method")
    assert error["details"]["auth_methods"] == ["model_download"]


def test_it_refuses_a_private_base_url_before_any_request(api, groq):
    response = put_key(api, GOOD, base_url="https://10.1.2.3/openai/v1")
    error = assert_error(response, 422, "verification_failed")
    assert error["details"]["verification"]["outcome"] == "blocked_destination"
    assert len(groq.calls) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/providers/groq/connection/api-key"),
        ("POST", "/providers/groq/connection/api-key"),
        ("GET", "/providers/groq/connection/verify"),
        ("POST", "/providers/groq/models"),
        ("GET", "/providers/groq/connection/default-model"),
    ],
)
def test_it_answers_405_on_lifecycle_endpoints(api, method, path):
    assert_error(api.call(method, path), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "path", ["/connection/api-key", "/connection/verify", "/connection/default-model", "/models"]
)
def test_it_answers_404_for_unknown_providers_on_lifecycle_endpoints(api, path):
    method = {
        "/connection/api-key": "PUT",
        "/connection/verify": "POST",
        "/connection/default-model": "PUT",
        "/models": "GET",
    }[path]
    assert_error(
        api.call(
            method,
            "/providers/nope" + path,
            {"api_key": GOOD, "model": "m"}
            if method == "PUT" and "key" in path
            else ({"model": "m"} if method == "PUT" else None),
        ),
        404,
        "unknown_provider",
    )


@responses.activate
def test_it_stores_openai_organization_and_project(api):
    responses.add(
        "GET",
        "https://api.openai.com/v1/models",
        json={"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]},
    )
    key = "sk-proj-OpenAIKeyForKodaTests0123456789abcdefWXYZ"
    response = put_key(api, key, provider="codex", organization="org-abc", project="proj_1")
    assert response.status_code == 200, response.content
    state = response.json()["connection"]
    assert state["provider_id"] == "openai"
    assert (state["organization"], state["project"]) == ("org-abc", "proj_1")
    assert responses.calls[0].request.headers["OpenAI-Organization"] == "org-abc"


@responses.activate
def test_it_stores_the_region_a_key_belongs_to(api):
    bad = {"error": {"message": "Incorrect API key provided.", "code": "invalid_api_key"}}
    responses.add(
        "GET", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/models", status=401, json=bad
    )
    responses.add(
        "GET",
        "https://dashscope.aliyuncs.com/compatible-mode/v1/models",
        json={"object": "list", "data": [{"id": "qwen-plus", "object": "model"}]},
    )
    response = put_key(api, "sk-0123456789abcdef0123456789abcdef", provider="qwen")
    assert response.status_code == 200
    assert response.json()["connection"]["base_url"] == (
        "https://dashscope.aliyuncs.com/compatible-mode/v1"
    )


@responses.activate
def test_it_verifies_the_operator_base_url(api, settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    responses.add("GET", "http://127.0.0.1:9/groq/models", json=MODELS)
    response = put_key(api, GOOD, base_url="http://127.0.0.1:9/groq/")
    assert response.status_code == 200, response.content
    assert response.json()["verification"]["probe"] == "GET http://127.0.0.1:9/groq/models"
    assert response.json()["connection"]["base_url"] == "http://127.0.0.1:9/groq"


def test_it_records_what_to_do_with_every_check(api, groq):
    put_key(api, BAD)  # refused: a candidate snapshot
    put_key(api, GOOD)
    groq.replace("GET", GROQ, status=401, json=INVALID)
    api.call("POST", "/providers/groq/connection/verify")
    refused, _, failed = HealthSnapshot.objects.order_by("id")
    assert refused.remedy.startswith("Copy a current key from https://console.groq.com/keys")
    assert failed.remedy == refused.remedy
    snapshots = api.get("/integrations/groq/health").json()["snapshots"]
    assert snapshots[0]["remedy"] == failed.remedy
    state = api.get("/providers/groq/connection").json()["connection"]
    assert state["last_check"]["remedy"] == failed.remedy


def test_every_api_key_method_takes_a_base_url():
    from providers.registry import PROVIDERS

    for provider in PROVIDERS.values():
        method = provider.method("api_key")
        if method is not None:
            assert method.field("base_url") is not None, provider.id


@pytest.mark.parametrize(
    ("provider", "base_url", "probe", "body"),
    [
        (
            "elevenlabs",
            "https://api.eu.residency.elevenlabs.io",
            "/v1/user/subscription",
            {"tier": "creator", "character_count": 10, "character_limit": 100000},
        ),
        (
            "ollama",
            "https://ollama-proxy.gateway.example",
            "/api/balance",
            {"purchased": {"balance_usd": 5}},
        ),
    ],
)
def test_it_verifies_elevenlabs_and_ollama_cloud_at_the_base_url_given(
    api, provider, base_url, probe, body
):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add("GET", base_url + probe, json=body)
        rsps.add(
            "GET",
            base_url + "/v1/models",
            json=[{"model_id": "eleven_flash_v2_5", "can_do_text_to_speech": True}],
        )
        rsps.add("GET", base_url + "/v1/voices", json={"voices": []})
        rsps.add("GET", base_url + "/api/tags", json={"models": [{"name": "gpt-oss:120b"}]})
        response = put_key(
            api, "xi-or-ollama-key-0123456789abcdef", provider=provider, base_url=base_url
        )
        assert response.status_code == 200, response.content
        assert all(call.request.url.startswith(base_url) for call in rsps.calls)
    assert response.json()["connection"]["base_url"] == base_url
