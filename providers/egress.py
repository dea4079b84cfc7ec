"""Where outbound HTTP may go, and making sure it goes exactly there (design §6).

`check_destination` applies the egress policy (cloud providers: https and public addresses;
local runtimes: loopback and private addresses too; cloud metadata addresses: never) and returns
the addresses it approved. `PinnedAdapter` then connects to those addresses and no others, so a
DNS answer that changes between the check and the connection (rebinding) cannot reach a refused
address; its `Pin` also cuts every connection at the probe's deadline.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.poolmanager import PoolManager

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
        if seconds is not None:
            _WATCHDOG.add(time.monotonic() + seconds, self)

    def watch(self, sock: socket.socket) -> None:
        # Our own duplicate of the descriptor: shutting it down ends the connection (TLS
        # included), and it can never be a reused descriptor of someone else's socket. (fromfd,
        # not dup(): a kept connection's socket is already wrapped in TLS, which has no dup.)
        with self._lock:
            if not self._done:
                self._watched.append(socket.fromfd(sock.fileno(), sock.family, sock.type))

    def admits(self, sock: socket.socket) -> bool:
        """Whether a kept connection's socket is connected to an address this request's own
        check approved (the name is checked again for every request, kept connection or not)."""
        try:
            peer = sock.getpeername()[0]
        except OSError:
            return False
        return ipaddress.ip_address(peer.split("%")[0]) in self.addresses

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
        with self._lock:
            self._done = True
            for sock in self._watched:
                sock.close()
            self._watched.clear()


class _Watchdog:
    """One thread for every request's deadline (a thread per request cost more than a fast
    provider's answer): a heap of deadlines, each expiring its pin unless closed first."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Pin]] = []
        self._cond = threading.Condition()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: float, pin: Pin) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._order), pin))
            # Started on first use, and again in a forked worker (threads do not survive fork).
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="koda-egress-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, _, pin = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            pin._expire()  # a closed pin ignores it


_WATCHDOG = _Watchdog()


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


class _PinnedHTTPConnection(PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedPoolMixin:
    """Hands the request's pin to each connection it makes, and to a kept one it hands out
    again (`http.connections_kept`): that one is watched by the new request's deadline, and
    closed (so connected anew, to an approved address) unless the new request's check approved
    the address it is connected to."""

    koda_pin: Pin

    def _new_conn(self):  # type: ignore[no-untyped-def]
        conn = super()._new_conn()  # type: ignore[misc]
        conn.koda_pin = self.koda_pin
        return conn

    def _get_conn(self, timeout=None):  # type: ignore[no-untyped-def]
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        conn.koda_pin = self.koda_pin
        sock = getattr(conn, "sock", None)
        if sock is not None:
            if self.koda_pin.admits(sock):
                self.koda_pin.watch(sock)
            else:
                conn.close()
        return conn


class _PinnedHTTPPool(_PinnedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(_PinnedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedPoolManager(PoolManager):
    def __init__(self, pin: Pin, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.koda_pin = pin
        self.pool_classes_by_scheme = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}

    def _new_pool(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        pool = super()._new_pool(*args, **kwargs)
        pool.koda_pin = self.koda_pin
        return pool


class PinnedAdapter(HTTPAdapter):
    """One request's adapter (mount it for both schemes): its pools connect only to the pin's
    addresses. The classes are made once; only the pin is per request."""

    def __init__(self, pin: Pin) -> None:
        self.koda_pin = pin
        # One request (or one check's requests to one origin): one connection is all it keeps.
        super().__init__(max_retries=0, pool_connections=1, pool_maxsize=1)

    def repin(self, pin: Pin) -> None:
        """The next request's pin, for the connection kept from the last one."""
        self.koda_pin = self.poolmanager.koda_pin = pin
        for key in self.poolmanager.pools.keys():
            pool = self.poolmanager.pools.get(key)
            if pool is not None:
                pool.koda_pin = pin

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        self._pool_connections, self._pool_maxsize, self._pool_block = (
            connections,
            maxsize,
            block,
        )
        self.poolmanager = _PinnedPoolManager(
            self.koda_pin, num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
        )
