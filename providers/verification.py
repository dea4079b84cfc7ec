"""Turning HTTP answers into verification results (design §5).

Adapters declare their probes and vendor quirks; `HttpProvider.check` runs the probes in order
through the HTTP seam and classifies each answer: the adapter's own rules first (status code and
machine-readable fields, then text), then the generic rules below. Whatever an answer holds,
reading it ends in an outcome: a callback that cannot read a body makes it `unexpected_response`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from django.views.decorators.debug import sensitive_variables

from providers import http
from providers.base import Provider
from providers.errors import ErrorFields, error_fields, number, text  # noqa: F401 (re-exported)
from providers.fields import AuthMethod
from providers.gateway import gateway_check
from providers.values import (
    Credential,
    Credit,
    Model,
    Outcome,
    RuntimeAccess,
    Verdict,
    VerificationResult,
)

# Outcomes that mean an alternate URL gave no answer worth reporting in place of the first.
_NO_ANSWER = frozenset(
    {
        Outcome.UNREACHABLE,
        Outcome.TIMEOUT,
        Outcome.ENDPOINT_NOT_FOUND,
        Outcome.BLOCKED_DESTINATION,
    }
)
# What a callback reading an unexpected body raises; each becomes `unexpected_response`.
UNREADABLE = (KeyError, TypeError, AttributeError, ValueError, IndexError)


Check = Callable[[http.ProbeResponse, list[str]], Verdict | None]


@dataclass
class Probe:
    """One request of a verification.

    `expect` decides whether the answer is acceptable (default: a 2xx JSON body, else the error
    is classified); `check` then looks inside an accepted answer and may still fail it (a blocked
    key, an empty balance); `models` extracts the models and `details` facts for the summary (a
    server's version). `expect` and `check` may append notes for the operator (what was and was
    not checked) to the list they are given.
    """

    method: str
    path: str
    check: Check | None = None
    models: Callable[[Any], list[Model]] | None = None
    json_body: Any = None
    send_credentials: bool = True
    expect: Check | None = None
    note: str = ""
    details: Callable[[Any], dict[str, str]] | None = None
    # Reads the credit left from an accepted answer (a balance, a quota), when it shows one.
    credit: Callable[[Any], Credit | None] | None = None
    # The vendor's own endpoint (key info, balance): through a gateway it may not exist, and a
    # 404 there is skipped with a note instead of failing the check.
    vendor_only: bool = False


class HttpProvider(Provider):
    """A provider verified over HTTP. Subclasses set `probes_for`, `auth_headers` and rules."""

    # Other URLs to try when the URL field was left blank and the default one gives one of
    # `retry_on` (region-bound keys; a local server's other usual port).
    alternate_base_urls: ClassVar[tuple[str, ...]] = ()
    retry_on: ClassVar[frozenset[Outcome]] = frozenset({Outcome.INVALID_CREDENTIALS})
    # What the success result says was not checked (shown in the UI).
    unchecked_note: ClassVar[str] = ""

    @staticmethod
    def url_field(credential: Credential) -> str:
        """The field holding the URL that is verified: a local endpoint or a base URL."""
        return "endpoint_url" if credential.method == AuthMethod.LOCAL_ENDPOINT else "base_url"

    def default_url(self, credential: Credential) -> str:
        method = self.method(credential.method)
        spec = method.field(self.url_field(credential)) if method else None
        return (spec.default if spec and spec.default else self.default_base_url).rstrip("/")

    def base_url(self, credential: Credential) -> str:
        return (credential.get(self.url_field(credential)) or self.default_url(credential)).rstrip(
            "/"
        )

    @sensitive_variables()
    def auth_headers(self, credential: Credential) -> dict[str, str]:
        key = credential.get("api_key")
        return {"Authorization": f"Bearer {key}"} if key else {}

    # The API an agent's runtime speaks to this provider (`openai`: OpenAI-compatible).
    protocol: ClassVar[str] = "openai"

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        return RuntimeAccess(self.protocol, self.base_url(credential))

    def probes_for(self, credential: Credential) -> list[Probe]:
        raise NotImplementedError

    def classify(self, response: http.ProbeResponse, fields: ErrorFields) -> Verdict | None:
        """Vendor-specific rules; return None to fall through to the generic rules."""
        return None

    # --- the driver -------------------------------------------------------------------------

    def via_gateway(self, credential: Credential) -> bool:
        """An API key checked at a base URL outside the vendor's own domains (its default and
        regional hosts: api.eu.residency.elevenlabs.io and codestral.mistral.ai are the
        vendor's): a gateway answers, and is checked as one (providers.gateway)."""
        base = credential.get("base_url")
        if credential.method != AuthMethod.API_KEY or not base:
            return False
        host = (urlsplit(base).hostname or "").lower()
        return not any(host == d or host.endswith("." + d) for d in self.vendor_domains(credential))

    def vendor_domains(self, credential: Credential) -> set[str]:
        """The registrable domains (last two labels) of the vendor's default and alternate URLs."""
        hosts = [
            urlsplit(u).hostname or ""
            for u in (self.default_url(credential), *self.alternate_base_urls)
        ]
        return {".".join(h.lower().split(".")[-2:]) for h in hosts if h}

    def check(self, credential: Credential) -> VerificationResult:
        field = self.url_field(credential)
        if self.via_gateway(credential):
            return gateway_check(self, credential, self.base_url(credential))
        result = self.check_at(credential, self.base_url(credential))
        if credential.method == AuthMethod.LOGIN:
            if result.outcome in (Outcome.INVALID_CREDENTIALS, Outcome.REVOKED_CREDENTIALS):
                method = self.method(AuthMethod.LOGIN)
                result.remedy = f"Sign in again ({method.label}) on {self.name}'s page in Koda."
            if result.ok:  # who signed in, where the probe did not say it itself
                for name, key in (("account", "email"), ("plan", "plan")):
                    if credential.get(key):
                        result.details.setdefault(name, credential.get(key))
            return result
        if result.outcome not in self.retry_on or credential.get(field):
            return result
        tried = [self.base_url(credential)]
        for alternate in self.alternate_base_urls:
            retry = self.check_at(credential, alternate)
            if retry.ok:
                retry.notes.append(f"It answered at {alternate}; that URL was saved.")
                retry.resolved_values[field] = alternate
                return retry
            if retry.outcome not in self.retry_on | _NO_ANSWER:
                # Something real answered there (a key refused, no credit): that is the news.
                retry.notes.append(
                    f"Nothing usable at {', '.join(tried)}; this is {alternate}'s answer."
                )
                return retry
            tried.append(alternate)
        if len(tried) > 1:
            result.notes.append(f"Also tried {', '.join(tried[1:])}: {result.outcome} there too.")
        return result

    @sensitive_variables()
    def check_at(self, credential: Credential, base: str) -> VerificationResult:
        """Run every probe against `base`, stopping at the first verdict."""
        started = datetime.now(UTC)
        local = credential.method.is_local
        response: http.ProbeResponse | None = None
        models: list[Model] = []
        notes: list[str] = []
        details: dict[str, str] = {}
        credit: Credit | None = None
        latency = 0
        last_probe = ""

        def finish(verdict: Verdict, answer: http.ProbeResponse | None = None):
            failed = answer is not None and verdict.outcome != Outcome.OK
            return self.result(
                verdict,
                started=started,
                probe=last_probe,
                latency_ms=latency,
                http_status=answer.status if answer is not None else None,
                raw_error=answer.text if failed else "",
                retry_after=answer.retry_after if failed else None,
            )

        for item in self.probes_for(credential):
            url = base + item.path
            last_probe = f"{item.method} {url}"
            try:
                response = self.request(
                    credential,
                    item.method,
                    url,
                    json_body=item.json_body,
                    send_credentials=item.send_credentials,
                    local=local,
                )
            except http.EgressRefused as exc:
                return finish(self.blocked(str(exc), local=local))
            except http.TransportFailed as exc:
                return finish(self.transport_verdict(exc, url, local=local))
            latency += response.latency_ms
            if item.vendor_only and self.gateway_host and response.status in (404, 405):
                where = item.path.split("?")[0]
                notes.append(
                    f"The gateway has no {where} ({type(self).name}'s own endpoint): "
                    "what it shows was not checked."
                )
                continue
            try:
                verdict = (item.expect or self.expect_success)(response, notes)
                if verdict is None and item.check is not None:
                    verdict = item.check(response, notes)
                if verdict is None and item.models is not None:
                    models = item.models(response.json)
                if verdict is None and item.details is not None:
                    details.update(item.details(response.json))
                if verdict is None and item.credit is not None:
                    credit = item.credit(response.json) or credit
            except UNREADABLE:
                verdict = self.unreadable(item.path.split("?")[0], where=_where(url))
            if verdict is not None:
                return finish(verdict, response)
            if item.note:
                notes.append(item.note)
        if self.unchecked_note:
            notes.append(self.unchecked_note)
        result = finish(self.accepted(credential, base), response)
        result.models, result.notes, result.details = models, notes, details
        result.credit = credit
        return result

    @sensitive_variables()
    def request(
        self,
        credential: Credential,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        send_credentials: bool = True,
        local: bool,
    ) -> http.ProbeResponse:
        """One request of a check, with this provider's auth headers and its egress rules."""
        headers = self.auth_headers(credential) if send_credentials else {}
        return http.probe(
            method,
            url,
            headers=headers,
            json_body=json_body,
            secrets=credential.secret_values,
            local=local,
        )

    def accepted(self, credential: Credential, base: str) -> Verdict:
        if credential.method.is_local:
            return Verdict(Outcome.OK, f"{self.name} answers at {_where(base)}.")
        return Verdict(Outcome.OK, f"{self.name} accepted the credential.")

    def expect_success(self, response: http.ProbeResponse, notes: list[str]) -> Verdict | None:
        if 200 <= response.status < 300:
            if response.is_html:
                return Verdict(
                    Outcome.ENDPOINT_NOT_FOUND,
                    f"The URL answered with a web page, not {self.name}'s API.",
                    "Check the URL; it should be the API root, not a website.",
                )
            if not response.is_json or not isinstance(response.json, (dict, list)):
                return Verdict(
                    Outcome.UNEXPECTED_RESPONSE,
                    f"{self.name} answered {response.status} with a body Koda cannot read.",
                    "Check the URL points at the API itself.",
                )
            return None
        return self.classify_error(response)

    def classify_error(self, response: http.ProbeResponse) -> Verdict:
        fields = error_fields(response.json) if response.is_json else ErrorFields()
        return self.classify(response, fields) or self._generic(response, fields)

    def _generic(self, response: http.ProbeResponse, fields: ErrorFields) -> Verdict:
        status, name, where = response.status, self.name, _where(response.url)
        if 300 <= status < 400:
            target = _shown_location(response.url, response.headers.get("location", ""))
            return Verdict(
                Outcome.ENDPOINT_NOT_FOUND,
                f"{name} redirected to {target}; Koda does not follow redirects."[:300],
                "Use the final URL as the base URL.",
            )
        if status == 401:
            return self.invalid(fields.message or "The key was not accepted.")
        if status == 402:
            return self.billing(fields.message or "Payment required.")
        if status == 403:
            if response.is_html:
                return Verdict(
                    Outcome.REGION_UNSUPPORTED,
                    f"{name}'s network edge refused this server (an HTML 403 page, "
                    "usually a country or datacenter block).",
                    "Run Koda from a supported region, or through a gateway.",
                )
            return self.scope(fields.message or "The key lacks a permission this check needs.")
        if status in (404, 405, 410) or response.is_html:
            return Verdict(
                Outcome.ENDPOINT_NOT_FOUND,
                f"{where} has no such endpoint ({status} for {urlsplit(response.url).path}).",
                f"Check the URL (default {self.default_base_url or 'see the docs'}).",
            )
        if status == 408:
            return Verdict(
                Outcome.TIMEOUT, f"{name} timed out answering ({status}).", "Try again in a minute."
            )
        if status == 429:
            return self.rate_limited(fields.message, response.retry_after)
        if status >= 500:
            return Verdict(
                Outcome.PROVIDER_UNAVAILABLE,
                f"{name} at {where} is having trouble ({status}).",
                f"Try again later; see {name}'s status page."
                if not self.kind == "local"
                else "Look at the server's own log; try again once it is healthy.",
            )
        return Verdict(
            Outcome.UNEXPECTED_RESPONSE,
            f"{name} answered {status}: {fields.message or 'an unexpected error'}."[:300],
            "Read the raw error below; the request itself may be wrong.",
        )

    def transport_verdict(self, exc: http.TransportFailed, url: str, *, local: bool) -> Verdict:
        if exc.kind == "timeout":
            return self.timed_out(exc.detail, where=_where(url), local=local)
        return self.unreachable(exc.detail, where=_where(url), local=local)


def _shown_location(base: str, location: str) -> str:
    """Where a redirect points, fit to quote: scheme, host and path only. Its query, fragment
    and any user:password are dropped (a signed URL's token, a key in `?key=`), not redacted
    piecemeal."""
    if not location.strip():
        return "another URL"
    parts = urlsplit(urljoin(base, location.strip()))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    dropped = "?…" if parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{dropped}"[:200]


def _where(url: str) -> str:
    """`host:port` of a URL, as messages name it."""
    parts = urlsplit(url)
    return parts.netloc or url


def openai_style_models(body: Any) -> list[Model]:
    """`{"data": [{"id": ...}, ...]}` as served by OpenAI and every compatible API. The list says
    nothing of capabilities; embedding models are named so (text-embedding-3-small, …)."""
    return [
        Model.of(
            item["id"],
            item.get("name") or item.get("display_name"),
            ["embedding"] if "embed" in str(item["id"]).lower() else [],
        )
        for item in body["data"]
    ]
