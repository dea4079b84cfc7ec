"""Connecting the local runtimes (Ollama, llama.cpp, MLX) through the API and the wizard, against
fake servers on 127.0.0.1 that speak their real formats, and real binaries written to disk."""

from __future__ import annotations

import json
import logging

import pytest
import responses

from connections.models import Connection, HealthSnapshot
from koda.models import AuditEvent
from tests.conftest import assert_error
from tests.connections.test_api_lifecycle import raw_table_dump
from tests.fake_local import LLAMA_KEY, LLAMA_MODEL, FakeLocal

PROXY_KEY = "proxy-Key-0123456789abcdefWXYZ"


@pytest.fixture
def llama_binary(tmp_path):
    path = tmp_path / "llama-server"
    path.write_text("#!/bin/sh\necho 'version: 4589 (c6e8cc28)' >&2\n")
    path.chmod(0o755)
    return str(path)


def put_local(api, provider: str, **body):
    return api.call("PUT", f"/providers/{provider}/connection/local", body)


def test_it_connects_ollama_on_this_machine(api, fake_ollama):
    response = put_local(api, "ollama", endpoint_url=fake_ollama.url)
    assert response.status_code == 200, response.content
    state = response.json()["connection"]
    assert (state["status"], state["auth_method"], state["endpoint_url"]) == (
        "verified",
        "local_endpoint",
        fake_ollama.url,
    )
    assert state["models"] == ["llama3.2:latest", "nomic-embed-text:latest"]
    assert state["details"] == {"version": "0.12.3"} and state["secret_hint"] is None
    models = {m["id"]: m for m in api.get("/providers/ollama/models").json()["models"]}
    assert models["nomic-embed-text:latest"] == {
        "id": "nomic-embed-text:latest",
        "capabilities": ["embedding"],
        "context_length": 2048,
        "size_bytes": 274302450,
        "family": "nomic-bert",
        "parameter_size": "137M",
        "quantization": "F16",
        "dimensions": 768,  # its embedding length, from /api/show
    }
    assert Connection.objects.get().secrets is None
    assert ("POST", "/api/show") in fake_ollama.server.hits


def test_it_connects_ollama_behind_an_authenticating_proxy(api, fake_ollama, caplog):
    caplog.set_level(logging.DEBUG)
    fake_ollama.server.api_key = PROXY_KEY
    refused = put_local(api, "ollama", endpoint_url=fake_ollama.url)
    error = assert_error(refused, 422, "verification_failed")
    assert error["details"]["verification"]["outcome"] == "invalid_credentials"
    assert "proxy" in error["details"]["verification"]["remedy"]
    assert not Connection.objects.exists()
    response = put_local(api, "ollama", endpoint_url=fake_ollama.url, api_key=PROXY_KEY)
    assert response.status_code == 200, response.content
    assert response.json()["connection"]["secret_hint"] == "…WXYZ"
    assert dict(Connection.objects.get().secrets) == {"api_key": PROXY_KEY}
    for place in (response.content.decode(), caplog.text, raw_table_dump()):
        assert PROXY_KEY not in place


def test_it_switches_ollama_to_the_cloud_only_when_the_new_key_verifies(api, fake_ollama):
    put_local(api, "ollama", endpoint_url=fake_ollama.url)
    api.call("PUT", "/providers/ollama/connection/default-model", {"model": "llama3.2:latest"})
    with responses.RequestsMock() as rsps:
        rsps.add_passthru("http://127.0.0.1")
        rsps.add("GET", "https://ollama.com/api/balance", status=401, body="unauthorized\n")
        refused = api.call(
            "PUT", "/providers/ollama/connection/api-key", {"api_key": "bad-cloud-key-0123456789"}
        )
        assert_error(refused, 422, "verification_failed")
        kept = Connection.objects.get()
        assert (kept.auth_method, kept.default_model) == ("local_endpoint", "llama3.2:latest")
        rsps.replace(
            "GET", "https://ollama.com/api/balance", json={"purchased": {"balance_usd": 12.5}}
        )
        rsps.add("GET", "https://ollama.com/api/tags", json={"models": [{"name": "gpt-oss:120b"}]})
        switched = api.call(
            "PUT", "/providers/ollama/connection/api-key", {"api_key": "good-cloud-key-0123456789"}
        )
    assert switched.status_code == 200, switched.content
    state = switched.json()["connection"]
    assert (state["auth_method"], state["endpoint_url"], state["models"]) == (
        "api_key",
        None,
        ["gpt-oss:120b"],
    )
    assert state["default_model"] is None  # llama3.2 is not a cloud model
    assert Connection.objects.get().config == {}
    refused_audit = AuditEvent.objects.get(action="connection.configure_refused")
    assert refused_audit.diff["auth_method"] == "api_key" and refused_audit.diff["kept_existing"]


def test_it_connects_llama_server_with_its_api_key(api, fake_llama, caplog):
    caplog.set_level(logging.DEBUG)
    refused = put_local(
        api, "llamacpp", endpoint_url=fake_llama.url, api_key="wrong-key-0123456789"
    )
    error = assert_error(refused, 422, "verification_failed")
    assert error["details"]["verification"]["outcome"] == "invalid_credentials"
    response = put_local(api, "llamacpp", endpoint_url=fake_llama.url, api_key=LLAMA_KEY)
    assert response.status_code == 200, response.content
    state = response.json()["connection"]
    assert state["models"] == [LLAMA_MODEL] and state["details"]["build"] == "b4589-c6e8cc28"
    assert api.call(
        "PUT", "/providers/llamacpp/connection/default-model", {"model": LLAMA_MODEL}
    ).json()["connection"]["ready"]
    fake_llama.server.loading = True
    body = api.call("POST", "/providers/llamacpp/connection/verify").json()
    assert body["verification"]["outcome"] == "provider_unavailable"
    assert body["connection"]["status"] == "degraded"
    assert "loading" in body["verification"]["message"]
    assert LLAMA_KEY not in caplog.text and LLAMA_KEY not in raw_table_dump()
    assert LLAMA_KEY not in json.dumps(body) and LLAMA_KEY[:12] not in raw_table_dump()


def test_it_connects_the_llama_server_binary(api, llama_binary):
    response = put_local(api, "llamacpp", runtime_path=llama_binary)
    assert response.status_code == 200, response.content
    state = response.json()["connection"]
    assert (state["auth_method"], state["runtime_path"]) == ("local_runtime", llama_binary)
    assert state["details"] == {"version": "4589 (c6e8cc28)"}
    assert response.json()["verification"]["probe"] == f"run {llama_binary} --version"
    assert HealthSnapshot.objects.get().probe == f"run {llama_binary} --version"


def test_it_stores_nothing_for_a_missing_binary(api, tmp_path):
    response = put_local(api, "llamacpp", runtime_path=str(tmp_path / "llama-server"))
    error = assert_error(response, 422, "verification_failed")
    assert error["details"]["verification"]["outcome"] == "runtime_missing"
    assert not Connection.objects.exists()


def test_it_refuses_mlx_as_a_binary_off_apple_silicon(api, llama_binary, monkeypatch):
    monkeypatch.setattr("providers.runtime.platform.system", lambda: "Linux")
    error = assert_error(
        put_local(api, "mlx", runtime_path=llama_binary), 422, "verification_failed"
    )
    assert error["details"]["verification"]["outcome"] == "unsupported_host"
    assert not Connection.objects.exists()


def test_it_connects_an_mlx_server(api):
    server = FakeLocal("mlx")
    try:
        response = put_local(api, "mlx", endpoint_url=server.url)
    finally:
        server.close()
    assert response.status_code == 200, response.content
    assert response.json()["connection"]["models"] == ["mlx-community/Llama-3.2-3B-Instruct-4bit"]


@pytest.mark.parametrize(
    ("provider", "body", "status", "code"),
    [
        (
            "llamacpp",
            {"endpoint_url": "http://127.0.0.1:1", "runtime_path": "/bin/x"},
            400,
            "unknown_fields",
        ),
        ("llamacpp", {"runtime_path": "/bin/x", "api_key": "k" * 20}, 400, "unknown_fields"),
        ("llamacpp", {"runtime_path": "relative/llama-server"}, 400, "invalid_input"),
        ("llamacpp", {"endpoint_url": "ftp://127.0.0.1"}, 400, "invalid_input"),
        ("ollama", {"endpoint_url": 11434}, 400, "invalid_input"),
        ("ollama", {"organization": "org-1"}, 400, "unknown_fields"),
        ("groq", {"endpoint_url": "http://127.0.0.1:1"}, 400, "unsupported_auth_method"),
        ("kokoro", {}, 400, "unsupported_auth_method"),
        ("nope", {}, 404, "unknown_provider"),
    ],
)
def test_it_explains_bad_local_input_and_stores_nothing(api, provider, body, status, code):
    assert_error(put_local(api, provider, **body), status, code)
    assert not Connection.objects.exists() and not HealthSnapshot.objects.exists()


def test_it_refuses_a_metadata_address_for_a_local_endpoint(api):
    response = put_local(api, "ollama", endpoint_url="http://169.254.169.254")
    error = assert_error(response, 422, "verification_failed")
    assert error["details"]["verification"]["outcome"] == "blocked_destination"


def test_it_refuses_an_api_key_for_a_provider_that_takes_none(api):
    error = assert_error(
        api.call("PUT", "/providers/llamacpp/connection/api-key", {"api_key": "k" * 20}),
        400,
        "unsupported_auth_method",
    )
    assert error["details"]["auth_methods"] == ["local_endpoint", "local_runtime"]


# --- the wizard, server-side (the browser tests drive the same pages) --------------------------


def test_the_wizard_offers_each_method_with_exactly_its_fields(operator_client):
    page = operator_client.get("/providers/ollama/").content.decode()
    assert "This machine&#x27;s server" in page and "ollama.com API key" in page
    assert 'name="endpoint_url"' in page and 'value="http://127.0.0.1:11434"' in page
    assert 'name="base_url"' not in page
    cloud = operator_client.get("/providers/ollama/?method=api_key").content.decode()
    assert 'name="base_url"' in cloud and 'name="endpoint_url"' not in cloud
    assert 'name="auth_method" value="api_key"' in cloud
    partial = operator_client.get(
        "/providers/llamacpp/?method=local_runtime",
        headers={"HX-Request": "true", "HX-Target": "wizard"},
    ).content.decode()
    assert partial.lstrip().startswith('<section id="wizard"') and 'name="runtime_path"' in partial


def test_the_wizard_connects_ollama_and_shows_what_it_found(operator_client, fake_ollama):
    response = operator_client.post(
        "/providers/ollama/configure",
        {"auth_method": "local_endpoint", "endpoint_url": fake_ollama.url},
    )
    assert response.status_code == 302
    page = operator_client.get("/providers/ollama/").content.decode()
    assert "This machine&#x27;s server" in page and fake_ollama.url in page and "0.12.3" in page
    assert "137M" in page  # a model's parameter size, in the default-model choices
    assert HealthSnapshot.objects.get().trigger == "wizard"


def test_the_wizard_connects_the_llama_server_binary(operator_client, llama_binary):
    response = operator_client.post(
        "/providers/llamacpp/configure",
        {"auth_method": "local_runtime", "runtime_path": llama_binary},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response["HX-Retarget"] == "#wizard"
    assert "4589 (c6e8cc28)" in html and llama_binary in html


def test_the_wizard_explains_a_refused_binary_next_to_the_form(operator_client, tmp_path):
    missing = str(tmp_path / "llama-server")
    response = operator_client.post(
        "/providers/llamacpp/configure",
        {"auth_method": "local_runtime", "runtime_path": missing},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'data-outcome="runtime_missing"' in html
    assert html.lstrip().startswith('<div id="verify-result"') and "Nothing was saved" in html
