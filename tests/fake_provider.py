"""A fake OpenAI-compatible provider (Groq's shape) served over real HTTP on 127.0.0.1.

Used by the browser tests, and by hand to try the wizard from `make run`:

    .venv/bin/python -m tests.fake_provider --port 8765
    KODA_ALLOW_PRIVATE_BASE_URLS=true make run
    # then connect Groq with base URL http://127.0.0.1:8765/openai/v1 and one of the keys below

Keys: anything starting `gsk_good` works; `gsk_broke…` gets Groq's daily-limit 429 (billing);
`gsk_slow…` answers after 1.5 s; `gsk_down…` gets a 503; `gsk_limited…` a 429 with
Retry-After: 3600; any other key gets Groq's real 401 body. `latency` delays every answer.

`POST /openai/v1/chat/completions` answers the same keys the same way, a good one with an
OpenAI-shaped chat completion that echoes the model and the last message (for the example agent
runtime); `chats` records each call's model and headers.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import ThreadingHTTPServer

from tests.fake_http import QuietHandler

MODELS = {
    "object": "list",
    "data": [
        {"id": "llama-3.1-8b-instant", "object": "model", "owned_by": "Meta", "active": True},
        {"id": "llama-3.3-70b-versatile", "object": "model", "owned_by": "Meta", "active": True},
        {"id": "whisper-large-v3", "object": "model", "owned_by": "OpenAI", "active": True},
    ],
}
INVALID = {
    "error": {
        "message": "Invalid API Key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}
DAILY_LIMIT = {
    "error": {
        "message": "Rate limit reached for model `llama-3.3-70b-versatile` in organization "
        "`org_fake` service tier `on_demand` on tokens per day (TPD): Limit 100000, Used 100000. "
        "Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing",
        "type": "tokens",
        "code": "rate_limit_exceeded",
    }
}


def completion(model: str, text: str) -> dict:
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
        "system_fingerprint": "fp_fake",
    }


class Handler(QuietHandler):
    def do_POST(self) -> None:
        if self.path.rstrip("/") not in ("/openai/v1/chat/completions", "/chat/completions"):
            self._send(404, {"error": {"message": f"Unknown request URL: POST {self.path}"}})
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.server.chats.append(
            {"model": body.get("model"), "key": key, "headers": dict(self.headers.items())}
        )
        if key.startswith(("gsk_good", "gsk_slow")):
            time.sleep(self.server.latency + (1.5 if key.startswith("gsk_slow") else 0))
            last = (body.get("messages") or [{}])[-1].get("content", "")
            self._send(200, completion(body.get("model", ""), f"echo: {last}"))
        else:
            self._answer_refusal(key)

    def do_GET(self) -> None:
        if self.path.rstrip("/") not in ("/openai/v1/models", "/models"):
            self._send(
                404,
                {
                    "error": {
                        "message": f"Unknown request URL: GET {self.path}",
                        "type": "invalid_request_error",
                        "code": "unknown_url",
                    }
                },
            )
            return
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.server.hits += 1
        time.sleep(self.server.latency + (1.5 if key.startswith("gsk_slow") else 0))
        if key.startswith(("gsk_good", "gsk_slow")):
            self._send(200, MODELS)
        else:
            self._answer_refusal(key)

    def _answer_refusal(self, key: str) -> None:
        if key.startswith("gsk_broke"):
            self._send(429, DAILY_LIMIT)
        elif key.startswith("gsk_down"):
            self._send(503, {"error": {"message": "Service Unavailable", "type": "internal"}})
        elif key.startswith("gsk_limited"):
            self._send(
                429,
                {
                    "error": {
                        "message": "Rate limit reached",
                        "type": "requests",
                        "code": "rate_limit_exceeded",
                    }
                },
                headers={"Retry-After": "3600"},
            )
        else:
            self._send(401, INVALID)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, latency: float = 0.0) -> None:
        super().__init__(address, Handler)
        self.latency = latency
        self.hits = 0
        self.chats: list[dict] = []


class FakeProvider:
    def __init__(self, port: int = 0, latency: float = 0.0) -> None:
        self.server = FakeServer(("127.0.0.1", port), latency)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/openai/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args()
    FakeServer(("127.0.0.1", args.port), args.latency).serve_forever()
