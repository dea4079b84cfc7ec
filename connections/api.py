"""The JSON API for connections (design §7). Thin: parse, call a service or selector, serialise."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.debug import sensitive_variables

from connections import credit, selectors, services
from connections.forms import DefaultModelForm
from connections.routing import STAMP_NAMES, stamp_expressions
from koda.api import (
    ApiError,
    Conflict,
    InvalidInput,
    NotFound,
    Unprocessable,
    api_view,
    operator_authenticator,
    parse_json,
)
from koda.context import Context, Via
from koda.tokens import api_token_lookup
from providers.base import Provider
from providers.fields import AuthMethod
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


def _ctx(request: HttpRequest) -> Context:
    return Context.of_request(request, Via.API)


def _not_configured(provider: Provider) -> Conflict:
    return Conflict(
        f"{provider.name} is not configured.",
        code="not_configured",
        details={"provider_id": provider.id},
    )


def _unsupported(exc: services.UnsupportedAuthMethod) -> ApiError:
    return ApiError(
        f"{exc.provider.name} does not take {exc.method}.",
        code="unsupported_auth_method",
        details={"auth_methods": [str(m.id) for m in exc.provider.methods]},
    )


# The hottest operator reads (a connection's state, the catalog) answer from per-process copies
# checked against routing's stamp, which the token lookup reads in the same statement: one
# statement per request, as for an agent's resolve.
_with_stamp = operator_authenticator(api_token_lookup(stamp_expressions))


def _request_stamp(request: HttpRequest) -> tuple | None:
    """The routing stamp read with the request's API token; None for a session (read then)."""
    token = request.api_token
    return None if token is None else tuple(getattr(token, name) for name in STAMP_NAMES)


def _state(provider: Provider, connection=None) -> dict:
    if connection is None:
        connection = selectors.connection_get(provider)
    return selectors.connection_state(provider, connection)


def _field_errors(errors: dict[str, list[str]]) -> InvalidInput:
    return InvalidInput("Some fields are invalid.", details={"fields": errors})


@api_view(["GET"], authenticate=_with_stamp)
def catalog(request: HttpRequest):
    """The same for every caller until something it shows changes (encoded once per change)."""
    answer = selectors.catalog_answer_encoded(_request_stamp(request))
    return HttpResponse(answer, content_type="application/json")


@api_view(["GET", "DELETE"], authenticate=_with_stamp)
def connection(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    if request.method == "DELETE":
        parse_json(request, allowed={})
        return _disconnect(request, provider)
    answer = selectors.connection_state_answer(provider, _request_stamp(request))
    return HttpResponse(answer, content_type="application/json")


@api_view(["POST"])
def connection_disconnect(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    parse_json(request, allowed={})  # takes no fields; a body, if sent, must say nothing
    return _disconnect(request, provider)


def _disconnect(request: HttpRequest, provider: Provider) -> dict:
    try:
        services.connection_disconnect(
            provider=provider, ctx=_ctx(request), confirmed=_confirmed(request)
        )
    except services.NotConfigured:
        raise _not_configured(provider) from None
    except services.ConfirmationRequired as exc:
        raise _confirmation_required(provider, exc, "Disconnecting") from None
    return {"connection": selectors.connection_state(provider, None)}


def _confirmed(request: HttpRequest) -> bool:
    value = request.GET.get("confirm", "")
    if value not in ("", "true", "false"):
        raise InvalidInput(
            "confirm is true or false.", details={"fields": {"confirm": ["true or false."]}}
        )
    return value == "true"


def _confirmation_required(
    provider: Provider, exc: services.ConfirmationRequired, doing: str
) -> Conflict:
    roles = "; ".join(f"{a['agent']} ({a['role']}) {a['effect']}" for a in exc.affected)
    return Conflict(
        f"{doing} {provider.name} changes what agents use ({roles}). Repeat with ?confirm=true "
        "to go ahead.",
        code="confirmation_required",
        details={"affected": exc.affected},
    )


@api_view(["PUT"])
@sensitive_variables("body")
def connection_api_key(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    try:
        spec = services.connection_method(provider, AuthMethod.API_KEY)
    except services.UnsupportedAuthMethod as exc:
        raise _unsupported(exc) from None
    body = parse_json(
        request,
        allowed={f.name: str for f in spec.fields},
        required=[f.name for f in spec.fields if f.required],
    )
    return _configure(request, provider, AuthMethod.API_KEY, body)


@api_view(["PUT"])
@sensitive_variables("body")
def connection_local(request: HttpRequest, provider_id: str):
    """A local endpoint, or with `runtime_path` a local runtime: the body says which."""
    provider = _provider(provider_id)
    local = [m for m in provider.methods if m.id.is_local]
    if not local:
        raise _unsupported(services.UnsupportedAuthMethod(provider, "a local endpoint or runtime"))
    body = parse_json(request, allowed={f.name: str for m in local for f in m.fields})
    method = AuthMethod.LOCAL_RUNTIME if body.get("runtime_path") else AuthMethod.LOCAL_ENDPOINT
    try:
        spec = services.connection_method(provider, method)
    except services.UnsupportedAuthMethod as exc:
        raise _unsupported(exc) from None
    extra = sorted(set(body) - {f.name for f in spec.fields})
    if extra:
        raise InvalidInput(
            f"{', '.join(extra)} cannot be combined with {method} (send an endpoint_url or a "
            "runtime_path, not both).",
            code="unknown_fields",
            details={"unknown": extra, "allowed": sorted(f.name for f in spec.fields)},
        )
    return _configure(request, provider, method, body)


@sensitive_variables("body")
def _configure(request: HttpRequest, provider: Provider, method: str, body: dict) -> dict:
    try:
        configured = services.connection_configure(
            provider=provider, method=method, data=body, ctx=_ctx(request)
        )
    except services.InvalidCredentialInput as exc:
        raise _field_errors(exc.errors) from None
    return configured_answer(provider, configured)


def configured_answer(provider: Provider, configured: services.Configured) -> dict:
    """What a configure call answers: the stored connection with its verification, or 422
    verification_failed with the verification and the untouched connection."""
    if configured.connection is None:
        raise Unprocessable(
            configured.result.message,
            code="verification_failed",
            details={"verification": configured.result.as_dict(), "connection": _state(provider)},
        )
    return {
        "connection": _state(provider, configured.connection),
        "verification": configured.result.as_dict(),
    }


@api_view(["POST"])
def connection_verify(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    parse_json(request, allowed={})
    try:
        stored, result = services.connection_verify(provider=provider, ctx=_ctx(request))
    except services.NotConfigured:
        raise _not_configured(provider) from None
    return {"connection": _state(provider, stored), "verification": result.as_dict()}


@api_view(["PUT"])
def connection_credit_threshold(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    body = parse_json(request, allowed={"below": (int, float), "unit": str}, required=[])
    if "below" not in body:
        raise _field_errors({"below": ["Required: a number, or null to clear the threshold."]})
    try:
        stored = credit.connection_set_credit_threshold(
            provider=provider,
            below=body["below"],
            unit=body.get("unit", "amount"),
            ctx=_ctx(request),
        )
    except credit.InvalidThreshold as exc:
        raise _field_errors(exc.errors) from None
    if stored is None:
        raise _not_configured(provider)
    return {"connection": _state(provider, stored)}


@api_view(["PUT"])
def connection_default_model(request: HttpRequest, provider_id: str):
    provider = _provider(provider_id)
    body = parse_json(request, allowed={"model": str}, required=["model"])
    current = selectors.connection_get(provider)
    if current is None:
        raise _not_configured(provider)
    form = DefaultModelForm(body, choices=current.model_ids)
    if not form.is_valid():
        error = _field_errors({k: [str(e) for e in v] for k, v in form.errors.items()})
        error.code = "unknown_model"
        error.details["models"] = current.model_ids
        raise error
    try:
        stored = services.connection_set_default_model(
            provider=provider,
            model=form.cleaned_data["model"],
            ctx=_ctx(request),
            confirmed=_confirmed(request),
        )
    except services.NotConfigured:
        raise _not_configured(provider) from None
    except services.ConfirmationRequired as exc:
        raise _confirmation_required(provider, exc, "A new default model for") from None
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
        "models": [m.as_dict() for m in current.models],
    }


@api_view(["GET"])
def integration_health(request: HttpRequest, integration_id: str):
    provider = _provider(integration_id, kind="integration")
    errors: dict[str, list[str]] = {}
    page = _positive_int(request.GET.get("page", "1"), "page", errors, maximum=PAGE_MAX)
    page_size = _positive_int(
        request.GET.get("page_size", "50"), "page_size", errors, maximum=PAGE_SIZE_MAX
    )
    if errors:
        raise InvalidInput("Some query parameters are invalid.", details={"fields": errors})
    return selectors.integration_health(provider, page=page, page_size=page_size)


PAGE_MAX = 100_000
PAGE_SIZE_MAX = 200


def _positive_int(value: str, name: str, errors: dict, *, maximum: int) -> int:
    # ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
    if not re.fullmatch(r"[0-9]{1,7}", value) or not 1 <= int(value) <= maximum:
        errors[name] = [f"Use a whole number from 1 to {maximum}."]
        return 1
    return int(value)
