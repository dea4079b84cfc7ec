"""Gateway-aware verification against a real LiteLLM proxy (requirements-litellm.txt), offline:
its upstream is a fake OpenAI on 127.0.0.1 that answers as OpenAI does (an empty `messages`
list is a 400), and key states come from its custom-auth hook (tests/integration/litellm_auth.py).

Skipped unless KODA_LITELLM names the `litellm` executable (`make litellm` installs it into
.venv-litellm; CI always runs these). The proxy takes ~20 s to start, once per module.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from providers.fields import AuthMethod
from providers.registry import PROVIDERS
from providers.values import Credential, Outcome
from tests.fake_http import QuietHandler

LITELLM = os.environ.get("KODA_LITELLM", "")
if (not LITELLM or not Path(LITELLM).exists()) and os.environ.get("CI"):
    # Under CI a skipped gateway suite must never pass for a green run (like the browser's).
    raise RuntimeError("KODA_LITELLM must name the litellm executable under CI (make litellm)")
pytestmark = pytest.mark.skipif(
    not LITELLM or not Path(LITELLM).exists(), reason="KODA_LITELLM is not set (make litellm)"
)
HERE = Path(__file__).resolve().parent
EMPTY = {
    "error": {
        "message": "[] is too short - 'messages'",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "empty_array",
    }
}


class Upstream(QuietHandler):
    """OpenAI as LiteLLM's upstream: it refuses the empty chat request, generates nothing."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.server.chats.append(body)
        if not body.get("messages"):
            return self._send(400, EMPTY)
        return self._send(500, {"error": {"message": "this fake never generates"}})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    upstream.chats = []
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    work = tmp_path_factory.mktemp("litellm")
    (work / "config.yaml").write_text(
        "model_list:\n"
        "  - model_name: team-gpt\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: http://127.0.0.1:{upstream.server_address[1]}/v1\n"
        "      api_key: upstream-key-of-the-gateway\n"
        "general_settings:\n"
        "  custom_auth: litellm_auth.user_api_key_auth\n"
    )
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "PYTHONPATH": str(HERE),
        "LITELLM_MASTER_KEY": "sk-master-koda-tests-0123456789abcdef",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # never fetch the cost map from the internet
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "*",
    }
    log = open(work / "litellm.log", "wb")  # a file, not a pipe: a full pipe would stall it
    process = subprocess.Popen(
        [
            LITELLM,
            "--config",
            str(work / "config.yaml"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((work / "litellm.log").read_text()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError("LiteLLM did not start within 90 s")
    yield {"base": f"http://127.0.0.1:{port}", "upstream": upstream}
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    upstream.shutdown()


@pytest.fixture(autouse=True)
def _private_ok(settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True


def verify(provider_id: str, base: str, key: str):
    credential = Credential(AuthMethod.API_KEY, {"base_url": base}, {"api_key": key})
    return PROVIDERS[provider_id].verify(credential)


@pytest.mark.parametrize("provider_id", ["openai", "groq", "mistral", "perplexity"])
def test_a_good_key_verifies_and_the_budget_is_proved_without_generating(proxy, provider_id):
    asked = len(proxy["upstream"].chats)
    result = verify(provider_id, proxy["base"] + "/v1", "sk-good-0123456789abcdef")
    assert result.ok, (result.message, result.raw_error)
    assert [m.id for m in result.models] == ["team-gpt"]
    assert any("passed Koda's empty chat request upstream" in n for n in result.notes), result.notes
    sent = proxy["upstream"].chats[asked:]
    assert len(sent) == 1 and sent[0]["messages"] == []  # the one request, with nothing to answer


@pytest.mark.parametrize(
    ("key", "outcome", "text"),
    [
        ("sk-budget-0123456789abcdef", Outcome.BILLING, "Budget has been exceeded"),
        ("sk-blocked-0123456789abcdef", Outcome.REVOKED_CREDENTIALS, "Key is blocked"),
        ("sk-expired-0123456789abcdef", Outcome.REVOKED_CREDENTIALS, "Expired Key"),
        ("sk-unknown-0123456789abcdef", Outcome.INVALID_CREDENTIALS, "Invalid proxy server token"),
        ("sk-nodb-0123456789abcdef", Outcome.PROVIDER_UNAVAILABLE, "misconfigured"),
    ],
    ids=["budget", "blocked", "expired", "unknown", "no_db"],
)
def test_each_key_state_reads_as_what_it_is(proxy, key, outcome, text):
    result = verify("openai", proxy["base"] + "/v1", key)
    assert result.outcome == outcome, (result.message, result.raw_error)
    assert text in result.message
    assert "platform.openai.com" not in result.remedy
    assert key not in result.raw_error + result.message


def test_the_budget_is_proved_for_a_key_info_provider_too(proxy):
    # OpenRouter's /key is not at LiteLLM: skipped with a note, then the model list and budget.
    result = verify("openrouter", proxy["base"] + "/v1", "sk-budget-0123456789abcdef")
    assert result.outcome == Outcome.BILLING
    assert any("no /key" in n for n in result.notes)
