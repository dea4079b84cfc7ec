"""Dashboard pages for providers: the Providers list and the three-step wizard
(configure → verify → defaults). Thin: read through selectors, write through services.

Configure renders exactly the fields the adapter declares for the chosen auth method; a provider
with several methods (Ollama: this machine's server or an ollama.com key) offers a switch.
HTMX: the configure form posts in place. A refused credential swaps only the result panel, so the
form keeps what was typed (a secret is never rendered back); an accepted one swaps the whole
wizard to the defaults step. Without JavaScript the same views answer with full pages.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from connections import catalogs, credit, login, selectors, services
from connections.forms import CredentialForm, DefaultModelForm
from connections.models import Connection
from connections.signals import affected_key, dependents_of
from koda.context import Context, Via
from koda.rendering import render_page, render_swap
from providers.base import Provider
from providers.fields import AuthMethod, Method
from providers.registry import PROVIDERS, get_provider

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


def _ctx(request: HttpRequest) -> Context:
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


def _context(
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
    return render_page(request, TEMPLATE, "wizard", _context(request, provider))


@sensitive_post_parameters()
@require_POST
def provider_configure(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    method = request.POST.get("auth_method") or AuthMethod.API_KEY
    replacing = request.POST.get("replacing") == "1"
    try:
        configured = services.connection_configure(
            provider=provider, method=method, data=request.POST, ctx=_ctx(request)
        )
    except services.UnsupportedAuthMethod:
        raise Http404("This provider is not configured that way") from None
    except services.InvalidCredentialInput as exc:
        return _refused(request, provider, form=exc.form, replacing=replacing)
    if configured.connection is None:
        form = CredentialForm(request.POST, method=services.connection_method(provider, method))
        return _refused(request, provider, form=form, result=configured.result, replacing=replacing)
    if request.htmx:
        context = _context(request, provider, result=configured.result)
        response = render(request, f"{TEMPLATE}#wizard", context)
        return reswap(retarget(response, "#wizard"), "outerHTML")
    return redirect("provider", provider_id=provider.id)


def _refused(
    request: HttpRequest, provider: Provider, *, form: CredentialForm, replacing: bool, result=None
) -> HttpResponse:
    # 200, not 4xx: htmx swaps only 2xx answers by default (style guide, HTMX rule 6).
    context = _context(
        request,
        provider,
        method=form.method.id,
        form=form,
        result=result,
        replacing=replacing,
        refused=True,
    )
    return render_swap(request, TEMPLATE, "verify-result", context)


@require_POST
def provider_verify(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    before = selectors.connection_get(provider)
    try:
        after, result = services.connection_verify(provider=provider, ctx=_ctx(request))
    except services.NotConfigured:
        return redirect("provider", provider_id=provider.id)
    notice = _what_changed(before, after) if before is not None else ""
    context = _context(request, provider, result=result, notice=notice)
    return render_swap(request, TEMPLATE, "wizard", context)


def _what_changed(before: Connection, after: Connection) -> str:
    """What a check changed, in words: the status, and models that came or went."""
    label = dict(Connection._meta.get_field("status").choices)
    if before.status == after.status:
        said = f"Checked just now: still {label[after.status].lower()}"
    else:
        said = f"Checked just now: {label[before.status].lower()} → {label[after.status].lower()}"
    old, new = set(before.model_ids), set(after.model_ids)
    changes = []
    if new - old:
        changes.append(f"{len(new - old)} new model{'s' if len(new - old) != 1 else ''}")
    if old - new:
        changes.append(f"{len(old - new)} no longer offered")
    if changes:
        said += f"; {', '.join(changes)}"
    return f"{said}."


@require_POST
def provider_default_model(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    stored = selectors.connection_get(provider)
    if stored is None:
        return redirect("provider", provider_id=provider.id)
    form = DefaultModelForm(request.POST, choices=stored.model_ids)
    model_error = None
    confirm = None
    notice = ""
    if form.is_valid():
        model = form.cleaned_data["model"]
        try:
            _confirming(
                request,
                lambda confirmed: services.connection_set_default_model(
                    provider=provider, model=model, ctx=_ctx(request), confirmed=confirmed
                ),
            )
        except (services.NotConfigured, services.UnknownModel):
            model_error = "That model is no longer offered; verify again to refresh the list."
        except services.ConfirmationRequired as exc:
            confirm = {"change": "default_model", "model": model, "exc": exc}
        else:
            notice = f"Default model set to {model}."
    else:
        model_error = " ".join(form.errors.get("model", ["Pick a model."]))
    if model_error or confirm or request.htmx:
        typed = request.POST.get("model", "") if model_error else None
        context = _context(
            request,
            provider,
            model_error=model_error,
            confirm=confirm,
            notice=notice,
            typed_model=typed,
        )
        return render_swap(request, TEMPLATE, "wizard", context)
    messages.success(request, notice)
    return redirect("provider", provider_id=provider.id)


def _confirming(request: HttpRequest, change):
    """Make `change(confirmed)`; when agents depend on it, go ahead only if the form confirmed
    exactly the dependents there are now (it names them; a list that changed is asked again)."""
    try:
        return change(False)
    except services.ConfirmationRequired as exc:
        if request.POST.get("confirm") != exc.key:
            raise
        return change(True)


@require_POST
def provider_disconnect(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    try:
        _confirming(
            request,
            lambda confirmed: services.connection_disconnect(
                provider=provider, ctx=_ctx(request), confirmed=confirmed
            ),
        )
    except services.NotConfigured:
        pass  # already gone: the page shows that
    except services.ConfirmationRequired as exc:
        context = _context(request, provider, confirm={"change": "disconnect", "exc": exc})
        return render_swap(request, TEMPLATE, "wizard", context)
    else:
        messages.success(request, f"{provider.name} disconnected: its credential was deleted.")
    url = f"/providers/{provider.id}/"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- model files: the wizard parts the catalog card drives -------------------------------------


@require_GET
def files_card(request: HttpRequest, provider_id: str) -> HttpResponse:
    if provider_id not in ("whispercpp", "kokoro"):
        raise Http404("No model files here")
    return render(
        request, "connections/catalogs.html#model-files", _context(request, PROVIDERS[provider_id])
    )


@require_POST
def files_select(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Use the chosen files (whisper.cpp: a variant; Kokoro: a model file and a voice)."""
    if provider_id == "whispercpp":
        values = {"variant": request.POST.get("variant", "")}
        if request.POST.get("runtime_path", "").strip():
            values["runtime_path"] = request.POST["runtime_path"].strip()
    elif provider_id == "kokoro":
        values = {
            "model_file": request.POST.get("model_file", ""),
            "voice": request.POST.get("voice", ""),
        }
    else:
        raise Http404("No model files here")
    configured = catalogs.model_files_select(
        provider=PROVIDERS[provider_id], values=values, ctx=_ctx(request)
    )
    if not request.htmx:
        return redirect("provider", provider_id=provider_id)
    context = _context(request, PROVIDERS[provider_id], result=configured.result)
    return render(request, f"{TEMPLATE}#wizard", context)
