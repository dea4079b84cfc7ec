"""Every dashboard page requires an operator; the API and admin enforce it themselves."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from koda.operators import is_operator

# The API answers 401/403 in its JSON error shape; admin has its own staff-only login.
OPEN_PREFIXES = ("/login/", "/healthz", "/api/", "/admin/", settings.STATIC_URL)


class OperatorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(OPEN_PREFIXES):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not is_operator(request.user):
                return render(request, "koda/forbidden.html", status=403)
        return self.get_response(request)
