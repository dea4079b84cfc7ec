"""The provider page's low-credit threshold form."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from connections import credit
from connections.views import provider_or_404
from koda.context import Context, Via


@require_POST
def provider_credit_threshold(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    raw = request.POST.get("below", "").strip()
    try:
        below = float(raw) if raw else None
    except ValueError:
        below = -1.0  # refused below, with the service's message
    try:
        stored = credit.connection_set_credit_threshold(
            provider=provider,
            below=below,
            unit=request.POST.get("unit", "amount"),
            ctx=Context.of_request(request, Via.DASHBOARD),
        )
    except credit.InvalidThreshold as exc:
        for field, errors in exc.errors.items():
            messages.error(request, f"Low-credit threshold {field}: {' '.join(errors)}")
        return redirect("provider", provider_id=provider.id)
    if stored is None:
        raise Http404("Not configured")
    said = (
        "Low-credit threshold cleared."
        if below is None
        else f"Low credit below {stored.credit_threshold_words}."
    )
    messages.success(request, said)
    return redirect("provider", provider_id=provider.id)
