"""What every fake HTTP server of the suite shares: a handler that answers JSON (or text) with
its length and logs nothing (keys never reach a log, and tests stay quiet)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


class QuietHandler(BaseHTTPRequestHandler):
    def _send(
        self,
        status: int,
        body,
        content_type: str = "application/json",
        *,
        headers: dict | None = None,
    ) -> None:
        """`body` as JSON, or as is when it is text (a fake's HTML or plain-text answer)."""
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass
