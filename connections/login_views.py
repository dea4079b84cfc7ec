"""The wizard's sign-in method: start a sign-in, paste Claude's code, wait for a device sign-in
to be approved (the panel polls itself every interval; without JavaScript, "Check now").

A sign-in whose tokens verify swaps the whole wizard to the verify result and defaults, as a
configured key does; anything else swaps only the sign-in panel, saying what happened.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from connections import login, services
from connections.views import TEMPLATE, provider_or_404, wizard_context, wizard_ctx
from providers.base import Provider
from providers.fields import AuthMethod

PANEL = "connections/login.html#login-panel"


def _panel(request: HttpRequest, provider: Provider, **extra) -> HttpResponse:
    context = wizard_context(
        request, provider, method=AuthMethod.LOGIN, replacing=_replacing(request), **extra
    )
    return render(request, PANEL if request.htmx else TEMPLATE, context)


def _replacing(request: HttpRequest) -> bool:
    return (request.POST.get("replacing") or request.GET.get("replace")) == "1"


def _signed_in(request: HttpRequest, provider: Provider, step: login.LoginStep) -> HttpResponse:
    if request.htmx:
        context = wizard_context(request, provider, result=step.configured.result)
        response = render(request, f"{TEMPLATE}#wizard", context)
        return reswap(retarget(response, "#wizard"), "outerHTML")
    return redirect("provider", provider_id=provider.id)


def _after(request: HttpRequest, provider: Provider, step: login.LoginStep) -> HttpResponse:
    if step.configured is not None and step.configured.connection is not None:
        return _signed_in(request, provider, step)
    return _panel(
        request,
        provider,
        login=login.login_state(provider, step.session),
        result=step.configured.result if step.configured else None,
        refused=step.configured is not None,
    )


def _failed(request: HttpRequest, provider: Provider, exc: login.LoginError) -> HttpResponse:
    state = login.login_state(provider, exc.session) if exc.session is not None else None
    return _panel(request, provider, login=state, login_error=exc)


def _login_provider(provider_id: str) -> Provider:
    provider = provider_or_404(provider_id)
    try:
        login.login_flow_for(provider)
    except services.UnsupportedAuthMethod:
        raise Http404("This provider has no sign-in") from None
    return provider


@require_POST
def provider_login_start(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = _login_provider(provider_id)
    try:
        session = login.login_start(provider=provider, ctx=wizard_ctx(request))
    except login.LoginError as exc:
        return _failed(request, provider, exc)
    return _panel(request, provider, login=login.login_state(provider, session))


@sensitive_post_parameters()
@require_POST
def provider_login_code(request: HttpRequest, provider_id: str, session_id: str) -> HttpResponse:
    provider = _login_provider(provider_id)
    try:
        step = login.login_submit_code(
            provider=provider,
            session_id=_uuid(session_id),
            pasted=request.POST.get("code", ""),
            ctx=wizard_ctx(request),
        )
    except login.LoginError as exc:
        return _failed(request, provider, exc)
    return _after(request, provider, step)


@require_GET
def provider_login_poll(request: HttpRequest, provider_id: str, session_id: str) -> HttpResponse:
    provider = _login_provider(provider_id)
    try:
        step = login.login_poll(
            provider=provider, session_id=_uuid(session_id), ctx=wizard_ctx(request)
        )
    except login.LoginError as exc:
        return _failed(request, provider, exc)
    return _after(request, provider, step)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404("No such sign-in") from None
