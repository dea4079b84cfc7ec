"""Adding an OpenAI-compatible provider from the dashboard, and removing one. The form is the
API's fields; a preset fills its defaults (choosing one reloads the form, without JS too)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from connections import custom_providers
from connections.views import TEMPLATE, provider_or_404, wizard_context, wizard_ctx
from providers.custom import PRESETS
from providers.values import Capability


def _headers(text: str) -> dict[str, str] | str:
    """`Name: value` lines as a dict; the offending line when one has no colon."""
    headers = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return line
        headers[name.strip()] = value.strip()
    return headers


@require_http_methods(["GET", "POST"])
def provider_new(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    preset = PRESETS.get(source.get("preset", "generic"), PRESETS["generic"])
    values = {
        "preset": preset.id,
        "id": source.get("id", ""),
        "name": source.get("name", "") or ("" if preset.id == "generic" else preset.label),
        "base_url": source.get("base_url", preset.base_url),
        "requires_key": (source.get("requires_key") == "on")
        if request.method == "POST"
        else preset.requires_key,
        "capabilities": source.getlist("capabilities")
        if request.method == "POST"
        else list(preset.capabilities),
        "headers_text": source.get("headers", ""),
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        headers = _headers(values["headers_text"])
        if isinstance(headers, str):
            errors["headers"] = [f"Write one 'Name: value' per line ({headers!r} has no ':')."]
        else:
            data = {k: values[k] for k in ("preset", "id", "name", "base_url", "requires_key")}
            data.update(headers=headers, capabilities=values["capabilities"])
            try:
                provider = custom_providers.custom_provider_create(
                    data=data, ctx=wizard_ctx(request)
                )
            except custom_providers.InvalidDefinition as exc:
                errors = exc.errors
            else:
                return redirect("provider", provider_id=provider.id)
    return render(
        request,
        "connections/provider_new.html",
        {
            "presets": PRESETS.values(),
            "preset": preset,
            "values": values,
            "errors": errors,
            "all_capabilities": [str(c) for c in Capability],
        },
        status=400 if errors else 200,
    )


@require_POST
def provider_remove(request: HttpRequest, provider_id: str) -> HttpResponse:
    provider = provider_or_404(provider_id)
    try:
        custom_providers.custom_provider_delete(provider_id=provider.id, ctx=wizard_ctx(request))
    except custom_providers.NotCustom:
        raise Http404("Only providers added here can be removed") from None
    except custom_providers.ProviderInUse as exc:
        context = wizard_context(
            request, provider, remove_refused=custom_providers.in_use_message(provider, exc)
        )
        return render(request, TEMPLATE, context, status=409)
    return redirect("providers")
