"""The adapter contract every provider implements (design §5).

Adapters know nothing about the database: they take a `Credential` (plain values) and return a
`VerificationResult`. `Provider.verify` never raises: a provider-side failure is an outcome, and
so is an answer an adapter cannot read, whatever its shape.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from django.views.decorators.debug import sensitive_variables

from koda.redaction import redact
from providers import http
from providers.fields import AuthMethod, Method
from providers.values import (
    Capability,
    Credential,
    Outcome,
    RuntimeAccess,
    Verdict,
    VerificationResult,
)

if TYPE_CHECKING:
    from providers.oauth import LoginFlow

log = logging.getLogger("koda.verify")

RAW_ERROR_LIMIT = 4096


class Provider:
    """Base of every adapter: the catalog's metadata, the verdict helpers that make messages and
    remedies read alike, and `verify`.

    Subclasses set the class attributes and implement `check`; `verify` wraps it so that no
    answer, however odd, escapes as an exception.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    kind: ClassVar[str] = "cloud"  # cloud | local
    docs_url: ClassVar[str] = ""
    keys_url: ClassVar[str] = ""  # where a key is made or revoked
    billing_url: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    methods: ClassVar[tuple[Method, ...]] = ()
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    good_for: ClassVar[str] = ""
    needs_default_model: ClassVar[bool] = False
    # For local runtimes: how an operator starts the server (used in remedies).
    start_hint: ClassVar[str] = ""
    # Set on the copy that verifies a credential through a gateway (providers.gateway): the
    # host that answered, which messages and remedies then name instead of the vendor's pages.
    gateway_host: str = ""

    def method(self, method_id: str) -> Method | None:
        return next((m for m in self.methods if m.id == method_id), None)

    def describe(self) -> dict:
        """The catalog entry (design §7), without any connection state."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "docs_url": self.docs_url,
            "keys_url": self.keys_url,
            "default_base_url": self.default_base_url,
            "auth_methods": [m.describe() for m in self.methods],
            "capabilities": sorted(self.capabilities),
            "good_for": self.good_for,
            "needs_default_model": self.needs_default_model,
            "custom": False,
            "preset": None,
        }

    # --- verification -----------------------------------------------------------------------

    @sensitive_variables()
    def verify(self, credential: Credential) -> VerificationResult:
        """Check the credential against the provider. Never raises."""
        started = datetime.now(UTC)
        try:
            with http.connections_kept():  # the check's requests to one origin share a connection
                return self.check(credential)
        except Exception as exc:  # an adapter bug or an answer nobody foresaw: still an outcome
            detail = redact("".join(traceback.format_exception(exc)), *credential.secret_values)
            log.error("verification of %s could not read the answer:\n%s", self.id, detail)
            return self.result(
                Verdict(
                    Outcome.UNEXPECTED_RESPONSE,
                    f"Koda could not interpret {self.name}'s answer ({type(exc).__name__}).",
                    "Try again; if it persists, report it with the raw error.",
                ),
                started=started,
                raw_error=redact(str(exc), *credential.secret_values),
            )

    def check(self, credential: Credential) -> VerificationResult:
        raise NotImplementedError(f"verification for {self.id} is not implemented yet")

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        """How an agent's runtime reaches this provider with this credential."""
        return RuntimeAccess(self.id)

    def runtime_credential(self, credential: Credential) -> dict[str, str]:
        """The secret parts an agent's runtime gets: all of a key's; of a sign-in only the
        access token (the refresh token never leaves Koda: a runtime spending it would end
        Koda's sign-in, since refresh tokens rotate)."""
        if credential.method == AuthMethod.LOGIN:
            return {"access_token": credential.get("access_token")}
        return dict(credential.secrets)

    def login_flow(self) -> LoginFlow | None:
        """The provider's sign-in flow, for providers with a LOGIN method."""
        return None

    def result(
        self,
        verdict: Verdict,
        *,
        started: datetime,
        probe: str = "",
        latency_ms: int = 0,
        http_status: int | None = None,
        raw_error: str = "",
        retry_after: int | None = None,
    ) -> VerificationResult:
        """Build the result of one check from its verdict (raw error already redacted)."""
        return VerificationResult(
            ok=verdict.outcome == Outcome.OK,
            outcome=verdict.outcome,
            message=verdict.message,
            remedy=verdict.remedy,
            http_status=http_status,
            raw_error=raw_error[:RAW_ERROR_LIMIT],
            probe=probe,
            latency_ms=latency_ms,
            checked_at=started.isoformat(),
            retry_after_seconds=retry_after,
        )

    # --- verdict helpers, so messages and remedies read alike ----------------------------------

    @property
    def key_remedy(self) -> str:
        if self.gateway_host:
            return (
                f"Use a key the gateway at {self.gateway_host} accepts "
                "(its administrator issues them)."
            )
        return f"Copy a current key from {self.keys_url or self.docs_url}."

    def invalid(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.INVALID_CREDENTIALS,
            f"{self.name} does not recognise this key: {detail}"[:300],
            self.key_remedy,
        )

    def revoked(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.REVOKED_CREDENTIALS,
            f"{self.name} says this key or account is disabled: {detail}"[:300],
            f"Ask the administrator of the gateway at {self.gateway_host} to unblock or renew "
            "the key, or use another one."
            if self.gateway_host
            else f"Create a new key at {self.keys_url or self.docs_url}, or contact "
            f"{self.name} support if the account was suspended.",
        )

    def scope(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.INSUFFICIENT_SCOPE,
            f"The key works but lacks a permission: {detail}"[:300],
            f"Ask the administrator of the gateway at {self.gateway_host} to grant it."
            if self.gateway_host
            else f"Grant the permission on the key at {self.keys_url or self.docs_url}, "
            "or use an unrestricted key.",
        )

    def billing(self, detail: str) -> Verdict:
        return Verdict(
            Outcome.BILLING,
            f"{self.name} refuses for billing: {detail}"[:300],
            f"Raise the key's budget on the gateway at {self.gateway_host} (or wait for it to "
            "reset)."
            if self.gateway_host
            else f"Add credit or raise the limit at {self.billing_url or self.docs_url}.",
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

    def unreadable(self, what: str, where: str = "") -> Verdict:
        """A 2xx whose body lacks what the probe reads: most often a wrong base URL."""
        return Verdict(
            Outcome.UNEXPECTED_RESPONSE,
            f"{self.name}'s {what} answer is unreadable.",
            f"Check the URL{f' ({where})' if where else ''}; it should be {self.name}'s API root.",
        )

    def rate_limited(self, detail: str = "", retry_after: int | None = None) -> Verdict:
        wait = f" Retry after {retry_after} s." if retry_after is not None else ""
        return Verdict(
            Outcome.RATE_LIMITED,
            f"{self.name} is rate limiting this key.{wait} {detail}".strip()[:300],
            "Wait and verify again; a sweep backs off by itself.",
        )

    def blocked(self, detail: str, *, local: bool) -> Verdict:
        remedy = (
            "Use an address on this machine or your network; cloud metadata addresses are "
            "always refused."
            if local
            else "Use the provider's public https URL, or allow private base URLs "
            "(KODA_ALLOW_PRIVATE_BASE_URLS)."
        )
        return Verdict(Outcome.BLOCKED_DESTINATION, detail, remedy)

    def unreachable(self, detail: str, *, where: str, local: bool) -> Verdict:
        if local:
            return Verdict(
                Outcome.UNREACHABLE,
                f"Nothing answers at {where}: {detail}.",
                f"{self.start_hint or f'Start {self.name}.'} Then check the host and port.",
            )
        return Verdict(
            Outcome.UNREACHABLE,
            f"Could not reach {self.name} at {where}: {detail}.",
            "Check the base URL, DNS and firewall rules for outbound https.",
        )

    def timed_out(self, detail: str, *, where: str, local: bool) -> Verdict:
        if local:
            return Verdict(
                Outcome.TIMEOUT,
                f"{self.name} at {where} did not answer in time ({detail}).",
                "The server may be busy loading a model; try again, or raise "
                "KODA_VERIFY_TIMEOUT_SECONDS.",
            )
        return Verdict(
            Outcome.TIMEOUT,
            f"{self.name} did not answer in time ({detail}).",
            "Check the base URL and the network; raise KODA_VERIFY_TIMEOUT_SECONDS for slow links.",
        )
