"""Local OpenAI-compatible servers: llama.cpp's `llama-server` and MLX's `mlx_lm.server`.

Each is either a running server (`local_endpoint`, checked over HTTP) or a binary on the Koda
host (`local_runtime`, checked through the process seam). Facts: providers.md §14, §15."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from providers.fields import (
    AuthMethod,
    Method,
    api_key_field,
    endpoint_url_field,
    runtime_path_field,
)
from providers.http import ProbeResponse
from providers.runtime import check_binary, is_apple_silicon
from providers.values import (
    Capability,
    Credential,
    Model,
    Outcome,
    RuntimeAccess,
    Verdict,
    VerificationResult,
)
from providers.verification import ErrorFields, HttpProvider, Probe, text

# `llama-server --version` prints (to stderr) `version: 4589 (c6e8cc28)` in older builds and
# `version: 0.4.1-dev (build 10991, commit 930e2fa59)` in 2026 builds, then `built with …`
# (llama.cpp#4433, #28971); backend-loading lines may come first.
_LLAMA_VERSION = re.compile(r"^version: (?P<version>\S.*?)\s*$", re.M)
_LLAMA_BUILT = re.compile(r"^built with (?P<built>\S.*?)\s*$", re.M)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _llama_models(body: Any) -> list[Model]:
    """`data` of /v1/models (the Ollama-style `models` list beside it is ignored)."""
    models = []
    for item in body["data"]:
        meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
        models.append(
            Model.of(
                item["id"],
                capabilities=["chat"],
                context_length=_int(meta.get("n_ctx")) or _int(meta.get("n_ctx_train")),
                size_bytes=_int(meta.get("size")),
            )
        )
    return models


def _llama_version(output: str) -> dict[str, str] | None:
    version = _LLAMA_VERSION.search(output)
    if version is None:
        return None
    built = _LLAMA_BUILT.search(output)
    facts = {"version": version.group("version")[:100]}
    if built:
        facts["built_with"] = built.group("built")[:200]
    return facts


def _local_runtime_access(credential: Credential, base_url: str, program: str) -> RuntimeAccess:
    """A running server speaks the OpenAI-compatible API under /v1; a binary is for the runtime
    to start itself."""
    if credential.method == AuthMethod.LOCAL_RUNTIME:
        return RuntimeAccess(program, paths={"binary": credential.get("runtime_path")})
    return RuntimeAccess("openai", base_url + "/v1")


class LlamaCpp(HttpProvider):
    id = "llamacpp"
    name = "llama.cpp"
    kind = "local"
    docs_url = "https://github.com/ggml-org/llama.cpp/tree/master/tools/server"
    default_base_url = "http://127.0.0.1:8080"
    # With the endpoint left blank, both usual ports are tried: older builds listen on 8080,
    # current ones on 9931 (providers.md §14); a web app on 8080 answers 404, not llama.cpp.
    alternate_base_urls = ("http://127.0.0.1:9931",)
    retry_on = frozenset({Outcome.UNREACHABLE, Outcome.ENDPOINT_NOT_FOUND})
    methods = (
        Method(
            AuthMethod.LOCAL_ENDPOINT,
            "A running server",
            (
                endpoint_url_field(
                    help="Where llama-server listens. Leave empty to try 127.0.0.1:8080 "
                    "(older builds) and 127.0.0.1:9931 (current builds' default); add the "
                    "--api-prefix path if the server was started with one."
                ),
                api_key_field(
                    required=False,
                    label="API key (if started with --api-key)",
                    help="The key llama-server was started with; /props proves it.",
                ),
            ),
            help="A llama-server that is already running.",
        ),
        Method(
            AuthMethod.LOCAL_RUNTIME,
            "The binary path",
            (
                runtime_path_field(
                    "llama-server path",
                    "The llama-server binary on the Koda host, e.g. /usr/local/bin/llama-server.",
                ),
            ),
            help="The llama-server program installed on this machine.",
        ),
    )
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING})
    good_for = "GGUF models on CPU or GPU with no cloud dependency."
    start_hint = "Start llama-server (llama-server -m model.gguf)."

    @property
    def key_remedy(self) -> str:
        return "Enter the key llama-server was started with (--api-key or --api-key-file)."

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        return _local_runtime_access(credential, self.base_url(credential), "llama-server")

    def check(self, credential: Credential) -> VerificationResult:
        if credential.method == AuthMethod.LOCAL_RUNTIME:
            return check_binary(
                self,
                credential.get("runtime_path"),
                args=["--version"],
                recognise=_llama_version,
                program="llama-server",
            )
        return super().check(credential)

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [
            Probe("GET", "/health"),
            Probe("GET", "/v1/models", models=_llama_models),
            # /health and /v1/models are public (they never check a key); /props is protected,
            # so it proves a key, and tells whether the server needs one at all.
            Probe(
                "GET",
                "/props",
                expect=lambda response, notes: self._props(
                    response, notes, has_key=bool(credential.get("api_key"))
                ),
                details=self._build,
            ),
        ]

    def _props(self, response: ProbeResponse, notes: list[str], *, has_key: bool) -> Verdict | None:
        if response.status == 404:
            notes.append("This build has no /props, so an API key could not be checked.")
            return None
        if response.status == 401:
            if has_key:
                message = "llama-server refused the key: it is not one it was started with."
            else:
                message = "llama-server asks for an API key: it was started with --api-key."
            return Verdict(Outcome.INVALID_CREDENTIALS, message, self.key_remedy)
        return self.expect_success(response, notes)

    @staticmethod
    def _build(body: Any) -> dict[str, str]:
        if not isinstance(body, dict):
            return {}
        facts = {
            "build": text(body.get("build_info"), 100),
            "model": text(body.get("model_path"), 300),
        }
        return {k: v for k, v in facts.items() if v}

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        if response.status == 503 and (fields.type == "unavailable_error" or fields.has("Loading")):
            return Verdict(
                Outcome.PROVIDER_UNAVAILABLE,
                f"llama-server at {response.url.rsplit('/', 1)[0]} is still loading the model.",
                "Wait until the model has loaded (large models take minutes), then verify again.",
            )
        return None


class MLX(HttpProvider):
    id = "mlx"
    name = "MLX"
    kind = "local"
    docs_url = "https://github.com/ml-explore/mlx-lm/blob/main/mlx_lm/SERVER.md"
    default_base_url = "http://127.0.0.1:8080"
    methods = (
        Method(
            AuthMethod.LOCAL_ENDPOINT,
            "A running server",
            (endpoint_url_field("http://127.0.0.1:8080"),),
            help="An mlx_lm.server that is already running (it takes no key).",
        ),
        Method(
            AuthMethod.LOCAL_RUNTIME,
            "The binary path",
            (
                runtime_path_field(
                    "mlx_lm.server path",
                    "The mlx_lm.server program on the Koda host (Apple silicon only).",
                ),
            ),
            help="mlx_lm.server installed on this Mac.",
        ),
    )
    capabilities = frozenset({Capability.CHAT})
    good_for = "Fast local inference on Apple silicon Macs."
    start_hint = "Start the server (mlx_lm.server --model <repo or path>)."

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        return _local_runtime_access(credential, self.base_url(credential), "mlx_lm.server")

    def check(self, credential: Credential) -> VerificationResult:
        if credential.method == AuthMethod.LOCAL_RUNTIME:
            if not is_apple_silicon():
                return self.result(
                    Verdict(
                        Outcome.UNSUPPORTED_HOST,
                        "MLX runs only on Apple silicon Macs; this Koda host is not one.",
                        "Run mlx_lm.server on a Mac and connect it as a running server "
                        "(endpoint URL) instead.",
                    ),
                    started=datetime.now(UTC),
                )
            return check_binary(
                self,
                credential.get("runtime_path"),
                args=["--help"],
                recognise=lambda out: {} if "--model" in out else None,
                program="mlx_lm.server",
            )
        return super().check(credential)

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [Probe("GET", "/health"), Probe("GET", "/v1/models", models=_mlx_models)]


def _mlx_models(body: Any) -> list[Model]:
    # Every Hugging Face repo in the server's cache with a model in it (loaded on demand).
    return [Model.of(item["id"], capabilities=["chat"]) for item in body["data"]]
