"""Errors outside a view's own handling: a lost database is a clear 503 (JSON under /api/, a
page elsewhere, never a traceback), a host Koda does not serve is a 400 in the same shapes."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]

# Runs in a process of its own whose DATABASE_URL points at a port nothing listens on: the
# database is really out of reach (nothing here is faked).
PROBE = """
import json
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies["koda_operator_session"] = "a-session-the-database-would-have-to-read"
out = {}
for path, headers in [
    ("/healthz", {}),
    ("/api/control-plane/connections/catalog", {"HTTP_AUTHORIZATION": "Bearer koda_abc"}),
    ("/api/control-plane/providers/openai/connection", {}),
    ("/", {}),
    ("/providers/openai/", {}),
]:
    r = client.get(path, **headers)
    out[path] = {
        "status": r.status_code,
        "type": r.headers.get("Content-Type", ""),
        "retry": r.headers.get("Retry-After"),
        "body": r.content.decode(),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KODA_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="koda.settings",
        KODA_ENV_FILE="",
        KODA_DATA_DIR=str(tmp_path_factory.mktemp("nodb")),
        KODA_SECRET_KEY=secrets.token_urlsafe(50),
        KODA_ENCRYPTION_KEY=secrets.token_urlsafe(50),
        KODA_ALLOWED_HOSTS="testserver",
        KODA_SECURE_SSL_REDIRECT="false",
        DATABASE_URL="postgres://koda@127.0.0.1:1/koda?connect_timeout=2",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_healthz_says_the_database_is_unavailable(answers):
    health = answers["/healthz"]
    assert health["status"] == 503 and health["retry"] == "5"
    assert json.loads(health["body"]) == {"status": "database_unavailable"}


@pytest.mark.parametrize(
    "path",
    ["/api/control-plane/connections/catalog", "/api/control-plane/providers/openai/connection"],
)
def test_the_api_answers_503_in_the_error_shape(answers, path):
    answer = answers[path]
    assert answer["status"] == 503, answer
    assert answer["type"] == "application/json" and answer["retry"] == "5"
    error = json.loads(answer["body"])["error"]
    assert error["code"] == "database_unavailable" and "database" in error["message"]


@pytest.mark.parametrize("path", ["/", "/providers/openai/"])
def test_pages_answer_a_plain_503_page(answers, path):
    answer = answers[path]
    assert answer["status"] == 503, answer
    assert answer["type"].startswith("text/html")
    assert "Koda cannot reach its database" in answer["body"]
    assert "Traceback" not in answer["body"] and "OperationalError" not in answer["body"]


@pytest.mark.django_db
def test_a_host_koda_does_not_serve_gets_a_400_in_the_right_shape():
    client = Client()
    api = client.get("/api/control-plane/connections/catalog", HTTP_HOST="evil.example")
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "bad_request"
    page = client.get("/login/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert "evil.example" not in page.content.decode()


def test_an_api_path_with_an_encoded_newline_is_a_json_404(api):
    """Found by the fuzzer: "." in the catch-all did not match a newline, so Django's HTML 404
    answered instead of the error shape."""
    response = api.get("/agents/a%0Ab/model-policy/versions")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "method, path",
    [
        ("DELETE", "/providers/ollama/models/llama3%0A.2"),
        ("POST", "/providers/embedding/models/text%0Aembed/select"),
    ],
)
def test_a_model_name_with_an_encoded_newline_reaches_its_operation(api, method, path):
    """Found by the fuzzer: <path:> stops at a newline, so such a name fell to the catch-all's
    404. The operation's own view answers it, in the error shape."""
    response = api.call(method, path)  # the client checks it against the operation's document
    assert response.json()["error"]["code"] != "not_found"  # the operation answered
