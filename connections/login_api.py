"""The sign-in API (design §7): start a sign-in, poll a device sign-in, submit a pasted code.
Thin: the login engine (connections.login) does the work; errors are `login_<reason>`."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from connections import login, services
from connections.api import _ctx, _provider, _state, _unsupported
from koda.api import ApiError, NotFound, Unprocessable, api_view, parse_json
from providers.base import Provider


def _session_id(provider: Provider, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(
            f"There is no such {provider.name} sign-in.", code="login_unknown_session"
        ) from None


def _error(provider: Provider, exc: login.LoginError) -> ApiError:
    details: dict = {"reason": exc.reason}
    if exc.session is not None:
        details["session"] = login.login_state(provider, exc.session)
    if exc.raw_error:
        details["raw_error"] = exc.raw_error
    return ApiError(exc.message, code=f"login_{exc.reason}", status=exc.status, details=details)


def _answer(provider: Provider, step: login.LoginStep) -> dict:
    """The session; once its tokens were checked, the connection and the verification too
    (422 verification_failed when they were refused: nothing was stored)."""
    body = login.login_state(provider, step.session)
    if step.configured is None:
        return body
    if step.configured.connection is None:
        raise Unprocessable(
            step.configured.result.message,
            code="verification_failed",
            details={
                "verification": step.configured.result.as_dict(),
                "connection": _state(provider),
                "session": body,
            },
        )
    body["connection"] = _state(provider, step.configured.connection)
    body["verification"] = step.configured.result.as_dict()
    return body


@api_view(["POST"])
def login_start(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    parse_json(request, allowed={})
    try:
        session = login.login_start(provider=provider, ctx=_ctx(request))
    except services.UnsupportedAuthMethod as exc:
        raise _unsupported(exc) from None
    except login.LoginError as exc:
        raise _error(provider, exc) from None
    return 201, login.login_state(provider, session)


@api_view(["GET"])
def login_session(request: HttpRequest, provider_id: str, session_id: str):
    provider = _provider(provider_id)
    try:
        step = login.login_poll(
            provider=provider, session_id=_session_id(provider, session_id), ctx=_ctx(request)
        )
    except services.UnsupportedAuthMethod as exc:
        raise _unsupported(exc) from None
    except login.LoginError as exc:
        raise _error(provider, exc) from None
    return _answer(provider, step)


@api_view(["POST"])
@sensitive_variables("body")
def login_code(request: HttpRequest, provider_id: str, session_id: str):
    provider = _provider(provider_id)
    body = parse_json(request, allowed={"code": str}, required=["code"])
    try:
        step = login.login_submit_code(
            provider=provider,
            session_id=_session_id(provider, session_id),
            pasted=body["code"],
            ctx=_ctx(request),
        )
    except services.UnsupportedAuthMethod as exc:
        raise _unsupported(exc) from None
    except login.LoginError as exc:
        raise _error(provider, exc) from None
    return _answer(provider, step)
