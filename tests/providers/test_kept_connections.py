"""One check's requests to an https origin share one connection (a TLS handshake each would
otherwise cost a round trip or two to a cloud provider), and sharing changes nothing of what
each request must do: its own egress check, its own deadline, an address its own check
approved. A real TLS server on the loopback, with a certificate made for the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests.adapters
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from providers import egress, http
from providers.registry import PROVIDERS
from providers.values import AuthMethod, Credential

KEY = "gsk_" + "K3pt" * 10
MODELS = {"object": "list", "data": [{"id": "llama-3.1-8b-instant", "object": "model"}]}


def _certificate(tmp_path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections open
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.connections.append(self.connection.getsockname()[0])

    def do_GET(self) -> None:
        if self.path.endswith("/models"):
            self._answer(200, MODELS)
        elif self.path.endswith("/drip"):  # the status line and headers a byte at a time
            for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"x" * 100 + b"\r\n\r\n":
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.05)
        else:
            self._answer(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(400, {"error": {"message": "messages must not be empty"}})

    def _answer(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path, monkeypatch, settings):
    """An https server answering as an OpenAI-compatible gateway, on every loopback address
    (so a test can send a request to 127.0.0.2); `connections`: the local address each
    connection it accepted was made to. Its certificate is the one the client trusts."""
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    cert_file, key_file = _certificate(tmp_path)
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", cert_file)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = ThreadingHTTPServer(("0.0.0.0", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.connections = []
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server, path: str) -> str:
    return f"https://localhost:{server.server_port}{path}"


def _resolving_to(monkeypatch, *answers: str) -> None:
    """`localhost` resolves to each of `answers` in turn (the last one after that)."""
    order = [ipaddress.ip_address(a) for a in answers]

    def addresses(host: str, port: int):
        return [order.pop(0) if len(order) > 1 else order[0]]

    monkeypatch.setattr(egress, "_addresses", addresses)


def test_a_gateway_check_makes_its_three_requests_on_one_connection(tls_server, monkeypatch):
    _resolving_to(monkeypatch, "127.0.0.1")
    credential = Credential(
        AuthMethod.API_KEY, {"base_url": _url(tls_server, "/openai/v1")}, {"api_key": KEY}
    )
    result = PROVIDERS["groq"].verify(credential)
    assert result.ok, (result.outcome, result.message)
    assert [m.id for m in result.models] == ["llama-3.1-8b-instant"]
    assert len(tls_server.connections) == 1  # models, key info and the budget proof

    # Outside a check (or for another check) each request has a connection of its own.
    for _ in range(2):
        assert http.probe("GET", _url(tls_server, "/v1/models")).status == 200
    assert len(tls_server.connections) == 3


def test_a_kept_connection_is_held_to_the_next_requests_own_deadline(tls_server, monkeypatch):
    _resolving_to(monkeypatch, "127.0.0.1")
    with http.connections_kept():
        assert http.probe("GET", _url(tls_server, "/v1/models"), timeout=2).status == 200
        started = time.monotonic()
        with pytest.raises(http.TransportFailed) as failed:
            http.probe("GET", _url(tls_server, "/v1/drip"), timeout=1)  # 6 s of headers
        took = time.monotonic() - started
    assert failed.value.kind == "timeout"
    assert took < 1.6
    assert len(tls_server.connections) == 1  # it was the kept connection that was cut


def test_a_kept_connection_carries_a_request_only_to_an_address_its_check_approved(
    tls_server, monkeypatch
):
    """The name resolves to another (approved) address for the second request: the kept
    connection, made to the first, is not used; a new one goes to the address checked."""
    _resolving_to(monkeypatch, "127.0.0.1", "127.0.0.2")
    with http.connections_kept():
        for _ in range(3):
            assert http.probe("GET", _url(tls_server, "/v1/models")).status == 200
    assert tls_server.connections == ["127.0.0.1", "127.0.0.2"]


def test_an_answer_not_read_to_its_end_leaves_no_connection_to_keep(tls_server, monkeypatch):
    _resolving_to(monkeypatch, "127.0.0.1")
    with http.connections_kept():
        with pytest.raises(http.TransportFailed):
            http.probe("GET", _url(tls_server, "/v1/drip"), timeout=0.5)
        assert http.probe("GET", _url(tls_server, "/v1/models")).status == 200
    assert len(tls_server.connections) == 2
