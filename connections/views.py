"""Dashboard pages for providers: the Providers list and the three-step wizard
(configure → verify → defaults). Thin: read through selectors, write through services.

HTMX: the configure form posts in place. A refused key swaps only the result panel, so the form
keeps what was typed (the key is never rendered back); an accepted key swaps the whole wizard
to the defaults step. Without JavaScript the same views answer with full pages.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from connections import selectors, services
from connections.forms import ApiKeyForm, DefaultModelForm
from koda.rendering import render_swap
from providers.base import AuthMethod, Provider
from providers.registry import PROVIDERS, get_provider

TEMPLATE = "connections/provider_detail.html"


def _provider_or_404(provider_id: str) -> Provider:
    provider = get_provider(provider_id)
    if provider is None:
        raise Http404("No such provider")
    return provider


@require_GET
def providers(request: HttpRequest) -> HttpResponse:
    catalog = selectors.catalog_list()
    connected = sum(1 for p in catalog if p["connection"]["status"] != "not_configured")
    return render(
        request,
        "connections/providers.html",
        {"catalog": catalog, "connected": connected, "total": len(PROVIDERS)},
    )


def _context(request: HttpRequest, provider: Provider, **extra) -> dict:
    connection = selectors.connection_get(provider)
    state = selectors.connection_state(provider, connection)
    replacing = request.GET.get("replace") == "1" or extra.pop("replacing", False)
    takes_key = AuthMethod.API_KEY in provider.auth_methods
    context = {
        "provider": provider.describe(),
        "connection": state,
        "stored": connection,
        "takes_key": takes_key,
        "show_form": takes_key and (connection is None or replacing),
        "replacing": replacing and connection is not None,
        "form": ApiKeyForm(provider=provider, initial=_stored_values(provider, connection))
        if takes_key
        else None,
        "models": connection.discovered_models if connection else [],
        "step": 1 if connection is None else (3 if connection.is_ready else 2),
    }
    context.update(extra)
    return context


def _stored_values(provider: Provider, connection) -> dict:
    """Prefill a replacement with what is stored (never the key itself)."""
    if connection is None:
        return {}
    return {
        "base_url": connection.base_url or provider.default_base_url,
        "organization": connection.organization,
        "project": connection.project,
    }


@require_GET
def provider_detail(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = _provider_or_404(provider_id)
    if provider.id != provider_id:  # an alias: show the canonical page
        return redirect("provider", provider_id=provider.id)
    return render(request, TEMPLATE, _context(request, provider))


@sensitive_post_parameters("api_key")
@sensitive_variables("form")
@require_POST
def provider_configure(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = _provider_or_404(provider_id)
    if AuthMethod.API_KEY not in provider.auth_methods:
        raise Http404("This provider does not take an API key")
    form = ApiKeyForm(request.POST, provider=provider)
    replacing = request.POST.get("replacing") == "1"
    if not form.is_valid():
        return _refused(request, provider, form=form, replacing=replacing)
    stored, result = services.connection_configure_api_key(
        provider=provider, actor=request.user, via="dashboard", request=request, **form.cleaned_data
    )
    if stored is None:
        return _refused(request, provider, form=form, result=result, replacing=replacing)
    if request.htmx:
        response = render(request, f"{TEMPLATE}#wizard", _context(request, provider, result=result))
        return reswap(retarget(response, "#wizard"), "outerHTML")
    return redirect("provider", provider_id=provider.id)


def _refused(
    request: HttpRequest, provider: Provider, *, form: ApiKeyForm, replacing: bool, result=None
) -> HttpResponse:
    # 200, not 4xx: htmx swaps only 2xx answers by default (style guide, HTMX rule 6).
    context = _context(
        request, provider, result=result, form=form, replacing=replacing, refused=True
    )
    return render_swap(request, TEMPLATE, "verify-result", context)


@require_POST
def provider_verify(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = _provider_or_404(provider_id)
    try:
        _, result = services.connection_verify(
            provider=provider, actor=request.user, via="dashboard", request=request
        )
    except services.NotConfigured:
        return redirect("provider", provider_id=provider.id)
    return render_swap(request, TEMPLATE, "wizard", _context(request, provider, result=result))


@require_POST
def provider_default_model(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = _provider_or_404(provider_id)
    stored = selectors.connection_get(provider)
    if stored is None:
        return redirect("provider", provider_id=provider.id)
    form = DefaultModelForm(request.POST, choices=[m["id"] for m in stored.discovered_models])
    model_error = None
    if form.is_valid():
        try:
            services.connection_set_default_model(
                provider=provider,
                model=form.cleaned_data["model"],
                actor=request.user,
                via="dashboard",
                request=request,
            )
        except (services.NotConfigured, services.UnknownModel):
            model_error = "That model is no longer offered; verify again to refresh the list."
    else:
        model_error = " ".join(form.errors.get("model", ["Pick a model."]))
    if model_error or request.htmx:
        context = _context(request, provider, model_error=model_error)
        return render_swap(request, TEMPLATE, "wizard", context)
    return redirect("provider", provider_id=provider.id)


@require_POST
def provider_disconnect(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = _provider_or_404(provider_id)
    try:
        services.connection_disconnect(
            provider=provider, actor=request.user, via="dashboard", request=request
        )
    except services.NotConfigured:
        pass  # already gone: the page shows that
    url = f"/providers/{provider.id}/"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
