"""`manage.py import_env_credentials`: conventional variables from a .env file, verified through
the normal lifecycle (providers faked at the HTTP layer with their real bodies)."""

from __future__ import annotations

import io

import pytest
import responses
from django.core.management import call_command

from connections.models import Connection, HealthSnapshot
from koda.models import AuditEvent
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db

GROQ_KEY = "gsk_ImportGood0123456789abcdefABCDEFGHIJKLMNOP"
ANTHROPIC_BAD = "sk-ant-api03-ImportBad0123456789abcdefABCDEFGHIJKLMN"
OPENAI_KEY = "sk-proj-ImportGood0123456789abcdefABCDEFGHIJKLMNOPQ"
OLD_OPENAI = "sk-proj-StoredWorking0123456789abcdefABCDEFGHIJKLMN"
MODELS = {"object": "list", "data": [{"id": "llama-3.1-8b-instant", "object": "model"}]}
OPENAI_MODELS = {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}
ANTHROPIC_401 = {
    "type": "error",
    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
}
OPENAI_401 = {
    "error": {
        "message": "Incorrect API key provided: sk-proj-****MNOP.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
ENV = f"""# an app's .env
GROQ_API_KEY={GROQ_KEY}
ANTHROPIC_API_KEY="{ANTHROPIC_BAD}"
OPENAI_API_KEY={OPENAI_KEY}
OPENAI_ORG_ID=org-Import
OPENAI_PROJECT_ID=proj_Import
MISTRAL_BASE_URL=https://gateway.example/v1
DEEPSEEK_API_KEY=
DATABASE_URL=postgres://app@db/app
"""
KEYS = (GROQ_KEY, ANTHROPIC_BAD, OPENAI_KEY, OLD_OPENAI)


def run(path, *args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import_env_credentials", "--file", str(path), *args, stdout=out)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue()


def fake_providers(rsps, *, openai_ok: bool = True) -> None:
    rsps.add("GET", "https://api.groq.com/openai/v1/models", json=MODELS)
    rsps.add(
        "GET", "https://api.anthropic.com/v1/models?limit=1000", status=401, json=ANTHROPIC_401
    )
    if openai_ok:
        rsps.add("GET", "https://api.openai.com/v1/models", json=OPENAI_MODELS)
    else:
        rsps.add("GET", "https://api.openai.com/v1/models", status=401, json=OPENAI_401)


@pytest.fixture
def env_file(tmp_path):
    path = tmp_path / ".env"
    path.write_text(ENV)
    return path


def test_it_stores_what_verifies_refuses_the_rest_and_never_prints_a_key(env_file):
    with responses.RequestsMock() as rsps:
        fake_providers(rsps)
        code, out = run(env_file)
        sent = [c.request for c in rsps.calls if "openai.com" in c.request.url]
    assert code == 1  # one was refused
    stored = {c.provider_id: c for c in Connection.objects.all()}
    assert set(stored) == {"groq", "openai"}
    assert stored["openai"].config == {"organization": "org-Import", "project": "proj_Import"}
    assert sent[0].headers["OpenAI-Organization"] == "org-Import"
    lines = {line.split()[0]: line for line in out.splitlines() if line and line[0].isalpha()}
    assert "stored" in lines["groq"] and "[GROQ_API_KEY]" in lines["groq"]
    assert "refused" in lines["anthropic"] and "— invalid_credentials" in lines["anthropic"]
    assert "skipped — a base URL but no key" in lines["mistral"]
    assert "deepseek" not in lines  # an empty variable is not a credential
    assert "Remove them from" in out and "GROQ_API_KEY" in out and "OPENAI_ORG_ID" in out
    assert not any(key in out for key in KEYS)
    assert f"…{OPENAI_KEY[-4:]}" in lines["openai"]  # the hint, as everywhere
    assert AuditEvent.objects.filter(action="connection.configure", via="command").count() == 2
    refused = AuditEvent.objects.get(action="connection.configure_refused")
    assert refused.diff["secret_hint"].endswith(ANTHROPIC_BAD[-4:])


def test_a_dry_run_verifies_and_changes_nothing(env_file):
    with responses.RequestsMock() as rsps:
        fake_providers(rsps)
        code, out = run(env_file, "--dry-run")
        assert len(rsps.calls) == 3
    assert code == 1
    assert "would be stored" in out and "would be refused" in out
    assert "Remove them" not in out
    assert not Connection.objects.exists()
    assert not HealthSnapshot.objects.exists() and not AuditEvent.objects.exists()


def test_a_working_stored_key_is_never_replaced_by_a_failing_one(tmp_path):
    make_connection("openai", api_key=OLD_OPENAI, status="verified")
    path = tmp_path / ".env"
    path.write_text(f"OPENAI_API_KEY={OPENAI_KEY}\n")
    with responses.RequestsMock() as rsps:
        fake_providers(rsps, openai_ok=False)
        rsps.assert_all_requests_are_fired = False
        code, out = run(path)
    assert code == 1 and "the stored credential is kept" in out
    assert Connection.objects.get(provider_id="openai").credential.get("api_key") == OLD_OPENAI


def test_importing_the_same_file_again_asks_no_provider_anything(tmp_path):
    path = tmp_path / ".env"
    path.write_text(f"GROQ_API_KEY={GROQ_KEY}\n")
    with responses.RequestsMock() as rsps:
        rsps.add("GET", "https://api.groq.com/openai/v1/models", json=MODELS)
        assert run(path)[0] == 0
        code, out = run(path)
        assert len(rsps.calls) == 1
    assert code == 0 and "unchanged" in out


def test_ollama_host_imports_the_local_server(tmp_path, fake_ollama, settings):
    path = tmp_path / ".env"
    port = fake_ollama.url.rsplit(":", 1)[1]
    path.write_text(f"OLLAMA_HOST=0.0.0.0:{port}\nOLLAMA_API_KEY=ollama-cloud-key-0123456789\n")
    code, out = run(path)
    assert code == 0, out
    connection = Connection.objects.get(provider_id="ollama")
    assert connection.auth_method == "local_endpoint"
    assert connection.config["endpoint_url"] == f"http://127.0.0.1:{port}"


def test_a_missing_file_is_a_clear_error(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("import_env_credentials", "--file", str(tmp_path / "nope"))
