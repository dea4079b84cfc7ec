"""The one module that makes outbound HTTP calls (design §6).

Every probe goes through `probe()`, which:
- checks the destination against the egress policy before any request (`EgressRefused`);
- sets connect/read timeouts (KODA_VERIFY_TIMEOUT_SECONDS) and a total deadline, so a provider
  that drips bytes cannot hold a worker longer than the timeout;
- never follows redirects: requests keeps custom auth headers such as `x-api-key` across a
  redirect, so following one could hand the key to another host;
- ignores proxy/netrc settings from the environment (`trust_env=False`): a stray ~/.netrc would
  otherwise add its own Authorization header;
- reads at most MAX_BODY_BYTES and redacts the caller's secrets from the text it returns.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from koda.crypto import redact

USER_AGENT = "Koda-Control-Plane/1.0 (+credential verification)"
MAX_BODY_BYTES = 8 * 1024 * 1024

# Cloud metadata services: never a legitimate provider, always refused (design §6).
_METADATA_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)


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


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransportFailed("unreachable", f"cannot resolve {host}: {exc}") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def _is_metadata(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _METADATA_NETWORKS)


def check_destination(url: str, *, local: bool) -> None:
    """Apply the egress policy to `url`; raise EgressRefused (or TransportFailed for DNS)."""
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
    for address in _addresses(parts.hostname, port):
        if _is_metadata(address):
            raise EgressRefused(f"{parts.hostname} resolves to a metadata address ({address})")
        if not allow_private and not address.is_global:
            raise EgressRefused(
                f"{parts.hostname} resolves to a non-public address ({address}); "
                "set KODA_ALLOW_PRIVATE_BASE_URLS=true to allow gateways on private networks"
            )


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
    check_destination(url, local=local)
    timeout = timeout or settings.KODA_VERIFY_TIMEOUT_SECONDS
    started = time.monotonic()
    deadline = started + timeout
    session = requests.Session()
    session.trust_env = False
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
                    raise TransportFailed("timeout", f"no complete answer within {timeout:g} s")
            status, response_headers = response.status_code, response.headers
            encoding = response.encoding or "utf-8"
    except requests.exceptions.Timeout:
        raise TransportFailed("timeout", f"no answer within {timeout:g} s") from None
    except requests.exceptions.SSLError as exc:
        raise TransportFailed("unreachable", redact(f"TLS failure: {exc}", *secrets)) from None
    except requests.exceptions.ConnectionError as exc:
        if "timed out" in str(exc).lower():
            raise TransportFailed("timeout", f"no answer within {timeout:g} s") from None
        raise TransportFailed("unreachable", _connection_detail(exc, secrets)) from None
    except requests.exceptions.RequestException as exc:
        raise TransportFailed("unreachable", redact(str(exc), *secrets)) from None
    finally:
        session.close()
    latency_ms = int((time.monotonic() - started) * 1000)
    text = redact(bytes(body[:MAX_BODY_BYTES]).decode(encoding, errors="replace"), *secrets)
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
    except ValueError:
        pass
    return result


def _connection_detail(exc: Exception, secrets: tuple[str, ...]) -> str:
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "getaddrinfo" in text or "Errno -2" in text:
        return "DNS lookup failed"
    return redact(text, *secrets)[:300]
