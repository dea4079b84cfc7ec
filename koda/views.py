"""Operator pages: login, logout, API tokens, and the unauthenticated liveness probe."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from koda.api import DATABASE_ERRORS, DATABASE_RETRY_AFTER
from koda.audit import audit_record
from koda.context import Context, Via
from koda.models import ApiToken
from koda.rendering import render_page
from koda.tokens import api_token_create, api_token_revoke

login_view = auth_views.LoginView.as_view(
    template_name="koda/login.html", redirect_authenticated_user=True
)
logout_view = auth_views.LogoutView.as_view()


@receiver(user_logged_in)
def _audit_login(sender, request, user, **kwargs) -> None:
    ctx = Context.of_request(request, Via.DASHBOARD, user=user)
    audit_record(ctx=ctx, action="operator.login", target=f"operator:{user.get_username()}")


@receiver(user_login_failed)
def _audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # `credentials` has the password already replaced by Django; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        ctx=Context.anonymous(request, username),
        action="operator.login_failed",
        target=f"operator:{username}",
    )


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for a load balancer: 200 when the database answers, 503 when it
    does not (the process is up, but cannot serve)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_ERRORS:
        response = JsonResponse({"status": "database_unavailable"}, status=503)
        response["Retry-After"] = DATABASE_RETRY_AFTER
        return response
    return JsonResponse({"status": "ok"})


@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    created = error = None
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name or len(name) > 100:
            error = "Give the token a name of 1 to 100 characters."
        else:
            _, created = api_token_create(
                operator=request.user, name=name, ctx=Context.of_request(request, Via.DASHBOARD)
            )
    listing = ApiToken.objects.filter(operator=request.user)
    return render_page(
        request,
        "koda/tokens.html",
        "token-list",
        {
            "tokens": listing,
            "created_token": created,
            "created_name": name if created else "",
            "name": name,
            "error": error,
        },
    )


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, operator=request.user)
    api_token_revoke(token=token, ctx=Context.of_request(request, Via.DASHBOARD))
    messages.success(request, f"Token “{token.name}” revoked.")
    if request.htmx:
        return HttpResponseClientRedirect("/tokens/")
    return redirect("tokens")
