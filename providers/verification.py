"""Turning HTTP answers into verification results (design §5).

Adapters declare their probes and vendor quirks; `HttpProvider.verify` runs the probes in order
through the HTTP seam and classifies each answer: the adapter's own rules first (status code and
machine-readable fields, then text), then the generic rules below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from providers import http
from providers.base import Credential, Outcome, Provider, VerificationResult

RAW_ERROR_LIMIT = 4096


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    message: str
    remedy: str = ""


@dataclass(frozen=True)
class ErrorFields:
    """The machine-readable parts of an error body, whatever the vendor's envelope."""

    type: str = ""
    code: str = ""
    status: str = ""
    reasons: tuple[str, ...] = ()
    message: str = ""

    def has(self, *needles: str) -> bool:
        """True when any needle appears in the message (case-insensitive): a hint only."""
        text = self.message.lower()
        return any(n.lower() in text for n in needles)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def error_fields(body: Any) -> ErrorFields:
    """Read OpenAI/Anthropic (`error.type/code`), Google (`error.status`, `details[].reason`),
    ElevenLabs (`detail.status`), xAI (`code`, `error` text), DashScope (`code`) envelopes."""
    if not isinstance(body, dict):
        return ErrorFields()
    error, detail = body.get("error"), body.get("detail")
    if isinstance(error, dict):
        reasons = tuple(
            _text(d.get("reason"))
            for d in error.get("details") or []
            if isinstance(d, dict) and d.get("reason")
        )
        return ErrorFields(
            type=_text(error.get("type")),
            code=_text(error.get("code")),
            status=_text(error.get("status")),
            reasons=reasons,
            message=_text(error.get("message")),
        )
    if isinstance(detail, dict):
        return ErrorFields(
            status=_text(detail.get("status")),
            code=_text(detail.get("code")),
            type=_text(detail.get("type")),
            message=_text(detail.get("message")),
        )
    message = error if isinstance(error, str) else detail if isinstance(detail, str) else ""
    return ErrorFields(
        code=_text(body.get("code")),
        type=_text(body.get("type")),
        message=_text(message or body.get("message")),
    )


@dataclass
class Probe:
    """One request of a verification.

    `expect` decides whether the answer is acceptable (default: a 2xx JSON body, else the error
    is classified); `check` then looks inside an accepted answer and may still fail it (a blocked
    key, an empty balance); `models` extracts model entries. `expect` and `check` may append
    notes for the operator (what was and was not checked) to the list they are given.
    """

    method: str
    path: str
    check: Callable[[http.ProbeResponse, list[str]], Verdict | None] | None = None
    models: Callable[[Any], list[dict]] | None = None
    json_body: Any = None
    send_credentials: bool = True
    expect: Callable[[http.ProbeResponse, list[str]], Verdict | None] | None = None
    note: str = ""


class HttpProvider(Provider):
    """A provider verified over HTTP. Subclasses set `probes_for`, `auth_headers` and rules."""

    # Extra bases to try when the key is refused on the default one (region-bound keys).
    alternate_base_urls: ClassVar[tuple[str, ...]] = ()
    # What the success result says was not checked (shown in the UI).
    unchecked_note: ClassVar[str] = ""

    def base_url(self, credential: Credential) -> str:
        return (credential.base_url or self.default_base_url).rstrip("/")

    def auth_headers(self, credential: Credential) -> dict[str, str]:
        return {"Authorization": f"Bearer {credential.api_key}"}

    def is_local(self, credential: Credential) -> bool:
        """Local providers may use loopback and private addresses (design §6)."""
        return self.kind == "local"

    def probes_for(self, credential: Credential) -> list[Probe]:
        raise NotImplementedError

    def classify(self, response: http.ProbeResponse, fields: ErrorFields) -> Verdict | None:
        """Vendor-specific rules; return None to fall through to the generic rules."""
        return None

    # --- the driver -------------------------------------------------------------------------

    def verify(self, credential: Credential) -> VerificationResult:
        result = self._verify_at(credential, self.base_url(credential))
        if (
            result.outcome == Outcome.INVALID_CREDENTIALS
            and not credential.base_url
            and self.alternate_base_urls
        ):
            # Region-bound keys (DashScope, Moonshot) get 401 on the other region's host.
            for alternate in self.alternate_base_urls:
                retry = self._verify_at(credential, alternate)
                if retry.ok:
                    retry.notes.append(
                        f"This key belongs to {alternate}; the base URL was set to it."
                    )
                    return retry
        return result

    def _verify_at(self, credential: Credential, base: str) -> VerificationResult:
        result = self._run_probes(credential, base)
        result.base_url = base
        return result

    def _run_probes(self, credential: Credential, base: str) -> VerificationResult:
        started = datetime.now(UTC)
        response: http.ProbeResponse | None = None
        models: list[dict] = []
        notes: list[str] = []
        latency = 0
        last_probe = ""
        for item in self.probes_for(credential):
            url = base + item.path
            last_probe = f"{item.method} {url}"
            headers = self.auth_headers(credential) if item.send_credentials else {}
            try:
                response = http.probe(
                    item.method,
                    url,
                    headers=headers,
                    json_body=item.json_body,
                    secrets=credential.secrets,
                    local=self.is_local(credential),
                )
            except http.EgressRefused as exc:
                return self._result(
                    Verdict(
                        Outcome.BLOCKED_DESTINATION,
                        str(exc),
                        "Use the provider's public https URL, or allow "
                        "private base URLs (KODA_ALLOW_PRIVATE_BASE_URLS).",
                    ),
                    last_probe,
                    started,
                    latency,
                )
            except http.TransportFailed as exc:
                return self._result(self._transport_verdict(exc), last_probe, started, latency)
            latency += response.latency_ms
            verdict = (item.expect or self._expect_success)(response, notes)
            if verdict is None and item.check is not None:
                verdict = item.check(response, notes)
            if verdict is not None:
                return self._result(verdict, last_probe, started, latency, response)
            if item.models is not None:
                try:
                    models = item.models(response.json)
                except (KeyError, TypeError, AttributeError, ValueError):
                    verdict = self.unreadable("model list")
                    return self._result(verdict, last_probe, started, latency, response)
            if item.note:
                notes.append(item.note)
        if self.unchecked_note:
            notes.append(self.unchecked_note)
        result = self._result(
            Verdict(Outcome.OK, f"{self.name} accepted the credential."),
            last_probe,
            started,
            latency,
            response,
        )
        result.models, result.notes = models, notes
        return result

    def _expect_success(self, response: http.ProbeResponse, notes: list[str]) -> Verdict | None:
        if 200 <= response.status < 300:
            if response.is_html:
                return Verdict(
                    Outcome.ENDPOINT_NOT_FOUND,
                    f"The URL answered with a web page, not {self.name}'s API.",
                    "Check the base URL; it should be the API root, not the website.",
                )
            if not response.is_json or not isinstance(response.json, (dict, list)):
                return Verdict(
                    Outcome.UNEXPECTED_RESPONSE,
                    f"{self.name} answered {response.status} with a body Koda cannot read.",
                    "Check the base URL points at the API itself.",
                )
            return None
        return self.classify_error(response)

    def classify_error(self, response: http.ProbeResponse) -> Verdict:
        fields = error_fields(response.json) if response.is_json else ErrorFields()
        return self.classify(response, fields) or self._generic(response, fields)

    def _generic(self, response: http.ProbeResponse, fields: ErrorFields) -> Verdict:
        status, name = response.status, self.name
        if 300 <= status < 400:
            target = response.headers.get("location", "another URL")
            return Verdict(
                Outcome.ENDPOINT_NOT_FOUND,
                f"{name} redirected to {target}; Koda does not follow redirects.",
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
                f"{name} has no such endpoint at this URL ({status}).",
                f"Check the base URL (default {self.default_base_url}).",
            )
        if status == 408:
            return Verdict(
                Outcome.TIMEOUT, f"{name} timed out answering ({status}).", "Try again in a minute."
            )
        if status == 429:
            return self.rate_limited(response, fields.message)
        if status >= 500:
            return Verdict(
                Outcome.PROVIDER_UNAVAILABLE,
                f"{name} is having trouble ({status}).",
                f"Try again later; see {name}'s status page.",
            )
        return Verdict(
            Outcome.UNEXPECTED_RESPONSE,
            f"{name} answered {status}: {fields.message or 'an unexpected error'}."[:300],
            "Read the raw error below; the request itself may be wrong.",
        )

    # --- verdict helpers adapters use, so messages and remedies read alike -------------------

    def invalid(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.INVALID_CREDENTIALS,
            f"{self.name} does not recognise this key: {detail}"[:300],
            f"Copy a current key from {self.keys_url or self.docs_url}.",
        )

    def revoked(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.REVOKED_CREDENTIALS,
            f"{self.name} says this key or account is disabled: {detail}"[:300],
            f"Create a new key at {self.keys_url or self.docs_url}, or contact "
            f"{self.name} support if the account was suspended.",
        )

    def scope(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.INSUFFICIENT_SCOPE,
            f"The key works but lacks a permission: {detail}"[:300],
            f"Grant the permission on the key at {self.keys_url or self.docs_url}, "
            "or use an unrestricted key.",
        )

    def billing(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.BILLING,
            f"{self.name} refuses for billing: {detail}"[:300],
            f"Add credit or raise the limit at {self.billing_url or self.docs_url}.",
        )

    def region(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.REGION_UNSUPPORTED,
            f"{self.name} does not serve this server's region: {detail}"[:300],
            "Run Koda (or a gateway) from a supported country.",
        )

    def unavailable(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.PROVIDER_UNAVAILABLE,
            f"{self.name} is unavailable: {detail}"[:300],
            "Try again later.",
        )

    def unreadable(self, what: str) -> Verdict:
        """A 2xx whose body lacks what the probe reads: most often a wrong base URL."""
        return Verdict(
            Outcome.UNEXPECTED_RESPONSE,
            f"{self.name}'s {what} answer is unreadable.",
            f"Check the base URL (default {self.default_base_url}).",
        )

    def rate_limited(self, response: http.ProbeResponse, detail: str = "") -> Verdict:
        retry_after = response.headers.get("retry-after")
        wait = f" Retry after {retry_after} s." if retry_after else ""
        return Verdict(
            Outcome.RATE_LIMITED,
            f"{self.name} is rate limiting this key.{wait} {detail}".strip()[:300],
            "Wait and verify again; a sweep backs off by itself.",
        )

    def _transport_verdict(self, exc: http.TransportFailed) -> Verdict:
        if exc.kind == "timeout":
            return Verdict(
                Outcome.TIMEOUT,
                f"{self.name} did not answer in time ({exc.detail}).",
                "Check the base URL and the network; raise "
                "KODA_VERIFY_TIMEOUT_SECONDS for slow links.",
            )
        return Verdict(
            Outcome.UNREACHABLE,
            f"Could not reach {self.name}: {exc.detail}.",
            "Check the base URL, DNS and firewall rules for outbound https.",
        )

    def _result(
        self,
        verdict: Verdict,
        probe: str,
        started: datetime,
        latency: int,
        response: http.ProbeResponse | None = None,
    ) -> VerificationResult:
        raw = ""
        retry_after = None
        if response is not None and verdict.outcome != Outcome.OK:
            raw = response.text[:RAW_ERROR_LIMIT]
            value = response.headers.get("retry-after", "")
            retry_after = int(value) if value.isdigit() else None
        return VerificationResult(
            retry_after_seconds=retry_after,
            ok=verdict.outcome == Outcome.OK,
            outcome=verdict.outcome,
            message=verdict.message,
            remedy=verdict.remedy,
            http_status=response.status if response is not None else None,
            raw_error=raw,
            probe=probe,
            latency_ms=latency,
            checked_at=started.isoformat(),
        )


def openai_style_models(body: Any) -> list[dict]:
    """`{"data": [{"id": ...}, ...]}` as served by OpenAI and every compatible API."""
    return [
        model_entry(item["id"], item.get("name") or item.get("display_name"))
        for item in body["data"]
    ]


def model_entry(
    model_id: str, name: str | None = None, capabilities: list[str] | None = None
) -> dict:
    entry: dict = {"id": str(model_id)}
    if name:
        entry["name"] = str(name)
    if capabilities:
        entry["capabilities"] = sorted(set(capabilities))
    return entry
