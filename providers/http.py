"""The one module that makes outbound HTTP calls (design §6).

Every probe goes through `probe()`, which:
- checks the destination against the egress policy before any request (`EgressRefused`), and
  then connects to exactly the address it checked: the name is not resolved a second time, so a
  DNS answer that changes between check and connect (rebinding) cannot reach a refused address;
- bounds the whole exchange by KODA_VERIFY_TIMEOUT_SECONDS: connect and read timeouts, and a
  watchdog that cuts the connection at the deadline, so a provider that drips its headers or
  body a byte at a time cannot hold a worker longer than the timeout;
- never follows redirects: requests keeps custom auth headers such as `x-api-key` across a
  redirect, so following one could hand the key to another host;
- ignores proxy/netrc settings from the environment (`trust_env=False`): a stray ~/.netrc would
  otherwise add its own Authorization header;
- reads at most MAX_BODY_BYTES and redacts the caller's secrets from the text it returns.
"""

from __future__ import annotations

import codecs
import email.utils
import ipaddress
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.exceptions import HTTPError as Urllib3Error

from koda.crypto import redact

USER_AGENT = "Koda-Control-Plane/1.0 (+credential verification)"
MAX_BODY_BYTES = 8 * 1024 * 1024

# Cloud metadata services: never a legitimate provider, always refused (design §6).
_METADATA_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressRefused(Exception):
    """The egress policy refused the URL before any request was made."""


class TransportFailed(Exception):
    """No HTTP answer: `kind` is "timeout" or "unreachable"."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass
class ProbeResponse:
    method: str
    url: str
    status: int
    headers: dict[str, str]
    text: str  # redacted
    latency_ms: int
    json: Any = field(default=None)
    is_json: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def is_html(self) -> bool:
        head = self.text.lstrip()[:200].lower()
        return self.content_type == "text/html" or head.startswith(("<!doctype html", "<html"))

    @property
    def retry_after(self) -> int | None:
        return retry_after_seconds(self.headers.get("retry-after", ""))


def retry_after_seconds(value: str) -> int | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None when it is
    absent or unreadable. Capped at a day: a provider cannot park a connection for longer."""
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,9}", value):
        return min(int(value), 86_400)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, min(int((when - datetime.now(UTC)).total_seconds()), 86_400))


def _addresses(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransportFailed("unreachable", f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def _is_metadata(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _METADATA_NETWORKS)


def check_destination(url: str, *, local: bool) -> list[Address]:
    """Apply the egress policy to `url`; return the addresses it may connect to, or raise
    EgressRefused (or TransportFailed when the name does not resolve)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise EgressRefused("URLs with embedded credentials are refused")
    allow_private = local or settings.KODA_ALLOW_PRIVATE_BASE_URLS
    if parts.scheme != "https" and not allow_private:
        raise EgressRefused(
            "cloud providers need https (set KODA_ALLOW_PRIVATE_BASE_URLS for a gateway)"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _addresses(parts.hostname, port)
    for address in addresses:
        if _is_metadata(address):
            raise EgressRefused(f"{parts.hostname} resolves to a metadata address ({address})")
        if not allow_private and not address.is_global:
            raise EgressRefused(
                f"{parts.hostname} resolves to a non-public address ({address}); "
                "set KODA_ALLOW_PRIVATE_BASE_URLS=true to allow gateways on private networks"
            )
    return addresses


class _Pin:
    """One probe's approved addresses and its deadline watchdog, shared by its connections."""

    def __init__(self, addresses: list[Address], seconds: float) -> None:
        self.addresses = addresses
        self.expired = False
        self._lock = threading.Lock()
        self._done = False
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        # Our own duplicate of the descriptor: shutting it down ends the connection (TLS
        # included), and it can never be a reused descriptor of someone else's socket.
        with self._lock:
            if not self._done:
                self._watched.append(sock.dup())

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._watched:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            for sock in self._watched:
                sock.close()
            self._watched.clear()


class _PinnedConnectionMixin:
    """Connect to the addresses the egress policy approved, in order, instead of resolving the
    host again; TLS still verifies the certificate against the host name."""

    koda_pin: _Pin

    def _new_conn(self) -> socket.socket:
        last: OSError | None = None
        for address in self.koda_pin.addresses:
            # A socket of our own rather than socket.create_connection, which would pass even an
            # address literal through getaddrinfo again.
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect((str(address), self.port))
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(self, f"connection to {self.host} timed out") from exc
            except OSError as exc:
                sock.close()
                last = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.koda_pin.watch(sock)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}")


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, pin: _Pin) -> None:
        self.koda_pin = pin
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        attrs = {"koda_pin": self.koda_pin}
        http_conn = type("PinnedHTTPConnection", (_PinnedConnectionMixin, HTTPConnection), attrs)
        https_conn = type("PinnedHTTPSConnection", (_PinnedConnectionMixin, HTTPSConnection), attrs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }


def _decode(body: bytes, encoding: str | None) -> str:
    try:
        codecs.lookup(encoding or "utf-8")
    except LookupError:  # `charset=bogus` in a provider's Content-Type
        encoding = "utf-8"
    return body.decode(encoding or "utf-8", errors="replace")


@sensitive_variables()
def probe(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    secrets: tuple[str, ...] = (),
    local: bool = False,
    timeout: float | None = None,
) -> ProbeResponse:
    """Make one request under the egress policy. Raises EgressRefused or TransportFailed."""
    addresses = check_destination(url, local=local)
    timeout = timeout or settings.KODA_VERIFY_TIMEOUT_SECONDS
    started = time.monotonic()
    deadline = started + timeout
    pin = _Pin(addresses, timeout)
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", _PinnedAdapter(pin))
    session.mount("https://", _PinnedAdapter(pin))
    expired = TransportFailed("timeout", f"no complete answer within {timeout:g} s")
    try:
        with session.request(
            method,
            url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            json=json_body,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        ) as response:
            body = bytearray()
            # read1 returns what has arrived (iter_content would wait for a full chunk), so the
            # deadline is checked however slowly a provider drips its body.
            while chunk := response.raw.read1(64 * 1024, decode_content=True):
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise expired
            if pin.expired:
                raise expired
            status, response_headers = response.status_code, response.headers
            encoding = response.encoding
    except TransportFailed:
        raise
    except Exception as exc:
        if pin.expired:
            raise expired from None
        raise _transport_failure(exc, timeout, secrets) from None
    finally:
        pin.close()
        session.close()
    latency_ms = int((time.monotonic() - started) * 1000)
    text = redact(_decode(bytes(body[:MAX_BODY_BYTES]), encoding), *secrets)
    result = ProbeResponse(
        method=method,
        url=url,
        status=status,
        headers={k.lower(): redact(v, *secrets) for k, v in response_headers.items()},
        text=text,
        latency_ms=latency_ms,
    )
    try:
        result.json, result.is_json = json.loads(text), True
    except (ValueError, RecursionError):
        pass
    return result


def _transport_failure(exc: Exception, timeout: float, secrets: tuple[str, ...]) -> Exception:
    if isinstance(exc, requests.exceptions.Timeout):
        return TransportFailed("timeout", f"no answer within {timeout:g} s")
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportFailed("unreachable", redact(f"TLS failure: {exc}", *secrets)[:300])
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "timed out" in str(exc).lower():
            return TransportFailed("timeout", f"no answer within {timeout:g} s")
        return TransportFailed("unreachable", _connection_detail(exc, secrets))
    if isinstance(exc, (requests.exceptions.RequestException, Urllib3Error)):
        # Urllib3Error: the body is read from the raw stream, where a connection that breaks
        # off mid-answer raises urllib3's own errors (ProtocolError, IncompleteRead).
        return TransportFailed(
            "unreachable", redact(f"the answer broke off: {exc}", *secrets)[:300]
        )
    return exc  # not a transport problem: let the caller's net turn it into an outcome


def _connection_detail(exc: Exception, secrets: tuple[str, ...]) -> str:
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "getaddrinfo" in text or "Errno -2" in text:
        return "DNS lookup failed"
    return redact(text, *secrets)[:300]
