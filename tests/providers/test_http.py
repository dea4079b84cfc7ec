"""The HTTP seam: egress policy, timeouts against real sockets, no redirects, redaction."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import responses

from providers import http


class DripServer:
    """Sends `head` at once, then `drip(n)` every `every` seconds: never finishes."""

    def __init__(self, head: bytes, drip, every: float) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.head, self.drip, self.every = head, drip, every
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        conn.recv(4096)
        conn.sendall(self.head)
        n = 0
        while not self.stop.is_set():
            try:
                conn.sendall(self.drip(n))
            except OSError:
                return
            n += 1
            time.sleep(self.every)
        conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.mark.parametrize(
    ("head", "drip", "every"),
    [
        # The body, one byte every 0.2 s.
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
            lambda n: b" ",
            0.2,
        ),
        # The headers, one line every 0.3 s: each line resets a per-read timeout.
        (b"HTTP/1.1 200 OK\r\n", lambda n: f"X-Drip-{n}: {n}\r\n".encode(), 0.3),
    ],
    ids=["body", "headers"],
)
def test_it_bounds_the_whole_answer_not_just_each_read(head, drip, every):
    server = DripServer(head, drip, every)
    started = time.monotonic()
    try:
        with pytest.raises(http.TransportFailed) as excinfo:
            http.probe("GET", f"http://127.0.0.1:{server.port}/health", local=True, timeout=1.0)
    finally:
        server.close()
    assert excinfo.value.kind == "timeout"
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    ("url", "local", "private_ok", "refused"),
    [
        ("http://api.openai.com/v1", False, False, True),  # cloud needs https
        ("https://127.0.0.1:8443", False, False, True),  # cloud needs a public address
        ("https://127.0.0.1:8443", False, True, False),  # ...unless private base URLs are allowed
        ("http://127.0.0.1:11434", True, False, False),  # local providers may use loopback
        ("http://169.254.169.254/latest/meta-data", True, True, True),  # metadata: always refused
        ("http://[::ffff:169.254.169.254]/", True, True, True),  # ...also IPv4-mapped
        ("http://[::169.254.169.254]/", True, True, True),  # ...IPv4-compatible
        ("http://[64:ff9b::a9fe:a9fe]/", True, True, True),  # ...NAT64 (RFC 6052)
        ("http://[2002:a9fe:a9fe::1]/", True, True, True),  # ...6to4
        ("http://100.100.100.200/latest/meta-data", True, True, True),  # Alibaba's metadata
        ("https://[64:ff9b::7f00:1]/", False, False, True),  # cloud: NAT64 of loopback
        ("https://[2002:c0a8:101::1]/", False, False, True),  # cloud: 6to4 of 192.168.1.1
        ("https://[64:ff9b::6810:1]/", False, False, False),  # cloud: NAT64 of a public IPv4
        ("https://[2606:4700::6810:1]/", False, False, False),  # plain public IPv6
        ("https://user:pass@api.openai.com/v1", False, False, True),  # no userinfo
        ("ftp://api.openai.com/", False, True, True),
        ("https://api.openai.com/v1", False, False, False),
    ],
)
def test_it_applies_the_egress_policy(settings, url, local, private_ok, refused):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = private_ok
    if refused:
        with pytest.raises(http.EgressRefused):
            http.check_destination(url, local=local)
    else:
        http.check_destination(url, local=local)


@responses.activate
def test_it_redacts_secrets_from_body_and_headers():
    secret = "sk-proj-SeamRedactionTest-0123456789abcdef"
    responses.add(
        "GET",
        "https://api.openai.com/v1/models",
        status=401,
        json={"error": {"message": f"bad key {secret}"}},
        headers={"X-Echo": f"Bearer {secret}"},
    )
    answer = http.probe(
        "GET",
        "https://api.openai.com/v1/models",
        headers={"Authorization": f"Bearer {secret}"},
        secrets=(secret,),
    )
    assert secret not in answer.text and secret not in str(answer.headers)
    assert answer.is_json and answer.status == 401


@responses.activate
def test_it_does_not_follow_a_redirect():
    responses.add(
        "GET",
        "https://api.openai.com/v1/models",
        status=307,
        headers={"Location": "https://elsewhere.example/models"},
    )
    answer = http.probe("GET", "https://api.openai.com/v1/models")
    assert answer.status == 307 and len(responses.calls) == 1


def test_it_cannot_reach_the_internet_from_a_test():
    # The suite's guard: a provider left unfaked fails as unreachable, it is never contacted.
    with pytest.raises(http.TransportFailed) as excinfo:
        http.probe("GET", "https://api.openai.com/v1/models", timeout=2)
    assert excinfo.value.kind == "unreachable"
    # The reason a person can act on, not urllib3's pool and connection reprs.
    assert excinfo.value.detail.startswith("could not connect: [Errno"), excinfo.value.detail
    assert "Pool" not in excinfo.value.detail and "Max retries" not in excinfo.value.detail


@responses.activate
def test_it_caps_an_oversized_answer():
    responses.add(
        "GET",
        "https://api.openai.com/v1/models",
        status=200,
        body='{"data": [' + '"x",' * 3_000_000 + '"y"]}',
        content_type="application/json",
    )
    answer = http.probe("GET", "https://api.openai.com/v1/models")
    assert len(answer.text) <= http.MAX_BODY_BYTES and not answer.is_json


@responses.activate
def test_it_reads_a_body_whose_charset_is_unknown():
    responses.add(
        "GET",
        "https://api.openai.com/v1/models",
        body=b'{"data": []}',
        status=200,
        headers={"Content-Type": "application/json; charset=bogus"},
    )
    answer = http.probe("GET", "https://api.openai.com/v1/models")
    assert answer.is_json and answer.json == {"data": []}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("17", 17),
        (" 120 ", 120),
        ("²", None),  # str.isdigit() says yes; int() says no
        ("9" * 5000, None),  # past Python's digit limit for int()
        ("-5", None),
        ("1.5", None),
        ("", None),
        ("soon", None),
        ("99999999", 86_400),  # capped at a day
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0),  # a date in the past: no wait
    ],
)
def test_it_reads_retry_after_whatever_it_holds(value, seconds):
    assert http.retry_after_seconds(value) == seconds


def test_it_reads_retry_after_as_a_future_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 85 <= http.retry_after_seconds(when) <= 90


def one_answer_server() -> tuple[socket.socket, int, list[bytes]]:
    """A socket on 127.0.0.1 that answers one request with `{}` and keeps what it received."""
    received: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def accept() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        received.append(conn.recv(65536))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1], received


def test_it_connects_to_the_address_it_checked_not_a_second_dns_answer(monkeypatch, settings):
    """DNS rebinding: a name that resolves to a public address for the check and to 127.0.0.1
    right after must never reach 127.0.0.1."""
    server, port, hits = one_answer_server()
    answers = iter(["104.16.0.1", "127.0.0.1", "127.0.0.1"])

    def getaddrinfo(host, port_, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port_))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = False
    try:
        with pytest.raises(http.TransportFailed) as excinfo:
            http.probe("GET", f"https://rebind.example:{port}/v1/models", timeout=1)
    except http.EgressRefused:
        pytest.fail("the first answer is public: the check itself must pass")
    finally:
        server.close()
    # It went to the checked public address (refused by the suite's network guard), never to
    # the loopback address a second lookup would have given.
    assert excinfo.value.kind == "unreachable" and hits == []


def test_a_stream_hands_over_each_line_as_it_arrives():
    """A pull's NDJSON lines come seconds apart: each must be read when it comes, not when a
    buffer fills."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n\r\n")
        for n in range(3):
            conn.sendall(b'{"status": "line %d"}\n' % n)
            time.sleep(0.4)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    arrivals = []
    started = time.monotonic()
    with http.stream("GET", f"http://127.0.0.1:{port}/api/pull", local=True) as answer:
        for line in answer.lines():
            arrivals.append((line, time.monotonic() - started))
    server.close()
    assert [line for line, _ in arrivals] == [b'{"status": "line %d"}' % n for n in range(3)]
    assert arrivals[0][1] < 0.3 and arrivals[1][1] < 0.7  # not all at the end (~1.2 s)


def test_a_probe_ignores_the_environments_proxies_and_netrc(tmp_path, monkeypatch):
    """A probe goes straight to the provider: a proxy in the environment would see the key, and a
    stray ~/.netrc would replace the provider's auth with its own Authorization header."""
    server, port, seen = one_answer_server()
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login stray password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: nothing answers
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        answer = http.probe(
            "GET", f"http://127.0.0.1:{port}/v1/models", headers={"x-api-key": "k"}, local=True
        )
    finally:
        server.close()
    assert answer.status == 200 and answer.json == {}
    request = seen[0].decode()
    assert request.startswith("GET /v1/models HTTP/1.1")  # not the absolute form sent to a proxy
    assert "authorization" not in request.lower() and "x-api-key: k" in request.lower()
