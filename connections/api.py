"""The JSON API for connections (design §7). Thin: parse, call a service or selector, serialise."""

from __future__ import annotations

from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from connections import selectors, services
from connections.forms import ApiKeyForm, DefaultModelForm
from koda.api import (
    ApiError,
    Conflict,
    InvalidInput,
    NotFound,
    Unprocessable,
    api_view,
    parse_json,
)
from providers.base import AuthMethod, Provider
from providers.registry import get_provider


def _provider(provider_id: str, *, kind: str = "provider") -> Provider:
    """The adapter for an id or alias, or 404 `unknown_<kind>` naming it."""
    provider = get_provider(provider_id)
    if provider is None:
        raise NotFound(
            f"There is no {kind} {provider_id!r}.",
            code=f"unknown_{kind}",
            details={f"{kind}_id": provider_id},
        )
    return provider


def _not_configured(provider: Provider) -> Conflict:
    return Conflict(
        f"{provider.name} is not configured.",
        code="not_configured",
        details={"provider_id": provider.id},
    )


def _state(provider: Provider, connection=None) -> dict:
    if connection is None:
        connection = selectors.connection_get(provider)
    return selectors.connection_state(provider, connection)


def _form_errors(form) -> InvalidInput:
    fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
    return InvalidInput("Some fields are invalid.", details={"fields": fields})


@api_view(["GET"])
def catalog(request: HttpRequest):
    return {"providers": selectors.catalog_list(), "integrations": []}


@api_view(["GET", "DELETE"])
def connection(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    if request.method == "DELETE":
        parse_json(request, allowed={})
        return _disconnect(request, provider)
    return {"connection": _state(provider)}


@api_view(["POST"])
def connection_disconnect(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    parse_json(request, allowed={})  # takes no fields; a body, if sent, must say nothing
    return _disconnect(request, provider)


def _disconnect(request: HttpRequest, provider: Provider) -> dict:
    try:
        services.connection_disconnect(
            provider=provider, actor=request.user, via="api", request=request
        )
    except services.NotConfigured:
        raise _not_configured(provider) from None
    return {"connection": selectors.connection_state(provider, None)}


@api_view(["PUT"])
@sensitive_variables("body", "form")
def connection_api_key(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    fields = provider.auth_methods.get(AuthMethod.API_KEY)
    if fields is None:
        raise ApiError(
            f"{provider.name} does not take an API key.",
            code="unsupported_auth_method",
            details={"auth_methods": list(provider.auth_methods)},
        )
    body = parse_json(request, allowed={f.name: str for f in fields}, required=["api_key"])
    form = ApiKeyForm(body, provider=provider)
    if not form.is_valid():
        raise _form_errors(form)
    stored, result = services.connection_configure_api_key(
        provider=provider, actor=request.user, via="api", request=request, **form.cleaned_data
    )
    if stored is None:
        raise Unprocessable(
            result.message,
            code="verification_failed",
            details={"verification": result.as_dict(), "connection": _state(provider)},
        )
    return {"connection": _state(provider, stored), "verification": result.as_dict()}


@api_view(["POST"])
def connection_verify(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    parse_json(request, allowed={})
    try:
        stored, result = services.connection_verify(
            provider=provider, actor=request.user, via="api", request=request
        )
    except services.NotConfigured:
        raise _not_configured(provider) from None
    return {"connection": _state(provider, stored), "verification": result.as_dict()}


@api_view(["PUT"])
def connection_default_model(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    body = parse_json(request, allowed={"model": str}, required=["model"])
    current = selectors.connection_get(provider)
    if current is None:
        raise _not_configured(provider)
    choices = [m["id"] for m in current.discovered_models]
    form = DefaultModelForm(body, choices=choices)
    if not form.is_valid():
        error = _form_errors(form)
        error.code = "unknown_model"
        error.details["models"] = choices
        raise error
    try:
        stored = services.connection_set_default_model(
            provider=provider,
            model=form.cleaned_data["model"],
            actor=request.user,
            via="api",
            request=request,
        )
    except services.NotConfigured:
        raise _not_configured(provider) from None
    except services.UnknownModel:  # the models changed between the read and the write
        raise InvalidInput("That model is no longer offered.", code="unknown_model") from None
    return {"connection": _state(provider, stored)}


@api_view(["GET"])
def connection_models(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    current = selectors.connection_get(provider)
    if current is None:
        raise _not_configured(provider)
    return {
        "provider_id": provider.id,
        "default_model": current.default_model or None,
        "models": current.discovered_models,
    }


@api_view(["GET"])
def integration_health(request: HttpRequest, integration_id: str):
    provider = _provider(integration_id, kind="integration")
    errors: dict[str, list[str]] = {}
    page = _positive_int(request.GET.get("page", "1"), "page", errors, maximum=100_000)
    page_size = _positive_int(request.GET.get("page_size", "50"), "page_size", errors, maximum=200)
    if errors:
        raise InvalidInput("Some query parameters are invalid.", details={"fields": errors})
    return selectors.integration_health(provider, page=page, page_size=page_size)


def _positive_int(value: str, name: str, errors: dict, *, maximum: int) -> int:
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        errors[name] = [f"Use a whole number from 1 to {maximum}."]
        return 1
    return int(value)
