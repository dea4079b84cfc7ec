"""The one module that makes outbound HTTP calls (design §6): `probe()` for verification,
`stream()` for downloads and pulls.

Every probe goes through `probe()`, which:
- checks the destination against the egress policy before any request (`EgressRefused`), and
  then connects to exactly the address it checked: the name is not resolved a second time, so a
  DNS answer that changes between check and connect (rebinding) cannot reach a refused address;
- bounds the whole exchange by KODA_VERIFY_TIMEOUT_SECONDS: connect and read timeouts, and a
  watchdog that cuts the connection at the deadline, so a provider that drips its headers or
  body a byte at a time cannot hold a worker longer than the timeout;
- never follows redirects: requests keeps custom auth headers such as `x-api-key` across a
  redirect, so following one could hand the key to another host;
- ignores proxy/netrc settings from the environment: a probe is sent by the pinned adapter
  itself, with no requests Session to read them (a stray ~/.netrc would otherwise add its own
  Authorization header); `stream()` keeps a Session (it follows redirects), with
  `trust_env=False`;
- reads at most MAX_BODY_BYTES and redacts the caller's secrets from the text it returns;
- inside `connections_kept()` (a provider's whole check), an https connection carries the
  check's next request to the same origin, only if it was read to its end and is connected to an
  address that request's own check approved, under that request's own deadline.
"""

from __future__ import annotations

import base64
import codecs
import email.utils
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from requests.utils import DEFAULT_ACCEPT_ENCODING
from urllib3.exceptions import HTTPError as Urllib3Error

from koda.redaction import redact
from providers.egress import EgressRefused, Pin, PinnedAdapter, TransportFailed, check_destination

__all__ = [
    "EgressRefused",
    "ProbeResponse",
    "Stream",
    "TransportFailed",
    "check_destination",
    "connections_kept",
    "probe",
    "retry_after_seconds",
    "stream",
]

USER_AGENT = "Koda-Control-Plane/1.0 (+credential verification)"
MAX_BODY_BYTES = 8 * 1024 * 1024
SHOWN_BYTES = 64 * 1024  # what is kept of an answer over MAX_BODY_BYTES


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
    form_body: dict[str, str] | None = None,
    raw_body: bytes | None = None,
    secrets: tuple[str, ...] = (),
    local: bool = False,
    timeout: float | None = None,
    issues_secrets: bool = False,
) -> ProbeResponse:
    """Make one request under the egress policy. Raises EgressRefused or TransportFailed.
    The body is `json_body` as JSON, `form_body` form-encoded (OAuth token endpoints), or
    `raw_body` as given (a signed webhook: the bytes signed are the bytes sent).
    `issues_secrets`: the answer carries new secrets (a token endpoint's tokens): its `json` is
    read from the body as sent, while `text` (what may be shown or stored) is still redacted."""
    addresses = check_destination(url, local=local)
    timeout = timeout or settings.KODA_VERIFY_TIMEOUT_SECONDS
    started = time.monotonic()
    deadline = started + timeout
    pin = Pin(addresses, timeout)
    # The request goes straight to the pinned adapter, without a requests Session: a Session's
    # per-call work (merging its settings, cookies, the environment's proxies and .netrc,
    # redirects) is all what a probe must not do, and costs more than a fast provider's answer.
    adapter, kept = _kept_adapter(url, pin)
    expired = TransportFailed("timeout", f"no complete answer within {timeout:g} s")
    response = None
    whole = False  # the answer was read to its end: its connection can carry the next request
    try:
        prepared = requests.Request(
            method,
            url,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Accept-Encoding": DEFAULT_ACCEPT_ENCODING,  # as a Session would send
                **(headers or {}),
            },
            json=json_body,
            data=form_body if raw_body is None else raw_body,
        ).prepare()
        response = adapter.send(prepared, stream=True, timeout=(timeout, timeout), verify=True)
        body = bytearray()
        # read1 returns what has arrived (iter_content would wait for a full chunk), so the
        # deadline is checked however slowly a provider drips its body.
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                break
            if time.monotonic() > deadline:
                raise expired
        else:
            whole = True
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
        if response is not None:
            if kept and whole and not pin.expired:
                response.raw.release_conn()  # kept for the check's next request
            else:
                response.close()
        pin.close()
        if not kept:
            adapter.close()
    latency_ms = int((time.monotonic() - started) * 1000)
    if len(body) > MAX_BODY_BYTES:
        # Over the cap the answer cannot be read as JSON anyway: keep only what may be shown
        # (a raw error is at most 4 KB), so 10 MB of garbage never becomes 10 MB of text.
        del body[SHOWN_BYTES:]
    decoded = _decode(bytes(body), encoding)
    text = redact(decoded, *secrets)
    result = ProbeResponse(
        method=method,
        url=url,
        status=status,
        headers={k.lower(): redact(v, *secrets) for k, v in response_headers.items()},
        text=text,
        latency_ms=latency_ms,
    )
    try:
        result.json, result.is_json = json.loads(decoded if issues_secrets else text), True
    except (ValueError, RecursionError):
        pass
    return result


# One check's https connections, kept across its requests (`connections_kept`): (host, port) →
# adapter.
_KEPT: ContextVar[dict[tuple[str, int], PinnedAdapter] | None] = ContextVar(
    "koda_kept_connections", default=None
)


@contextmanager
def connections_kept() -> Iterator[None]:
    """Keep connections open across the probes made inside (one per origin), closed when it
    ends: a gateway's check makes three requests to one host, and each would otherwise open a
    connection of its own (its own TLS handshake). Each request is still checked against the
    egress policy and bounded by its own deadline; a kept connection carries it only if it is
    connected to an address that request's check approved. Nested, the outer one keeps them."""
    if _KEPT.get() is not None:
        yield
        return
    adapters: dict[tuple[str, int], PinnedAdapter] = {}
    token = _KEPT.set(adapters)
    try:
        yield
    finally:
        _KEPT.reset(token)
        for adapter in adapters.values():
            adapter.close()


def _kept_adapter(url: str, pin: Pin) -> tuple[PinnedAdapter, bool]:
    """The adapter for a request, and whether it is kept (its connection with it). Only https
    connections are kept: what they spare is the TLS handshake (a round trip or two to a cloud
    provider), while a plain connection costs a local server a fraction of a millisecond, and
    keeping one would meet the servers that send an answer's headers and body in two writes
    without TCP_NODELAY (Python's http.server): on a kept connection, the second write waits
    for the client's delayed ACK, 40 ms."""
    kept = _KEPT.get()
    parts = urlsplit(url)
    if kept is None or parts.scheme != "https":
        return PinnedAdapter(pin), False
    origin = ((parts.hostname or "").lower(), parts.port or 443)
    adapter = kept.get(origin)
    if adapter is None:
        adapter = kept[origin] = PinnedAdapter(pin)
    else:
        adapter.repin(pin)
    return adapter, True


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
    # urllib3 wraps the socket's reason in its pool's and connection's reprs ("PinnedHTTPSPool(
    # host=…): Max retries exceeded with url: … (Caused by NewConnectionError(…))"): keep the
    # reason a person can act on.
    reason = re.search(r"Failed to establish a new connection: (\[Errno [^\]]+\] [^\"')(]+)", text)
    if reason:
        return redact(f"could not connect: {reason.group(1).strip()}", *secrets)[:300]
    return redact(text, *secrets)[:300]


# --- streams: downloads and pulls ------------------------------------------------------------

MAX_REDIRECTS = 5


@dataclass
class Stream:
    """An answer being read as it arrives. `url` is where it finally came from (credentials
    removed), after any redirects."""

    status: int
    headers: dict[str, str]
    url: str
    _response: requests.Response

    def chunks(self, size: int = 1024 * 1024, *, decode: bool = False) -> Iterator[bytes]:
        """What has arrived, up to `size` bytes at a time (never waiting to fill a chunk, so
        progress and cancel checks keep pace on a slow link). Files are read as sent."""
        while chunk := self._response.raw.read1(size, decode_content=decode):
            yield chunk

    def lines(self, max_line: int = 1024 * 1024) -> Iterator[bytes]:
        """Each line as soon as it has arrived (requests' iter_lines waits to fill its chunk,
        which would hold a slow NDJSON stream back until the end). A line longer than
        `max_line` is cut there, so a stream without newlines cannot grow without bound."""
        pending = b""
        for chunk in self.chunks(64 * 1024, decode=True):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            yield from complete
            if len(pending) > max_line:
                yield pending[:max_line]
                pending = b""
        if pending:
            yield pending


def split_credentials(url: str) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """A URL with `user:password@` becomes the URL without them plus a Basic Authorization
    header; the third item lists what must be redacted wherever the URL is mentioned."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url, {}, ()
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return bare, {"Authorization": f"Basic {token}"}, tuple(s for s in (password, token) if s)


@contextmanager
def stream(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    secrets: tuple[str, ...] = (),
    local: bool = False,
    idle_timeout: float | None = None,
    follow_redirects: bool = False,
) -> Iterator[Stream]:
    """Open a streamed request under the egress policy, read chunk by chunk by the caller.

    No total deadline (a large file takes minutes): each read waits at most `idle_timeout`.
    `follow_redirects` (downloads: Hugging Face and GitHub hand files to their CDNs) follows up
    to MAX_REDIRECTS, checking every hop against the egress policy and dropping credentials
    when the host changes. Raises EgressRefused or TransportFailed.
    """
    timeout = idle_timeout or settings.KODA_VERIFY_TIMEOUT_SECONDS
    url, auth, more_secrets = split_credentials(url)
    secrets = (*secrets, *more_secrets)
    headers = {"User-Agent": USER_AGENT, **auth, **(headers or {})}
    session = requests.Session()
    session.trust_env = False
    pins: list[Pin] = []
    try:
        for _ in range(MAX_REDIRECTS + 1):
            pin = Pin(check_destination(url, local=local), None)
            pins.append(pin)
            adapter = PinnedAdapter(pin)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            try:
                response = session.request(
                    method,
                    url,
                    headers=headers,
                    json=json_body,
                    timeout=(timeout, timeout),
                    allow_redirects=False,
                    stream=True,
                )
            except Exception as exc:
                raise _transport_failure(exc, timeout, secrets) from None
            location = response.headers.get("location")
            if not (follow_redirects and 300 <= response.status_code < 400 and location):
                break
            response.close()
            target = urljoin(url, location)
            if urlsplit(target).netloc != urlsplit(url).netloc:
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            url = target
        else:
            raise TransportFailed("unreachable", f"more than {MAX_REDIRECTS} redirects")
        answer = Stream(
            status=response.status_code,
            headers={k.lower(): redact(v, *secrets) for k, v in response.headers.items()},
            url=redact(url, *secrets),
            _response=response,
        )
        try:
            yield answer
        except (
            requests.exceptions.RequestException,
            Urllib3Error,
            ConnectionError,
            TimeoutError,
        ) as exc:
            # A read that failed midway: the connection dropped or went idle too long. (Not any
            # OSError: a full disk while the caller writes is the caller's to report.)
            raise _transport_failure(exc, timeout, secrets) from None
        finally:
            response.close()
    finally:
        for pin in pins:
            pin.close()
        session.close()
