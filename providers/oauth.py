"""Sign-in flows: the OAuth 2.0 public clients the Claude and ChatGPT sign-ins use (providers.md
§1b, §2b). The paste-back flow (authorize URL with PKCE S256, the operator pastes `code#state`),
the device flow (a user code the operator enters at the provider, polled until approved), the
code exchange and the refresh.

Database-free, like the adapters: `connections.login` keeps the sessions and the tokens. Every
request goes through the HTTP seam (egress policy, one deadline, no redirects, redaction). The
endpoints and client ids come from settings (design §9), so an operator can point them elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.views.decorators.debug import sensitive_variables

from providers import http
from providers.errors import error_fields, text

# Why a sign-in step failed: stable values of the API (`details.reason`).
DENIED = "denied"  # the operator (or the workspace) refused consent
INVALID_CODE = "invalid_code"  # the provider refused the code or the refresh token
EXPIRED = "expired"  # the device code or the session ran out
PROVIDER_ERROR = "provider_error"  # the provider failed (5xx, an unreadable answer)
UNREACHABLE = "unreachable"  # no answer (network, timeout, egress refused)

# Refresh errors that mean "sign in again" (codex-rs core auth; RFC 6749 §5.2).
PERMANENT_REFRESH_ERRORS = frozenset(
    {
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
        "refresh_token_expired",
        "refresh_token_reused",
        "refresh_token_invalidated",
    }
)


class LoginFailed(Exception):
    """A sign-in step the provider refused or could not answer. `permanent` says whether trying
    again with the same code or refresh token can help (never for a refused refresh token)."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        raw_error: str = "",
        http_status: int | None = None,
        permanent: bool = True,
    ) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message
        self.raw_error, self.http_status, self.permanent = raw_error, http_status, permanent


@dataclass(frozen=True, repr=False)
class Tokens:
    """What a code exchange or a refresh returned. `account` facts (id, email, plan) come from
    the answer or the ID token's claims where the provider gives them."""

    access_token: str
    refresh_token: str = ""
    expires_at: int | None = None  # epoch seconds
    account: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Tokens(expires_at={self.expires_at!r}, account={self.account!r}, …)"

    def secrets(self) -> dict[str, str]:
        """The credential's secret parts: the tokens. (The account facts are not secret, and
        must not be: every secret part is redacted wherever it appears, a plan name too.)"""
        parts = {"access_token": self.access_token, "refresh_token": self.refresh_token}
        return {k: v for k, v in parts.items() if v}


@dataclass(frozen=True)
class DeviceCode:
    """What the operator needs for a device sign-in, and what polling needs (`device_id`)."""

    device_id: str
    user_code: str
    verification_url: str
    interval: int
    expires_in: int


@dataclass(frozen=True)
class LoginFlow:
    """One provider's sign-in: `paste` (authorize URL, pasted code) or `device`."""

    kind: str
    client_id: str
    token_urls: tuple[str, ...]  # tried in order while one answers 404 (a moved endpoint)
    authorize_url: str = ""
    redirect_uri: str = ""
    scopes: str = ""
    authorize_extra: dict[str, str] = field(default_factory=dict)
    token_encoding: str = "json"  # the code exchange's body: json or form
    refresh_extra: dict[str, str] = field(default_factory=dict)
    device_code_url: str = ""
    device_poll_url: str = ""
    verification_url: str = ""
    device_redirect_uri: str = ""  # the redirect URI a device flow's code is exchanged with
    # Account facts from a token answer (id, email, plan), by provider.
    account: Callable[[dict], dict[str, str]] = lambda body: {}
    name: str = ""


def pkce_verifier() -> str:
    """A PKCE code verifier (RFC 7636): 64 URL-safe characters."""
    return secrets.token_urlsafe(48)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: base64url of its SHA-256, without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    return secrets.token_urlsafe(32)


def authorize_url(flow: LoginFlow, *, state: str, challenge: str) -> str:
    query = {
        **flow.authorize_extra,
        "client_id": flow.client_id,
        "response_type": "code",
        "redirect_uri": flow.redirect_uri,
        "scope": flow.scopes,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
    }
    return f"{flow.authorize_url}?{urlencode(query)}"


@sensitive_variables()
def exchange_code(
    flow: LoginFlow, *, code: str, verifier: str, state: str = "", redirect_uri: str = ""
) -> Tokens:
    """Trade an authorization code for tokens. Raises LoginFailed."""
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": flow.client_id,
        "redirect_uri": redirect_uri or flow.redirect_uri,
        "code_verifier": verifier,
        **({"state": state} if state else {}),
    }
    answer = _token_request(
        flow, body, secrets=(code, verifier), form=flow.token_encoding == "form"
    )
    return _tokens(flow, answer, previous_refresh="")


@sensitive_variables()
def refresh(flow: LoginFlow, refresh_token: str) -> Tokens:
    """A new access token (and, where the provider rotates them, a new refresh token; else the
    old one is kept). Raises LoginFailed: `permanent` for a refused refresh token."""
    body = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": flow.client_id,
        **flow.refresh_extra,
    }
    answer = _token_request(flow, body, secrets=(refresh_token,), form=False, refreshing=True)
    return _tokens(flow, answer, previous_refresh=refresh_token)


def device_start(flow: LoginFlow) -> DeviceCode:
    """Ask for a user code. Raises LoginFailed."""
    answer = _call("POST", flow.device_code_url, json_body={"client_id": flow.client_id}, flow=flow)
    if answer.status == 404:
        raise LoginFailed(
            PROVIDER_ERROR,
            f"{flow.name} does not offer device sign-in at {_host(flow.device_code_url)}.",
            raw_error=answer.text,
            http_status=404,
        )
    body = _success(answer, flow)
    device_id = text(body.get("device_auth_id") or body.get("device_code"))
    user_code = text(body.get("user_code") or body.get("usercode"))
    if not device_id or not user_code:
        raise _unreadable(flow, answer)
    return DeviceCode(
        device_id=device_id,
        user_code=user_code,
        verification_url=text(body.get("verification_uri") or body.get("verification_url"))
        or flow.verification_url,
        interval=_seconds(body.get("interval"), default=5, low=1, high=60),
        expires_in=_seconds(body.get("expires_in"), default=900, low=60, high=3600),
    )


@dataclass(frozen=True)
class DevicePoll:
    """`pending`, `slow_down` (wait longer between polls) or `approved` (with the tokens)."""

    status: str
    tokens: Tokens | None = None


@sensitive_variables()
def device_poll(flow: LoginFlow, *, device_id: str, user_code: str) -> DevicePoll:
    """One poll of a device sign-in. Answers both the Codex shape (403/404 while pending, then an
    authorization code with its PKCE verifier) and RFC 8628's (`authorization_pending`,
    `slow_down`, `expired_token`, `access_denied`, or the tokens). Raises LoginFailed."""
    answer = _call(
        "POST",
        flow.device_poll_url,
        json_body={"device_auth_id": device_id, "user_code": user_code},
        flow=flow,
        secrets=(device_id,),
        issues_secrets=True,  # an authorization code and its verifier, or tokens
    )
    oauth_error = _oauth_error(answer)
    if oauth_error in ("authorization_pending", "slow_down"):
        return DevicePoll("pending" if oauth_error == "authorization_pending" else "slow_down")
    if oauth_error == "expired_token" or answer.status == 410:
        raise LoginFailed(EXPIRED, f"The {flow.name} sign-in code expired.", raw_error=answer.text)
    if oauth_error == "access_denied":
        raise LoginFailed(DENIED, f"The {flow.name} sign-in was refused.", raw_error=answer.text)
    if answer.status in (403, 404):
        return DevicePoll("pending")  # Codex answers 403/404 until the code is approved
    if answer.status == 429:
        return DevicePoll("slow_down")
    body = _success(answer, flow)
    if body.get("access_token"):
        return DevicePoll("approved", _tokens(flow, body, previous_refresh=""))
    code = text(body.get("authorization_code"))
    verifier = text(body.get("code_verifier"))
    if not code or not verifier:
        raise _unreadable(flow, answer)
    tokens = exchange_code(
        flow, code=code, verifier=verifier, redirect_uri=flow.device_redirect_uri
    )
    return DevicePoll("approved", tokens)


# --- the HTTP side ------------------------------------------------------------------------------


@sensitive_variables()
def _call(
    method: str,
    url: str,
    *,
    flow: LoginFlow,
    json_body: Any = None,
    form_body: dict | None = None,
    secrets: tuple[str, ...] = (),
    issues_secrets: bool = False,
) -> http.ProbeResponse:
    try:
        return http.probe(
            method,
            url,
            json_body=json_body,
            form_body=form_body,
            secrets=secrets,
            issues_secrets=issues_secrets,
        )
    except http.EgressRefused as exc:
        raise LoginFailed(UNREACHABLE, f"Koda may not call {_host(url)}: {exc}") from None
    except http.TransportFailed as exc:
        raise LoginFailed(
            UNREACHABLE, f"{flow.name} at {_host(url)}: {exc.detail}.", permanent=False
        ) from None


@sensitive_variables()
def _token_request(
    flow: LoginFlow, body: dict, *, secrets: tuple[str, ...], form: bool, refreshing: bool = False
) -> dict:
    answer = None
    for url in flow.token_urls:
        answer = _call(
            "POST",
            url,
            flow=flow,
            json_body=None if form else body,
            form_body=body if form else None,
            secrets=secrets,
            issues_secrets=True,
        )
        if answer.status != 404:
            break
    oauth_error = _oauth_error(answer)
    if oauth_error:
        what = "refresh token" if refreshing else "code"
        permanent = oauth_error in PERMANENT_REFRESH_ERRORS or not refreshing
        raise LoginFailed(
            INVALID_CODE if permanent else PROVIDER_ERROR,
            f"{flow.name} refused the {what}: {_error_text(answer) or oauth_error}"[:300],
            raw_error=answer.text,
            http_status=answer.status,
            permanent=permanent,
        )
    return _success(answer, flow, refreshing=refreshing)


def _success(answer: http.ProbeResponse, flow: LoginFlow, *, refreshing: bool = False) -> dict:
    if 200 <= answer.status < 300 and isinstance(answer.json, dict):
        return answer.json
    if 200 <= answer.status < 300:
        raise _unreadable(flow, answer)
    transient = answer.status >= 500 or answer.status in (408, 429)
    if refreshing and answer.status in (400, 401, 403):
        reason, permanent = INVALID_CODE, True
    else:
        reason, permanent = PROVIDER_ERROR, not transient
    raise LoginFailed(
        reason,
        f"{flow.name} answered {answer.status}: {_error_text(answer) or 'an error'}"[:300],
        raw_error=answer.text,
        http_status=answer.status,
        permanent=permanent,
    )


def _unreadable(flow: LoginFlow, answer: http.ProbeResponse) -> LoginFailed:
    return LoginFailed(
        PROVIDER_ERROR,
        f"{flow.name}'s sign-in answer from {_host(answer.url)} is unreadable.",
        raw_error=answer.text,
        http_status=answer.status,
        permanent=False,
    )


def _oauth_error(answer: http.ProbeResponse) -> str:
    """The error code of an OAuth error answer: RFC 6749's `error` string, or OpenAI's
    `error.code` (`refresh_token_reused`), or ""."""
    if 200 <= answer.status < 300 or not isinstance(answer.json, dict):
        return ""
    error = answer.json.get("error")
    if isinstance(error, str):
        return error
    fields = error_fields(answer.json)
    return fields.code or (fields.type if fields.type in PERMANENT_REFRESH_ERRORS else "")


def _error_text(answer: http.ProbeResponse) -> str:
    if not isinstance(answer.json, dict):
        return ""
    return text(answer.json.get("error_description"), 300) or error_fields(answer.json).message


def _tokens(flow: LoginFlow, body: dict, *, previous_refresh: str) -> Tokens:
    access = text(body.get("access_token"))
    if not access:
        raise LoginFailed(
            PROVIDER_ERROR, f"{flow.name} answered without an access token.", permanent=False
        )
    expires_in = body.get("expires_in")
    expires_at = None
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0:
        expires_at = int(time.time() + min(expires_in, 366 * 86400))
    else:
        expires_at = _jwt_claims(access).get("exp")
        expires_at = int(expires_at) if isinstance(expires_at, (int, float)) else None
    try:
        account = {k: v for k, v in flow.account(body).items() if v}
    except (KeyError, TypeError, AttributeError, ValueError):
        account = {}
    return Tokens(
        access_token=access,
        # Rotating refresh tokens: always the new one; a provider that sends none keeps the old.
        refresh_token=text(body.get("refresh_token")) or previous_refresh,
        expires_at=expires_at,
        account=account,
    )


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, read without checking its signature: only for showing who signed
    in (the provider's own API is what verifies the token)."""
    return _jwt_claims(token)


def _jwt_claims(token: str) -> dict:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _seconds(value: Any, *, default: int, low: int, high: int) -> int:
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return max(low, min(seconds, high))


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
