"""A fake OpenAI-compatible provider (Groq's shape) served over real HTTP on 127.0.0.1.

Used by the browser tests, and by hand to try the wizard from `make run`:

    .venv/bin/python -m tests.fake_provider --port 8765
    KODA_ALLOW_PRIVATE_BASE_URLS=true make run
    # then connect Groq with base URL http://127.0.0.1:8765/openai/v1 and one of the keys below

Keys: anything starting `gsk_good` works; `gsk_broke…` gets Groq's daily-limit 429 (billing);
`gsk_slow…` answers after 1.5 s; any other key gets Groq's real 401 body.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class Handler(BaseHTTPRequestHandler):
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
        if key.startswith("gsk_slow"):
            time.sleep(1.5)
        if key.startswith(("gsk_good", "gsk_slow")):
            self._send(200, MODELS)
        elif key.startswith("gsk_broke"):
            self._send(429, DAILY_LIMIT)
        else:
            self._send(401, INVALID)

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keys never reach a log, and tests stay quiet
        pass


class FakeProvider:
    def __init__(self, port: int = 0) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/openai/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    port = parser.parse_args().port
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
