"""Fake local runtimes over real HTTP on 127.0.0.1, speaking the formats of providers.md:
Ollama (§4a), llama.cpp's llama-server (§14) and MLX's mlx_lm.server (§15).

Used by the API, wizard and browser tests, and by hand to try the wizard from `make run`:

    .venv/bin/python -m tests.fake_local --kind ollama --port 11434
    .venv/bin/python -m tests.fake_local --kind llamacpp --port 9931 --api-key secret-key

Knobs (attributes of the server, changeable while it runs): `api_key` (llama-server started
with --api-key; for Ollama, an authenticating proxy in front), `loading` (llama-server still
loading its model: 503 everywhere), `pull_delay` (seconds between lines of a pull).

Ollama pulls stream NDJSON as the real server does (server/images.go): `pulling manifest`, per
layer `pulling <digest>` with `total`/`completed`, `verifying sha256 digest`, `writing
manifest`, `success`; a pulled model joins /api/tags. `missing-model` fails after the manifest
line and `flaky` fails midway, each with an `{"error": …}` line under HTTP 200.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import ThreadingHTTPServer

from tests.fake_http import QuietHandler

OLLAMA_TAGS = {
    "models": [
        {
            "name": "llama3.2:latest",
            "model": "llama3.2:latest",
            "modified_at": "2026-10-01T12:00:00.000000Z",
            "size": 2019393189,
            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama"],
                "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M",
            },
        },
        {
            "name": "nomic-embed-text:latest",
            "model": "nomic-embed-text:latest",
            "modified_at": "2026-09-12T08:30:00.000000Z",
            "size": 274302450,
            "digest": "0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "nomic-bert",
                "families": ["nomic-bert"],
                "parameter_size": "137M",
                "quantization_level": "F16",
            },
        },
    ]
}
OLLAMA_SHOW = {
    "llama3.2:latest": {
        "license": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT",
        "modelfile": "FROM /root/.ollama/models/blobs/sha256-dde5aa3fc5ff",
        "parameters": 'stop "<|eot_id|>"',
        "template": "{{ .Prompt }}",
        "details": OLLAMA_TAGS["models"][0]["details"],
        "model_info": {
            "general.architecture": "llama",
            "general.parameter_count": 3212749888,
            "llama.context_length": 131072,
            "llama.embedding_length": 3072,
        },
        "capabilities": ["completion", "tools"],
        "modified_at": "2026-10-01T12:00:00.000000Z",
    },
    "nomic-embed-text:latest": {
        "license": "Apache License 2.0",
        "modelfile": "FROM /root/.ollama/models/blobs/sha256-970aa74c0a90",
        "parameters": "num_ctx 8192",
        "template": "{{ .Prompt }}",
        "details": OLLAMA_TAGS["models"][1]["details"],
        "model_info": {
            "general.architecture": "nomic-bert",
            "nomic-bert.context_length": 2048,
            "nomic-bert.embedding_length": 768,
        },
        "capabilities": ["embedding"],
        "modified_at": "2026-09-12T08:30:00.000000Z",
    },
}
LLAMA_MODEL = "qwen2.5-7b-instruct-q4_k_m.gguf"
# The key the tests' llama-server is started with (--api-key).
LLAMA_KEY = "lcpp-Key-0123456789abcdefWXYZ"
LLAMA_MODELS = {
    "object": "list",
    "data": [
        {
            "id": LLAMA_MODEL,
            "object": "model",
            "created": 1764547200,
            "owned_by": "llamacpp",
            "meta": {
                "vocab_type": 2,
                "n_vocab": 152064,
                "n_ctx_train": 32768,
                "n_embd": 3584,
                "n_params": 7615616512,
                "size": 4677120000,
            },
        }
    ],
    "models": [{"name": LLAMA_MODEL, "model": LLAMA_MODEL, "type": "model"}],
}
LLAMA_PROPS = {
    "default_generation_settings": {"n_ctx": 8192, "params": {"temperature": 0.8}},
    "total_slots": 1,
    "model_path": f"/models/{LLAMA_MODEL}",
    "chat_template": "{% for message in messages %}…{% endfor %}",
    "modalities": {"vision": False, "audio": False},
    "build_info": "b4589-c6e8cc28",
    "is_sleeping": False,
}
LLAMA_LOADING = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
LLAMA_BAD_KEY = {
    "error": {"message": "Invalid API Key", "type": "authentication_error", "code": 401}
}
LLAMA_NOT_FOUND = {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}}
MLX_MODELS = {
    "object": "list",
    "data": [
        {"id": "mlx-community/Llama-3.2-3B-Instruct-4bit", "object": "model", "created": 1764547200}
    ],
}


class Handler(QuietHandler):
    server: FakeLocalServer

    def do_GET(self) -> None:
        self.server.hits.append(("GET", self.path))
        getattr(self, f"_{self.server.kind}")("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = json.loads(self.rfile.read(length) or b"{}")
        self.server.hits.append(("POST", self.path))
        getattr(self, f"_{self.server.kind}")("POST")

    def do_DELETE(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = json.loads(self.rfile.read(length) or b"{}")
        self.server.hits.append(("DELETE", self.path))
        getattr(self, f"_{self.server.kind}")("DELETE")

    def _key(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ") or self.headers.get(
            "X-Api-Key", ""
        )

    def _ollama(self, method: str) -> None:
        if self.server.api_key and self._key() != self.server.api_key:
            # An authenticating reverse proxy in front of Ollama.
            self._send(
                401, "<html><body><h1>401 Authorization Required</h1></body></html>", "text/html"
            )
        elif (method, self.path) == ("GET", "/api/version"):
            self._send(200, {"version": "0.12.3"})
        elif (method, self.path) == ("GET", "/api/tags"):
            self._send(200, {"models": self.server.ollama_models})
        elif (method, self.path) == ("POST", "/api/pull"):
            self._pull(self.body.get("model") or self.body.get("name") or "")
        elif (method, self.path) == ("DELETE", "/api/delete"):
            name = self.body.get("model", "")
            kept = [m for m in self.server.ollama_models if m["name"] != name]
            if len(kept) == len(self.server.ollama_models):
                self._send(404, {"error": f"model '{name}' not found"})
            else:
                self.server.ollama_models[:] = kept
                self._send(200, "", "text/plain")
        elif (method, self.path) == ("POST", "/api/show"):
            name = self.body.get("model", "")
            if name in OLLAMA_SHOW:
                self._send(200, OLLAMA_SHOW[name])
            else:
                self._send(404, {"error": f"model '{name}' not found"})
        else:
            self._send(404, "404 page not found", "text/plain")

    def _pull(self, name: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()  # no length: the stream ends when the connection closes
        layers = [(f"sha256:{i:064x}", size) for i, size in ((1, 3_000_000), (2, 120_000))]
        lines: list[dict] = [{"status": "pulling manifest"}]
        if name == "missing-model":
            lines.append({"error": "pull model manifest: file does not exist"})
        for digest, total in layers if name != "missing-model" else []:
            lines.append({"status": f"pulling {digest[7:19]}", "digest": digest, "total": total})
            for step in (1, 2, 3, 4):
                lines.append(
                    {
                        "status": f"pulling {digest[7:19]}",
                        "digest": digest,
                        "total": total,
                        "completed": total * step // 4,
                    }
                )
                if name == "flaky" and step == 2:
                    lines.append({"error": "max retries exceeded: unexpected EOF"})
                    break
            if name == "flaky":
                break
        else:
            if name != "missing-model":
                lines += [
                    {"status": "verifying sha256 digest"},
                    {"status": "writing manifest"},
                    {"status": "success"},
                ]
        for line in lines:
            if line == {"status": "success"}:  # installed before Ollama says so
                tag = name if ":" in name else f"{name}:latest"
                self.server.ollama_models.append(
                    {**OLLAMA_TAGS["models"][0], "name": tag, "model": tag, "size": 3_120_000}
                )
            self.wfile.write(json.dumps(line).encode() + b"\n")
            self.wfile.flush()
            if "error" in line:
                return
            time.sleep(self.server.pull_delay)

    def _llamacpp(self, method: str) -> None:
        if self.server.loading:
            self._send(503, LLAMA_LOADING)
        elif self.path in ("/health", "/v1/health"):
            self._send(200, {"status": "ok"})
        elif self.path in ("/v1/models", "/models"):
            self._send(200, LLAMA_MODELS)
        elif self.path == "/props":
            # The only protected route of these: /health and /v1/models never check the key.
            if self.server.api_key and self._key() != self.server.api_key:
                self._send(401, LLAMA_BAD_KEY)
            else:
                self._send(200, LLAMA_PROPS)
        else:
            self._send(404, LLAMA_NOT_FOUND)

    def _mlx(self, method: str) -> None:
        if self.path == "/health":
            self._send(200, {"status": "ok"})
        elif self.path == "/v1/models":
            self._send(200, MLX_MODELS)
        else:
            # mlx_lm.server: plain text although the Content-Type says JSON.
            self._send(404, "Not Found", "application/json")

    def _send(
        self,
        status: int,
        body,
        content_type: str = "application/json",
        *,
        headers: dict | None = None,
    ) -> None:
        if self.server.kind == "llamacpp":  # llama-server names itself in every answer
            headers = {"Server": "llama.cpp", **(headers or {})}
        super()._send(status, body, content_type, headers=headers)


class FakeLocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, kind: str, api_key: str = "") -> None:
        super().__init__(address, Handler)
        self.kind = kind
        self.api_key = api_key
        self.loading = False
        self.pull_delay = 0.0
        self.ollama_models = [dict(m) for m in OLLAMA_TAGS["models"]]
        self.hits: list[tuple[str, str]] = []


class FakeLocal:
    """A fake runtime in a thread; `url` is its endpoint URL."""

    def __init__(self, kind: str, *, api_key: str = "", port: int = 0) -> None:
        self.server = FakeLocalServer(("127.0.0.1", port), kind, api_key)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=["ollama", "llamacpp", "mlx"], required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default="")
    args = parser.parse_args()
    server = FakeLocalServer(("127.0.0.1", args.port), args.kind, args.api_key)
    print(f"fake {args.kind} on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
