"""The behaviour every HTTP adapter owes (design §5), as a mixin each adapter's tests inherit.

A subclass supplies only canned answers: `ROUTES` (path → success body) and `FAILURES`
(name → (path, status, body, expected outcome)), bodies taken from providers.md. The mixin
checks success, each failure, timeout, refused connection, an HTML 404, malformed JSON, a
redirect that is not followed, the egress policy and that the secret never comes back.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any, ClassVar

import pytest
import responses

from providers.registry import PROVIDERS
from providers.values import Credential, Credit, Outcome


def _body(body: Any) -> tuple[str, str]:
    if isinstance(body, str):
        kind = "text/html" if body.lstrip().startswith("<") else "text/plain"
        return body, kind
    return json.dumps(body), "application/json"


class HangingServer:
    """A real TCP server on 127.0.0.1 that accepts and then never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


class ProviderContract:
    provider_id: ClassVar[str]
    key: ClassVar[str]
    auth_method: ClassVar[str] = "api_key"
    ROUTES: ClassVar[dict[str, Any]]  # path (after the base URL) → body of a good answer
    # name → (path, status, body, outcome[, headers])
    FAILURES: ClassVar[dict[str, tuple]] = {}
    EXPECTED_MODELS: ClassVar[list[str]] = []
    # The route whose body is the model list (default: the last route).
    MODELS_PATH: ClassVar[str] = ""
    # The status of the last probe when the key is good.
    OK_STATUS: ClassVar[int] = 200
    # The credit the good answers show (None: the provider's verification reads none).
    EXPECTED_CREDIT: ClassVar[Credit | None] = None

    @property
    def provider(self):
        return PROVIDERS[self.provider_id]

    def credential(self, **overrides) -> Credential:
        """The credential under test: the key (when the method has one) plus `overrides`,
        split into public values and secret parts as the method declares them."""
        method = self.provider.method(self.auth_method)
        given = {"api_key": self.key, **overrides} if self.key else dict(overrides)
        secret = {f.name for f in method.secret_fields}
        return Credential(
            self.auth_method,
            {k: v for k, v in given.items() if k not in secret},
            {k: v for k, v in given.items() if k in secret},
        )

    def base(self) -> str:
        return self.provider.base_url(self.credential())

    def register(self, rsps, overrides: dict[str, tuple] | None = None, base: str = "") -> None:
        """Answer every route: the good answer, or the override given for that path. A route's
        good answer may be a callable (a `responses` callback) when it depends on the request."""
        overrides = overrides or {}
        for path, body in self.ROUTES.items():
            method, bare = path.split(" ", 1) if " " in path else ("GET", path)
            url = (base or self.base()) + bare.split("?")[0]
            if path in overrides:
                status, answer, headers = overrides[path]
            elif callable(body):
                rsps.add_callback(method, url, callback=body)
                continue
            else:
                status, answer, headers = 200, body, {}
            text, kind = _body(answer)
            rsps.add(method, url, body=text, status=status, content_type=kind, headers=headers)

    @property
    def local(self) -> bool:
        return self.provider.method(self.auth_method).id.is_local

    def assert_no_secret(self, result) -> None:
        if not self.key:
            return
        dumped = json.dumps(result.as_dict())
        assert self.key not in dumped
        assert self.key[-12:] not in dumped and self.key[:12] not in dumped

    # --- the contract -----------------------------------------------------------------------

    @responses.activate
    def test_it_verifies_a_good_key(self):
        self.register(responses)
        result = self.provider.verify(self.credential())
        assert result.ok, result
        assert result.outcome == Outcome.OK and result.http_status == self.OK_STATUS
        assert result.probe.startswith(("GET ", "POST ")) and self.base() in result.probe
        ids = [m.id for m in result.models]
        assert ids and set(self.EXPECTED_MODELS) <= set(ids)
        assert result.credit == self.EXPECTED_CREDIT
        for call in responses.calls:
            assert call.request.url.startswith(self.base())
            assert "key=" not in call.request.url  # the key never goes in a URL
            assert call.request.headers["User-Agent"].startswith("Koda-Control-Plane/")
        if self.key:
            assert any(self.key in v for c in responses.calls for v in c.request.headers.values())
            self.assert_no_secret(result)

    @responses.activate
    def test_it_classifies_each_failure(self, failure):
        path, status, body, outcome, *headers = self.FAILURES[failure]
        self.register(responses, {path: (status, body, headers[0] if headers else {})})
        result = self.provider.verify(self.credential())
        assert not result.ok
        assert result.outcome == outcome, (result.outcome, result.message)
        assert result.http_status == status
        assert result.message and result.remedy
        assert result.raw_error, "the provider's body is kept for the operator"
        self.assert_no_secret(result)

    @responses.activate
    def test_it_redacts_a_key_the_provider_echoes(self):
        if not self.key:
            pytest.skip(f"{self.provider_id} {self.auth_method} takes no key")
        first = next(iter(self.ROUTES))
        echo = {"error": {"message": f"Incorrect API key provided: {self.key}", "type": "x"}}
        self.register(responses, {first: (401, echo, {})})
        result = self.provider.verify(self.credential())
        assert not result.ok and "[REDACTED]" in result.raw_error
        self.assert_no_secret(result)

    @responses.activate
    def test_it_reports_an_html_404_as_a_wrong_endpoint(self):
        first = next(iter(self.ROUTES))
        self.register(responses, {first: (404, "<html><body>Not Found</body></html>", {})})
        result = self.provider.verify(self.credential())
        assert result.outcome == Outcome.ENDPOINT_NOT_FOUND

    @responses.activate
    def test_it_quotes_a_redirect_without_its_query(self):
        """Koda never follows a redirect; it names where it pointed, less what could be a key
        or a signed URL's token."""
        first = next(iter(self.ROUTES))
        location = "https://elsewhere.example/v1/models?key=LeakedKey123&X-Amz-Signature=beef#top"
        self.register(responses, {first: (302, "", {"Location": location})})
        result = self.provider.verify(self.credential())
        assert not result.ok
        shown = repr(result)
        assert "LeakedKey123" not in shown and "beef" not in shown, shown
        if result.outcome == Outcome.ENDPOINT_NOT_FOUND:
            assert "https://elsewhere.example/v1/models?…" in result.message

    @responses.activate
    def test_it_reports_an_html_page_with_200_as_a_wrong_endpoint(self):
        first = next(iter(self.ROUTES))
        self.register(responses, {first: (200, "<!doctype html><title>Welcome</title>", {})})
        assert self.provider.verify(self.credential()).outcome == Outcome.ENDPOINT_NOT_FOUND

    @responses.activate
    def test_it_reports_malformed_json(self):
        path = self.MODELS_PATH or list(self.ROUTES)[-1]
        self.register(responses, {path: (200, {"unexpected": "shape"}, {})})
        result = self.provider.verify(self.credential())
        assert result.outcome == Outcome.UNEXPECTED_RESPONSE, result.message
        responses.reset()
        self.register(responses, {path: (200, '{"data": [', {})})
        assert self.provider.verify(self.credential()).outcome == Outcome.UNEXPECTED_RESPONSE

    @responses.activate
    def test_it_does_not_follow_redirects(self):
        first = next(iter(self.ROUTES))
        self.register(responses, {first: (302, "", {"Location": "https://evil.example/steal"})})
        result = self.provider.verify(self.credential())
        assert result.outcome == Outcome.ENDPOINT_NOT_FOUND
        assert "evil.example" in result.message
        assert all("evil.example" not in c.request.url for c in responses.calls)

    @responses.activate
    def test_it_reports_a_server_error_as_unavailable(self):
        first = next(iter(self.ROUTES))
        self.register(responses, {first: (503, {"error": {"message": "overloaded"}}, {})})
        assert self.provider.verify(self.credential()).outcome == Outcome.PROVIDER_UNAVAILABLE

    @responses.activate
    def test_it_reports_rate_limiting_with_retry_after(self):
        first = next(iter(self.ROUTES))
        self.register(
            responses, {first: (429, {"error": {"message": "slow down"}}, {"Retry-After": "17"})}
        )
        result = self.provider.verify(self.credential())
        assert result.outcome == Outcome.RATE_LIMITED and "17" in result.message

    def test_it_times_out_on_a_provider_that_never_answers(self, settings):
        settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
        settings.KODA_VERIFY_TIMEOUT_SECONDS = 0.5
        server = HangingServer()
        try:
            result = self.provider.verify(
                self.credential(**self.url_field(f"http://127.0.0.1:{server.port}"))
            )
        finally:
            server.close()
        assert result.outcome == Outcome.TIMEOUT, result.message
        assert result.outcome.is_transient

    def test_it_reports_a_refused_connection_as_unreachable(self, settings):
        settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        result = self.provider.verify(self.credential(**self.url_field(f"http://127.0.0.1:{port}")))
        assert result.outcome == Outcome.UNREACHABLE, result.message

    def test_it_reports_an_unknown_host_as_unreachable(self):
        result = self.provider.verify(
            self.credential(**self.url_field("https://no-such-host.invalid"))
        )
        assert result.outcome == Outcome.UNREACHABLE and "resolve" in result.message

    @responses.activate
    def test_it_refuses_metadata_and_private_destinations_before_any_request(self, settings):
        refused = ["http://169.254.169.254/latest", "http://[fd00:ec2::254]"]
        if not self.local:  # local runtimes may live on a private network; cloud providers not
            refused.append("https://10.0.0.5/v1")
        for url in refused:
            result = self.provider.verify(self.credential(**self.url_field(url)))
            assert result.outcome == Outcome.BLOCKED_DESTINATION, (url, result.message)
            assert result.remedy
        settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
        result = self.provider.verify(self.credential(**self.url_field("http://169.254.169.254")))
        assert result.outcome == Outcome.BLOCKED_DESTINATION  # metadata: always
        assert len(responses.calls) == 0

    @responses.activate
    def test_it_verifies_the_operator_base_url_instead_of_the_default(self):
        gateway = "https://llm-gateway.example/" + self.provider_id
        self.register(responses, base=gateway)
        result = self.provider.verify(self.credential(**self.url_field(gateway)))
        assert result.ok, result.message
        # Everything goes to the gateway (its own key info, LiteLLM's /key/info, sits at its root).
        assert all(
            c.request.url.startswith("https://llm-gateway.example/") for c in responses.calls
        )
        assert any(c.request.url.startswith(gateway) for c in responses.calls)

    def url_field(self, url: str) -> dict[str, str]:
        name = "endpoint_url" if self.auth_method == "local_endpoint" else "base_url"
        return {name: url}
