"""The wizard's actions on a provider's page: configure, verify, the default model,
disconnect, and the model files the catalog card chooses. Each answers an htmx request with the
part of the page it changed and a plain form post with the whole page (or a redirect).

HTMX: the configure form posts in place. A refused credential swaps only the result panel, so the
form keeps what was typed (a secret is never rendered back); an accepted one swaps the whole
wizard to the defaults step. Without JavaScript the same views answer with full pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from connections import catalogs, selectors, services
from connections.forms import CredentialForm, DefaultModelForm
from connections.models import Connection
from connections.views import TEMPLATE, provider_or_404, wizard_context, wizard_ctx
from koda.rendering import render_swap
from providers.base import Provider
from providers.fields import AuthMethod
from providers.registry import PROVIDERS


@sensitive_post_parameters()
@require_POST
def provider_configure(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    method = request.POST.get("auth_method") or AuthMethod.API_KEY
    replacing = request.POST.get("replacing") == "1"
    try:
        configured = services.connection_configure(
            provider=provider, method=method, data=request.POST, ctx=wizard_ctx(request)
        )
    except services.UnsupportedAuthMethod:
        raise Http404("This provider is not configured that way") from None
    except services.InvalidCredentialInput as exc:
        return _refused(request, provider, form=exc.form, replacing=replacing)
    if configured.connection is None:
        form = CredentialForm(request.POST, method=services.connection_method(provider, method))
        return _refused(request, provider, form=form, result=configured.result, replacing=replacing)
    if request.htmx:
        context = wizard_context(request, provider, result=configured.result)
        response = render(request, f"{TEMPLATE}#wizard", context)
        return reswap(retarget(response, "#wizard"), "outerHTML")
    return redirect("provider", provider_id=provider.id)


def _refused(
    request: HttpRequest, provider: Provider, *, form: CredentialForm, replacing: bool, result=None
) -> HttpResponse:
    # 200, not 4xx: htmx swaps only 2xx answers by default (style guide, HTMX rule 6).
    context = wizard_context(
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
        after, result = services.connection_verify(provider=provider, ctx=wizard_ctx(request))
    except services.NotConfigured:
        return redirect("provider", provider_id=provider.id)
    notice = _what_changed(before, after) if before is not None else ""
    context = wizard_context(request, provider, result=result, notice=notice)
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
                    provider=provider, model=model, ctx=wizard_ctx(request), confirmed=confirmed
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
        context = wizard_context(
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
                provider=provider, ctx=wizard_ctx(request), confirmed=confirmed
            ),
        )
    except services.NotConfigured:
        pass  # already gone: the page shows that
    except services.ConfirmationRequired as exc:
        context = wizard_context(request, provider, confirm={"change": "disconnect", "exc": exc})
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
        request,
        "connections/catalogs.html#model-files",
        wizard_context(request, PROVIDERS[provider_id]),
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
        provider=PROVIDERS[provider_id], values=values, ctx=wizard_ctx(request)
    )
    if not request.htmx:
        return redirect("provider", provider_id=provider_id)
    context = wizard_context(request, PROVIDERS[provider_id], result=configured.result)
    return render(request, f"{TEMPLATE}#wizard", context)
