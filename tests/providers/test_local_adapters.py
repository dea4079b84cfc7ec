"""The local runtimes' endpoints against the contract, with the real bodies of providers.md §4a
(Ollama), §14 (llama.cpp) and §15 (MLX), plus what only local servers do."""

from __future__ import annotations

import json

import responses

from providers.registry import PROVIDERS
from providers.values import Credential
from providers.values import Outcome as O
from tests.fake_local import (
    LLAMA_BAD_KEY,
    LLAMA_LOADING,
    LLAMA_MODEL,
    LLAMA_MODELS,
    LLAMA_NOT_FOUND,
    LLAMA_PROPS,
    MLX_MODELS,
    OLLAMA_SHOW,
    OLLAMA_TAGS,
)
from tests.providers.contract import ProviderContract


def ollama_show(request):
    name = json.loads(request.body)["model"]
    if name in OLLAMA_SHOW:
        return 200, {"Content-Type": "application/json"}, json.dumps(OLLAMA_SHOW[name])
    return (
        404,
        {"Content-Type": "application/json"},
        json.dumps({"error": f"model '{name}' not found"}),
    )


class TestOllamaLocal(ProviderContract):
    provider_id = "ollama"
    auth_method = "local_endpoint"
    # Ollama takes no key; this one is an authenticating proxy's, sent when given.
    key = "proxy-key-for-ollama-0123456789abcdef"
    ROUTES = {
        "/api/version": {"version": "0.12.3"},
        "/api/tags": OLLAMA_TAGS,
        "POST /api/show": ollama_show,
    }
    MODELS_PATH = "/api/tags"
    EXPECTED_MODELS = ["llama3.2:latest", "nomic-embed-text:latest"]
    FAILURES = {
        "proxy_refuses": (
            "/api/version",
            401,
            "<html><body><h1>401 Authorization Required</h1></body></html>",
            O.INVALID_CREDENTIALS,
        ),
        "cloud_model_unreachable": (
            "/api/tags",
            502,
            {"error": "cloud model unreachable"},
            O.PROVIDER_UNAVAILABLE,
        ),
        "server_error": (
            "/api/tags",
            500,
            {"error": "llama runner exited"},
            O.PROVIDER_UNAVAILABLE,
        ),
        "old_server_without_tags": ("/api/tags", 404, "404 page not found", O.ENDPOINT_NOT_FOUND),
    }

    @responses.activate
    def test_it_reads_each_models_details_from_tags_and_show(self):
        self.register(responses)
        result = self.provider.verify(self.credential())
        models = {m.id: m for m in result.models}
        llama, embed = models["llama3.2:latest"], models["nomic-embed-text:latest"]
        assert (llama.size_bytes, llama.family, llama.parameter_size, llama.quantization) == (
            2019393189,
            "llama",
            "3.2B",
            "Q4_K_M",
        )
        assert llama.capabilities == ("chat",) and llama.context_length == 131072
        assert embed.capabilities == ("embedding",) and embed.context_length == 2048
        assert result.details == {"version": "0.12.3"}
        assert result.message == "Ollama answers at 127.0.0.1:11434."

    @responses.activate
    def test_it_guesses_capabilities_when_show_fails_and_says_so(self):
        self.register(responses, {"POST /api/show": (500, {"error": "boom"}, {})})
        result = self.provider.verify(self.credential())
        assert result.ok
        models = {m.id: m for m in result.models}
        assert models["nomic-embed-text:latest"].capabilities == ("embedding",)
        assert any("could not be read from /api/show" in n for n in result.notes)

    @responses.activate
    def test_it_sends_no_key_when_none_is_given(self):
        self.register(responses)
        result = self.provider.verify(self.credential(api_key=""))
        assert result.ok
        assert all("Authorization" not in c.request.headers for c in responses.calls)

    @responses.activate
    def test_it_takes_capabilities_from_tags_when_the_server_lists_them(self):
        tags = json.loads(json.dumps(OLLAMA_TAGS))
        tags["models"][0]["capabilities"] = ["completion", "vision"]
        self.register(responses, {"/api/tags": (200, tags, {})})
        models = {m.id: m for m in self.provider.verify(self.credential()).models}
        assert set(models["llama3.2:latest"].capabilities) >= {"chat"}

    def test_it_speaks_of_the_local_server_when_nothing_answers(self, settings):
        result = self.provider.verify(self.credential(endpoint_url="http://127.0.0.1:9"))
        assert result.outcome == O.UNREACHABLE
        assert "Nothing answers at 127.0.0.1:9" in result.message
        assert "ollama serve" in result.remedy and "https" not in result.remedy


class TestLlamaCppEndpoint(ProviderContract):
    provider_id = "llamacpp"
    auth_method = "local_endpoint"
    key = "lcpp-Key-0123456789abcdefWXYZ"
    ROUTES = {"/health": {"status": "ok"}, "/v1/models": LLAMA_MODELS, "/props": LLAMA_PROPS}
    MODELS_PATH = "/v1/models"
    EXPECTED_MODELS = [LLAMA_MODEL]
    FAILURES = {
        "loading": ("/health", 503, LLAMA_LOADING, O.PROVIDER_UNAVAILABLE),
        "bad_key": ("/props", 401, LLAMA_BAD_KEY, O.INVALID_CREDENTIALS),
        "api_prefix_missing": ("/v1/models", 404, LLAMA_NOT_FOUND, O.ENDPOINT_NOT_FOUND),
    }

    def base(self) -> str:
        return "http://127.0.0.1:8080"

    @responses.activate
    def test_it_says_the_model_is_still_loading(self):
        self.register(responses, {"/health": (503, LLAMA_LOADING, {})})
        result = self.provider.verify(self.credential(endpoint_url=self.base()))
        assert result.outcome == O.PROVIDER_UNAVAILABLE and result.outcome.is_transient
        assert "still loading the model" in result.message and "Wait" in result.remedy

    @responses.activate
    def test_it_proves_the_key_with_props_not_with_the_public_routes(self):
        self.register(responses)
        result = self.provider.verify(self.credential(endpoint_url=self.base()))
        assert result.ok
        props = [c for c in responses.calls if c.request.url.endswith("/props")]
        assert props and props[0].request.headers["Authorization"] == f"Bearer {self.key}"
        assert result.details == {
            "build": "b4589-c6e8cc28",
            "model": f"/models/{LLAMA_MODEL}",
        }

    @responses.activate
    def test_it_says_when_the_server_wants_a_key_that_was_not_given(self):
        self.register(responses, {"/props": (401, LLAMA_BAD_KEY, {})})
        result = self.provider.verify(self.credential(api_key="", endpoint_url=self.base()))
        assert result.outcome == O.INVALID_CREDENTIALS
        assert "asks for an API key" in result.message and "--api-key" in result.remedy

    @responses.activate
    def test_it_notes_an_old_build_without_props(self):
        self.register(responses, {"/props": (404, LLAMA_NOT_FOUND, {})})
        result = self.provider.verify(self.credential(endpoint_url=self.base()))
        assert result.ok and any("no /props" in n for n in result.notes)

    @responses.activate
    def test_it_reads_context_length_and_size_from_the_model_meta(self):
        self.register(responses)
        (model,) = self.provider.verify(self.credential(endpoint_url=self.base())).models
        assert (model.context_length, model.size_bytes) == (32768, 4677120000)

    @responses.activate
    def test_it_tries_the_current_default_port_when_the_endpoint_is_blank(self):
        self.register(responses, base="http://127.0.0.1:9931")
        result = self.provider.verify(self.credential())  # nothing on 8080 (unreachable)
        assert result.ok, result.message
        assert result.resolved_values == {"endpoint_url": "http://127.0.0.1:9931"}
        assert any("9931" in note for note in result.notes)

    @responses.activate
    def test_it_does_not_try_another_port_for_an_endpoint_the_operator_gave(self):
        self.register(responses, base="http://127.0.0.1:9931")
        result = self.provider.verify(self.credential(endpoint_url="http://127.0.0.1:8080"))
        assert result.outcome == O.UNREACHABLE
        assert all(":9931" not in c.request.url for c in responses.calls)


class TestMLXEndpoint(ProviderContract):
    provider_id = "mlx"
    auth_method = "local_endpoint"
    key = ""  # mlx_lm.server has no auth at all
    ROUTES = {"/health": {"status": "ok"}, "/v1/models": MLX_MODELS}
    EXPECTED_MODELS = ["mlx-community/Llama-3.2-3B-Instruct-4bit"]
    FAILURES = {
        # Plain text although the Content-Type says JSON (mlx_lm/server.py).
        "wrong_path": ("/v1/models", 404, "Not Found", O.ENDPOINT_NOT_FOUND),
        "bad_gateway": ("/health", 502, "Bad Gateway", O.PROVIDER_UNAVAILABLE),
    }


class TestLlamaCppPorts:
    """A blank endpoint tries both usual ports and reports the one that answered."""

    provider = PROVIDERS["llamacpp"]

    @responses.activate
    def test_it_reports_the_server_that_answered_even_when_it_refuses(self):
        responses.add("GET", "http://127.0.0.1:9931/health", json={"status": "ok"})
        responses.add("GET", "http://127.0.0.1:9931/v1/models", json=LLAMA_MODELS)
        responses.add("GET", "http://127.0.0.1:9931/props", status=401, json=LLAMA_BAD_KEY)
        result = self.provider.verify(Credential("local_endpoint"))  # nothing on 8080
        assert result.outcome == O.INVALID_CREDENTIALS and "asks for an API key" in result.message
        assert result.probe == "GET http://127.0.0.1:9931/props"
        assert any("127.0.0.1:8080" in note for note in result.notes)

    @responses.activate  # nothing registered: both ports refuse, whatever runs on this machine
    def test_it_names_every_port_it_tried_when_nothing_answers(self):
        result = self.provider.verify(Credential("local_endpoint"))
        assert result.outcome == O.UNREACHABLE and "127.0.0.1:8080" in result.message
        assert any("http://127.0.0.1:9931" in note for note in result.notes)
