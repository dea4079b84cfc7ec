"""Where outbound HTTP may go, and making sure it goes exactly there (design §6).

`check_destination` applies the egress policy (cloud providers: https and public addresses;
local runtimes: loopback and private addresses too; cloud metadata addresses: never) and returns
the addresses it approved. `PinnedAdapter` then connects to those addresses and no others, so a
DNS answer that changes between the check and the connection (rebinding) cannot reach a refused
address; its `Pin` also cuts every connection at the probe's deadline.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

# Cloud metadata services: never a legitimate provider, always refused (design §6). Link-local
# covers AWS, GCP, Azure and Oracle (169.254.169.254); Alibaba's sits in shared address space.
_METADATA_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("100.100.100.200/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)
# IPv6 spellings of an IPv4 address: NAT64's well-known prefix (RFC 6052) carries it in the last
# 32 bits; 6to4 (2002::/16) and IPv4-mapped/-compatible forms are read by `ipaddress` itself.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressRefused(Exception):
    """The egress policy refused the URL before any request was made."""


class TransportFailed(Exception):
    """No HTTP answer: `kind` is "timeout" or "unreachable"."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


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


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of IPv4's spellings (mapped,
    compatible, 6to4, NAT64, Teredo's client): where a packet to it ends up."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _destinations(address: Address) -> list[Address]:
    """The address and, for an IPv6 spelling of an IPv4 address, that IPv4 address: the policy
    holds for both."""
    embedded = _embedded_ipv4(address)
    return [address] if embedded is None else [address, embedded]


def _is_metadata(address: Address) -> bool:
    return any(a in network for a in _destinations(address) for network in _METADATA_NETWORKS)


def _is_public(address: Address) -> bool:
    return all(a.is_global for a in _destinations(address))


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
        if not allow_private and not _is_public(address):
            raise EgressRefused(
                f"{parts.hostname} resolves to a non-public address ({address}); "
                "set KODA_ALLOW_PRIVATE_BASE_URLS=true to allow gateways on private networks"
            )
    return addresses


class Pin:
    """One request's approved addresses and its deadline watchdog (none for a download, which
    is bounded by an idle timeout instead), shared by its connections."""

    def __init__(self, addresses: list[Address], seconds: float | None) -> None:
        self.addresses = addresses
        self.expired = False
        self._lock = threading.Lock()
        self._done = False
        self._watched: list[socket.socket] = []
        self._timer = None
        if seconds is not None:
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
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._done = True
            for sock in self._watched:
                sock.close()
            self._watched.clear()


class PinnedConnectionMixin:
    """Connect to the addresses the egress policy approved, in order, instead of resolving the
    host again; TLS still verifies the certificate against the host name."""

    koda_pin: Pin

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


class PinnedAdapter(HTTPAdapter):
    def __init__(self, pin: Pin) -> None:
        self.koda_pin = pin
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        attrs = {"koda_pin": self.koda_pin}
        http_conn = type("PinnedHTTPConnection", (PinnedConnectionMixin, HTTPConnection), attrs)
        https_conn = type("PinnedHTTPSConnection", (PinnedConnectionMixin, HTTPSConnection), attrs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
