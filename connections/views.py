"""Dashboard pages for providers: the Providers list and a provider's page, the three-step
wizard (configure → verify → defaults). Thin: read through selectors, write through services;
the wizard's actions are in connections.wizard_views, and share `wizard_context` (what the page
shows) with the sign-in and custom-provider views.

Configure renders exactly the fields the adapter declares for the chosen auth method; a provider
with several methods (Ollama: this machine's server or an ollama.com key) offers a switch.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from connections import catalogs, credit, login, selectors
from connections.forms import CredentialForm
from connections.models import Connection
from connections.signals import affected_key, dependents_of
from koda.context import Context, Via
from koda.rendering import render_page
from providers.base import Provider
from providers.fields import AuthMethod, Method
from providers.registry import get_provider

TEMPLATE = "connections/provider_detail.html"
# How the summary labels facts a check learned (other keys are shown as they are).
DETAIL_LABELS = {
    "version": "Version",
    "built_with": "Built with",
    "build": "Build",
    "model": "Model",
    "account": "Signed in as",
    "plan": "Plan",
    "organization": "Organization",
    "spend": "Spend (gateway)",
    "budget": "Budget (gateway)",
    "key_expires": "Key expires",
}


def provider_or_404(provider_id: str) -> Provider:
    provider = get_provider(provider_id)
    if provider is None:
        raise Http404("No such provider")
    return provider


def wizard_ctx(request: HttpRequest) -> Context:
    return Context.of_request(request, Via.WIZARD)


FILTERS = ("chat", "embedding", "tts", "stt")


@require_GET
def providers(request: HttpRequest) -> HttpResponse:
    """Connected providers first (registry order within each group), optionally only those
    with one capability (`?capability=embedding`)."""
    catalog = selectors.catalog_list()
    connected = sum(1 for p in catalog if p["connection"]["status"] != "not_configured")
    capability = request.GET.get("capability", "")
    if capability not in FILTERS:
        capability = ""
    shown = [p for p in catalog if not capability or capability in p["capabilities"]]
    shown.sort(key=lambda p: p["connection"]["status"] == "not_configured")
    return render_page(
        request,
        "connections/providers.html",
        "provider-cards",
        {
            "catalog": shown,
            "connected": connected,
            "total": len(catalog),
            "filters": FILTERS,
            "capability": capability,
        },
    )


def _form_methods(provider: Provider) -> list[Method]:
    """The methods the wizard offers: forms of declared fields, and sign-ins Koda can run."""
    return [
        m
        for m in provider.methods
        if m.id.takes_input or (m.id == AuthMethod.LOGIN and provider.login_flow() is not None)
    ]


def _chosen(provider: Provider, connection: Connection | None, wanted: str | None) -> Method | None:
    """The method the form shows: the one asked for, else the stored one, else the first."""
    methods = _form_methods(provider)
    for candidate in (wanted, connection.auth_method if connection else None):
        spec = next((m for m in methods if m.id == candidate), None)
        if spec is not None:
            return spec
    return methods[0] if methods else None


def _summary(provider: Provider, connection: Connection) -> list[tuple[str, str]]:
    """The stored credential's public values, labelled as declared, then the facts learned."""
    spec = provider.method(connection.auth_method)
    rows = []
    for field in spec.public_fields if spec else ():
        value = connection.config.get(field.name) or field.default
        if value:
            rows.append((field.label, value))
    for name, value in connection.details.items():
        rows.append((DETAIL_LABELS.get(name, name.replace("_", " ").capitalize()), value))
    return rows


def wizard_context(
    request: HttpRequest,
    provider: Provider,
    *,
    method: str | None = None,
    form: CredentialForm | None = None,
    replacing: bool = False,
    **extra,
) -> dict:
    connection = selectors.connection_get(provider)
    replacing = (replacing or request.GET.get("replace") == "1") and connection is not None
    chosen = _chosen(provider, connection, method or request.GET.get("method"))
    signing_in = chosen is not None and chosen.id == AuthMethod.LOGIN
    if form is None and chosen is not None and not signing_in:
        stored = connection is not None and connection.auth_method == chosen.id
        form = CredentialForm(method=chosen, initial=dict(connection.config) if stored else {})
    stored_method = provider.method(connection.auth_method) if connection else None
    catalog = catalogs.catalog_for(provider.id) if provider.id in ("whispercpp", "kokoro") else None
    local_ollama = (
        provider.id == "ollama"
        and connection is not None
        and connection.auth_method == AuthMethod.LOCAL_ENDPOINT
    )
    context = {
        "provider": provider.describe(),
        "connection": selectors.connection_state(provider, connection),
        "stored": connection,
        "rotation_days": settings.KODA_KEY_ROTATION_DAYS,
        "methods": _form_methods(provider),
        "method": chosen,
        "form": form,
        "show_form": chosen is not None and (connection is None or replacing),
        "signing_in": signing_in,
        "login": extra.pop("login", None) or (login.login_shown(provider) if signing_in else None),
        "replacing": replacing,
        "stored_method": stored_method,
        "summary": _summary(provider, connection) if connection else [],
        "other_methods": [m for m in provider.methods if m not in _form_methods(provider)],
        "models": connection.models if connection else [],
        "step": 1 if connection is None else (3 if connection.is_ready else 2),
        "catalog": catalog,
        "ollama": catalogs.ollama_catalog() if local_ollama else None,
        "dependents": dependents_of(provider, change="disconnect") if connection else [],
        "credit_chart": credit.credit_chart(
            credit.credit_trends([connection.pk]).get(connection.pk, [])
        )
        if connection is not None and connection.credit_checked_at
        else None,
    }
    context["dependents_key"] = affected_key(context["dependents"])
    context.update(extra)
    return context


@require_GET
def provider_detail(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    if provider.id != provider_id:  # an alias: show the canonical page
        return redirect("provider", provider_id=provider.id)
    return render_page(request, TEMPLATE, "wizard", wizard_context(request, provider))
