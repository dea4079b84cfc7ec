"""Faulty providers over real sockets on 127.0.0.1 (issue 14): one that resets the connection
mid-body, one that answers 10 MB of garbage, one that redirects to another host. Each gives its
outcome within the timeout, in bounded memory, and nothing follows the redirect. (Hanging and
dripping providers: tests/providers/contract.py and test_http.py.)"""

from __future__ import annotations

import socket
import struct
import threading
import time
import tracemalloc

import pytest

from providers.registry import PROVIDERS
from providers.values import Credential, Outcome


class OneShotServer:
    """Accepts connections and answers each with `reply(conn)`; records what it was sent."""

    def __init__(self, reply) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.reply = reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.requests.append(conn.recv(65536))
            try:
                self.reply(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self.sock.close()


def verify_ollama(port: int):
    credential = Credential("local_endpoint", {"endpoint_url": f"http://127.0.0.1:{port}"}, {})
    started = time.monotonic()
    result = PROVIDERS["ollama"].verify(credential)
    return result, time.monotonic() - started


def reset_mid_body(conn: socket.socket) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
        b'{"version": "0.'
    )
    time.sleep(0.05)
    # SO_LINGER 0: close sends a TCP reset, as a crashing provider or a middlebox does.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def garbage(conn: socket.socket) -> None:
    size = 10 * 1024 * 1024
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {size}\r\n\r\n".encode()
    )
    chunk = bytes(range(256)) * 4096  # 1 MB of binary garbage
    for _ in range(10):
        conn.sendall(chunk)


def redirect(conn: socket.socket) -> None:
    conn.sendall(
        b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/?token=abc\r\n"
        b"Content-Length: 0\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("reply", "outcomes"),
    [
        (reset_mid_body, {Outcome.UNREACHABLE}),
        (garbage, {Outcome.UNEXPECTED_RESPONSE, Outcome.ENDPOINT_NOT_FOUND}),
        (redirect, {Outcome.ENDPOINT_NOT_FOUND}),
    ],
    ids=["reset-mid-body", "10-MB-garbage", "redirect-elsewhere"],
)
def test_a_faulty_provider_gets_its_outcome_in_time_and_bounded_memory(settings, reply, outcomes):
    settings.KODA_VERIFY_TIMEOUT_SECONDS = 3
    server = OneShotServer(reply)
    tracemalloc.start()
    try:
        result, took = verify_ollama(server.port)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        server.close()
    assert not result.ok and result.outcome in outcomes, (result.outcome, result.message)
    assert took < 3.5
    # The body is capped (8 MB), read in chunks, and over the cap only 64 KB become text.
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert len(result.raw_error) <= 4096
    # One request: a redirect is never followed, and its query is never quoted.
    assert len(server.requests) == 1
    assert "token=abc" not in result.message and "token=abc" not in result.raw_error
