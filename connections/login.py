"""Sign-in sessions: the login engine both sign-ins use (Claude login: paste-back with PKCE;
ChatGPT sign-in: device code). The wizard, the API and admin call these.

`login_start` opens a session (15 minutes, one active per provider: a new one replaces the
old); `login_submit_code` exchanges a pasted `code#state`; `login_poll` asks the provider about a
device sign-in, never faster than its interval. Either way the tokens then go through the one
configure service: verified with the provider's probe before anything is stored, and stored
(encrypted, as the credential's secret parts) only if they pass. No token, verifier, state or
code is ever in an answer, a log line, a snapshot or an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connections import services
from connections.models import ACTIVE_LOGIN_STATUSES, LoginSession, LoginStatus
from connections.refresh import expiry
from koda.audit import audit_record, provider_target
from koda.context import Context
from providers import oauth
from providers.base import Provider
from providers.fields import AuthMethod
from providers.values import Credential

SESSION_MINUTES = 15
# A session refuses pasted codes after this many with the wrong state (a code from elsewhere).
MAX_MISMATCHES = 5
MAX_PASTE_LENGTH = 4096


class LoginError(Exception):
    """A sign-in step that cannot go on. `reason` is the stable code (design §7 error shape:
    `login_<reason>`), `status` the HTTP status the API answers."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        status: int = 422,
        session: LoginSession | None = None,
        raw_error: str = "",
    ) -> None:
        super().__init__(message)
        self.reason, self.message, self.status = reason, message, status
        self.session, self.raw_error = session, raw_error


@dataclass(frozen=True)
class LoginStep:
    """Where a session stands after a step; `configured` once the tokens were verified (its
    `connection` is None when they were refused, then nothing was stored)."""

    session: LoginSession
    configured: services.Configured | None = None


def login_flow_for(provider: Provider) -> oauth.LoginFlow:
    flow = provider.login_flow()
    if flow is None or provider.method(AuthMethod.LOGIN) is None:
        raise services.UnsupportedAuthMethod(provider, "login")
    return flow


def login_start(*, provider: Provider, ctx: Context) -> LoginSession:
    """Open a sign-in: for a device flow the provider is asked for a user code first (nothing
    is written if it refuses). Replaces the provider's active session, if any."""
    flow = login_flow_for(provider)
    now = timezone.now()
    expires_at = now + timedelta(minutes=SESSION_MINUTES)
    fields: dict = {"flow": flow.kind}
    if flow.kind == "device":
        try:
            device = oauth.device_start(flow)
        except oauth.LoginFailed as exc:
            _audit_failure(provider, None, exc.reason, ctx, stage="start")
            raise LoginError(exc.reason, exc.message, status=502, raw_error=exc.raw_error) from None
        fields.update(
            secrets={"device_id": device.device_id},
            user_code=device.user_code[:64],
            verification_url=device.verification_url[:2048],
            interval=device.interval,
            next_poll_at=now + timedelta(seconds=device.interval),
            expires_at=min(expires_at, now + timedelta(seconds=device.expires_in)),
        )
    else:
        fields.update(
            secrets={"verifier": oauth.pkce_verifier(), "state": oauth.new_state()},
            expires_at=expires_at,
        )
    for attempt in range(3):
        try:
            with transaction.atomic():
                LoginSession.objects.select_for_update().filter(
                    provider_id=provider.id, status__in=ACTIVE_LOGIN_STATUSES
                ).update(status=LoginStatus.CANCELLED, reason="superseded", finished_at=now)
                session = LoginSession.objects.create(
                    provider_id=provider.id, actor=_user(ctx), **fields
                )
                audit_record(
                    ctx=ctx,
                    action="login.start",
                    target=provider_target(provider.id),
                    diff={"session": str(session.id), "flow": flow.kind},
                )
            return session
        except IntegrityError:  # another operator started one at the same instant: newest wins
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def login_authorize_url(provider: Provider, session: LoginSession) -> str:
    """The page the operator opens for a paste-back sign-in (it carries state and challenge,
    never the verifier)."""
    secrets = session.secrets or {}
    return oauth.authorize_url(
        login_flow_for(provider),
        state=secrets.get("state", ""),
        challenge=oauth.pkce_challenge(secrets.get("verifier", "")),
    )


def login_shown(provider: Provider) -> dict | None:
    """The sign-in the wizard shows: the provider's active one, as `login_state` gives it."""
    session = LoginSession.objects.filter(
        provider_id=provider.id, status__in=ACTIVE_LOGIN_STATUSES
    ).first()
    return login_state(provider, session) if session is not None else None


def login_session_get(provider: Provider, session_id, *, lock: bool = False) -> LoginSession:
    """The provider's session of that id (row-locked until the transaction ends, with `lock`)."""
    sessions = LoginSession.objects.select_for_update() if lock else LoginSession.objects
    session = sessions.filter(pk=session_id, provider_id=provider.id).first()
    if session is None:
        raise LoginError(
            "unknown_session", f"There is no such {provider.name} sign-in.", status=404
        )
    return session


@sensitive_variables("pasted", "code", "state", "secrets")
def login_submit_code(*, provider: Provider, session_id, pasted: str, ctx: Context) -> LoginStep:
    """Exchange a pasted `code#state` (or the whole callback URL) of a paste-back sign-in."""
    flow = login_flow_for(provider)
    code, state, denied = _parse_pasted(pasted)
    with transaction.atomic():
        session = login_session_get(provider, session_id, lock=True)
        problem = _paste_problem(provider, session, state, denied)
        if problem is None:
            session.status = LoginStatus.EXCHANGING
            session.save(update_fields=["status"])
    if problem is not None:
        if problem.session is not None and not problem.session.is_active:
            _audit_failure(provider, session, problem.reason, ctx)
        raise problem
    secrets = session.secrets or {}
    try:
        tokens = oauth.exchange_code(
            flow, code=code, verifier=secrets.get("verifier", ""), state=state
        )
    except oauth.LoginFailed as exc:
        _finish(session, LoginStatus.FAILED, exc.reason, exc.message)
        _audit_failure(provider, session, exc.reason, ctx)
        raise LoginError(
            exc.reason, exc.message, status=_status(exc), session=session, raw_error=exc.raw_error
        ) from None
    return _complete(provider, session, tokens, ctx)


def _paste_problem(
    provider: Provider, session: LoginSession, state: str, denied: str
) -> LoginError | None:
    """What stops a pasted code from being exchanged, with the session's status updated."""
    if session.flow != "paste":
        return LoginError(
            "wrong_flow",
            "This sign-in is approved at the provider, not with a pasted code.",
            status=409,
            session=session,
        )
    if not session.is_active:
        return LoginError(
            "already_used",
            f"This sign-in has ended ({session.get_status_display().lower()}); start a new one.",
            status=409,
            session=session,
        )
    if session.status == LoginStatus.EXCHANGING:
        return LoginError(
            "in_progress",
            "A code for this sign-in is being exchanged.",
            status=409,
            session=session,
        )
    if session.expires_at <= timezone.now():
        _finish(session, LoginStatus.EXPIRED, "expired", "The sign-in expired after 15 minutes.")
        return LoginError(
            "expired",
            "This sign-in expired (15 minutes); start a new one.",
            status=410,
            session=session,
        )
    if denied:
        _finish(session, LoginStatus.DENIED, "denied", f"{provider.name}: {denied}"[:500])
        return LoginError("denied", f"The sign-in was refused: {denied}"[:300], session=session)
    if state != (session.secrets or {}).get("state"):
        session.mismatches += 1
        session.save(update_fields=["mismatches"])
        if session.mismatches >= MAX_MISMATCHES:
            _finish(session, LoginStatus.FAILED, "state_mismatch", "Too many codes from elsewhere.")
        return LoginError(
            "state_mismatch",
            "This code belongs to another sign-in (its state does not match). Paste the code "
            "from the page this sign-in opened, or start again.",
            status=400,
            session=session,
        )
    return None


@sensitive_variables("pasted", "value", "code", "state")
def _parse_pasted(pasted: str) -> tuple[str, str, str]:
    """(code, state, denied error) from `code#state` or a callback URL."""
    value = (pasted or "").strip()
    if not value or len(value) > MAX_PASTE_LENGTH or any(c.isspace() for c in value):
        raise LoginError(
            "invalid_input",
            "Paste the code exactly as Claude shows it (no spaces).",
            status=400,
        )
    if value.startswith(("http://", "https://")):
        query = parse_qs(urlsplit(value).query)
        first = {k: v[0] for k, v in query.items() if v}
        if first.get("error"):
            return "", first.get("state", ""), first.get("error_description") or first["error"]
        value = f"{first.get('code', '')}#{first.get('state', '')}"
    code, _, state = value.partition("#")
    if not code or not state:
        raise LoginError(
            "invalid_input",
            "Paste the whole code, including the part after the #.",
            status=400,
        )
    return code, state, ""


def login_poll(*, provider: Provider, session_id, ctx: Context) -> LoginStep:
    """Ask the provider whether a device sign-in was approved: at most once per interval
    (sooner polls answer what is known), slowing down when the provider says so."""
    flow = login_flow_for(provider)
    session = login_session_get(provider, session_id)
    now = timezone.now()
    if session.flow != "device" or session.status != LoginStatus.PENDING:
        return LoginStep(session)
    if session.expires_at <= now:
        _finish(session, LoginStatus.EXPIRED, "expired", "The code was not approved in time.")
        _audit_failure(provider, session, "expired", ctx)
        return LoginStep(session)
    if session.next_poll_at and session.next_poll_at > now:
        return LoginStep(session)
    # The claim: only one request polls the provider per interval.
    claimed = LoginSession.objects.filter(
        pk=session.pk, status=LoginStatus.PENDING, next_poll_at=session.next_poll_at
    ).update(next_poll_at=now + timedelta(seconds=session.interval))
    session.refresh_from_db()
    if not claimed:
        return LoginStep(session)
    secrets = session.secrets or {}
    try:
        poll = oauth.device_poll(
            flow, device_id=secrets.get("device_id", ""), user_code=session.user_code
        )
    except oauth.LoginFailed as exc:
        if not exc.permanent:  # the provider could not answer: keep waiting
            session.message = exc.message[:500]
            session.save(update_fields=["message"])
            return LoginStep(session)
        status = {"denied": LoginStatus.DENIED, "expired": LoginStatus.EXPIRED}.get(
            exc.reason, LoginStatus.FAILED
        )
        _finish(session, status, exc.reason, exc.message)
        _audit_failure(provider, session, exc.reason, ctx)
        return LoginStep(session)
    if poll.status == "slow_down":
        session.interval = min(session.interval + 5, 60)
        session.next_poll_at = now + timedelta(seconds=session.interval)
        session.save(update_fields=["interval", "next_poll_at"])
        return LoginStep(session)
    if poll.status != "approved":
        return LoginStep(session)
    if not LoginSession.objects.filter(pk=session.pk, status=LoginStatus.PENDING).update(
        status=LoginStatus.EXCHANGING
    ):
        session.refresh_from_db()
        return LoginStep(session)
    return _complete(provider, session, poll.tokens, ctx)


@sensitive_variables("tokens", "credential")
def _complete(
    provider: Provider, session: LoginSession, tokens: oauth.Tokens, ctx: Context
) -> LoginStep:
    """Verify the tokens with the provider's probe; only tokens that pass are stored."""
    # Who signed in (account id, email, plan) is public config; the tokens are the secrets.
    credential = Credential(AuthMethod.LOGIN, tokens.account, tokens.secrets())
    configured = services.connection_configure_credential(
        provider=provider, credential=credential, ctx=ctx, expires_at=expiry(tokens)
    )
    if configured.connection is None:
        outcome = str(configured.result.outcome)
        _finish(session, LoginStatus.FAILED, "verification_failed", configured.result.message)
        _audit_failure(provider, session, "verification_failed", ctx, outcome=outcome)
        return LoginStep(session, configured)
    _finish(session, LoginStatus.COMPLETED, "", "")
    audit_record(
        ctx=ctx,
        action="login.success",
        target=provider_target(provider.id),
        diff={
            "session": str(session.id),
            "flow": session.flow,
            "account": tokens.account.get("email", ""),
            "plan": tokens.account.get("plan", "") or configured.connection.details.get("plan", ""),
        },
    )
    return LoginStep(session, configured)


def _finish(session: LoginSession, status: str, reason: str, message: str) -> None:
    session.status, session.reason, session.message = status, reason, message[:500]
    session.finished_at = timezone.now()
    session.secrets = None  # the verifier, state and device id are of no use any more
    session.save(update_fields=["status", "reason", "message", "finished_at", "secrets"])


def _audit_failure(
    provider: Provider,
    session: LoginSession | None,
    reason: str,
    ctx: Context,
    *,
    stage: str = "",
    outcome: str = "",
) -> None:
    diff = {"reason": reason}
    if session is not None:
        diff.update(session=str(session.id), flow=session.flow)
    if stage:
        diff["stage"] = stage
    if outcome:
        diff["outcome"] = outcome
    audit_record(ctx=ctx, action="login.failure", target=provider_target(provider.id), diff=diff)


def _status(exc: oauth.LoginFailed) -> int:
    return 502 if exc.reason in (oauth.PROVIDER_ERROR, oauth.UNREACHABLE) else 422


def _user(ctx: Context):
    return ctx.user if ctx.user is not None and ctx.user.pk is not None else None


def login_state(provider: Provider, session: LoginSession) -> dict:
    """A session as the API and the wizard show it: what the operator does next, or how it
    ended. Never a verifier, state or device id (the authorize URL carries the state the
    provider echoes back; that is its purpose)."""
    pending = session.status == LoginStatus.PENDING
    state = {
        "session_id": str(session.id),
        "provider_id": provider.id,
        "flow": session.flow,
        "status": session.status,
        "expires_at": session.expires_at.isoformat(),
        "reason": session.reason or None,
        "message": session.message or None,
    }
    if session.flow == "paste":
        state["authorize_url"] = login_authorize_url(provider, session) if pending else None
    else:
        state.update(
            user_code=session.user_code if pending else None,
            verification_url=session.verification_url,
            interval=session.interval,
            next_poll_at=session.next_poll_at.isoformat() if session.next_poll_at else None,
        )
    return state
