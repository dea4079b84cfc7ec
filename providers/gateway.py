"""Verifying a built-in provider's key through a gateway (a base URL that is not the vendor's:
a LiteLLM proxy, a corporate gateway). What answers is the gateway, so:

- the check runs on a copy of the adapter named after the gateway's host, whose remedies point
  at the gateway's administrator instead of the vendor's key and billing pages;
- the gateway's vocabulary is read first: LiteLLM's machine-readable error `type`s
  (budget_exceeded, expired_key, token_not_found_in_db, no_db_connection, …) and its texts (a
  blocked key), and the OpenAI-style codes every gateway passes on; then the vendor's own rules
  (gateways relay upstream errors), whose remedies name the gateway too;
- a vendor-only probe (a key-info or balance endpoint, Perplexity's empty chat) that answers
  404 is skipped with a note, and the gateway's model list decides;
- the gateway's own key info is read where it has one (LiteLLM `/key/info`: spend, budget,
  expiry, blocked), and the budget is proved with an empty chat request, which runs the
  gateway's authentication and budget checks but generates and bills nothing (LiteLLM exempts
  its model list from budget checks, so the list alone proves nothing about the budget).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.views.decorators.debug import sensitive_variables

from providers import http
from providers.errors import error_fields, number
from providers.values import Credential, Outcome, Verdict, VerificationResult

if TYPE_CHECKING:
    from providers.base import Provider as HttpProvider  # an HttpProvider: its probes and rules
    from providers.errors import ErrorFields

# Outcomes of the empty chat request that are news about the key; any other refusal is the
# gateway refusing the empty request itself, after its key and budget checks passed.
FINDINGS = frozenset(
    {
        Outcome.INVALID_CREDENTIALS,
        Outcome.REVOKED_CREDENTIALS,
        Outcome.BILLING,
        Outcome.INSUFFICIENT_SCOPE,
        Outcome.RATE_LIMITED,
        Outcome.REGION_UNSUPPORTED,
    }
)
MODEL_ACCESS_TYPES = frozenset(
    {
        "key_model_access_denied",
        "team_model_access_denied",
        "user_model_access_denied",
        "org_model_access_denied",
    }
)


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def through(provider: HttpProvider, base: str, *, own: bool = False) -> HttpProvider:
    """The adapter as the gateway at `base`: named after its host (unless the provider is the
    gateway itself, `own`), remedies for its admin."""
    view = copy.copy(provider)
    host = host_of(base)
    if not own:
        view.name = f"{host} (gateway)"
    view.gateway_host = host
    view.unchecked_note = ""
    # The vendor's pages are not where a gateway key is fixed (remedies name the gateway).
    view.keys_url = view.billing_url = view.docs_url = ""
    vendor = type(provider).classify  # gateways relay the vendor's own errors: read them after
    view.classify = lambda response, fields: (
        gateway_classify(view, response, fields) or vendor(view, response, fields)
    )
    return view


def gateway_classify(view: HttpProvider, response: http.ProbeResponse, fields: ErrorFields):
    """LiteLLM's error types and texts, then the OpenAI-style codes gateways pass on."""
    kind = fields.type or fields.code
    if kind == "budget_exceeded" or fields.has("Budget has been exceeded", "over budget"):
        return view.billing(fields.message)
    if kind == "expired_key" or fields.has("Expired Key"):
        return view.revoked(fields.message)
    if fields.has("Key is blocked"):
        return view.revoked(fields.message)
    if kind == "token_not_found_in_db" or fields.has("Invalid proxy server token"):
        return view.invalid(fields.message)
    if kind == "no_db_connection" or fields.has("No connected db", "DB not connected"):
        return Verdict(
            Outcome.PROVIDER_UNAVAILABLE,
            f"The gateway at {view.gateway_host} is misconfigured: it has no database, so it "
            f"cannot check any key ({fields.message})."[:300],
            "Its administrator must connect the gateway's database (LiteLLM: DATABASE_URL); "
            "then verify again.",
        )
    if kind in MODEL_ACCESS_TYPES:
        return view.scope(fields.message)
    if fields.code == "insufficient_quota" or fields.type == "insufficient_quota":
        return view.billing(fields.message)
    if fields.code == "account_deactivated":
        return view.revoked(fields.message)
    if fields.code == "invalid_api_key":
        return view.invalid(fields.message)
    return None


@sensitive_variables()
def gateway_check(
    provider: HttpProvider, credential: Credential, base: str, *, own: bool = False
) -> VerificationResult:
    """Check a key at a gateway; `own`: the provider is that gateway (a LiteLLM proxy added as
    a provider), not a vendor reached through it."""
    view = through(provider, base, own=own)
    result = view.check_at(credential, base)
    if not own:
        result.notes.insert(
            0,
            f"Checked through the gateway at {view.gateway_host}, not {provider.name} itself: "
            f"what {provider.name} would say of the key upstream was not checked.",
        )
    if not result.ok:
        return result
    for step in (_key_info, _budget_proof):
        verdict = step(view, credential, base, result)
        if verdict is not None:
            failed = view.result(
                verdict,
                started=datetime.now(UTC),
                probe=result.probe,
                latency_ms=result.latency_ms,
                http_status=result.http_status,
                raw_error=result.raw_error,
            )
            failed.notes, failed.details = result.notes, result.details  # spend, budget
            return failed
    return result


def _call(view: HttpProvider, credential: Credential, method: str, url: str, body=None):
    """A request as the check's own probes make it (auth headers, the method's egress rules:
    a LiteLLM proxy added as a local provider may be on 127.0.0.1), or None without an answer."""
    try:
        return view.request(
            credential, method, url, json_body=body, local=credential.method.is_local
        )
    except (http.EgressRefused, http.TransportFailed):
        return None


def _origin(base: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def _key_info(view, credential, base, result) -> Verdict | None:
    """LiteLLM's `/key/info` about the calling key, where the gateway has it."""
    response = _call(view, credential, "GET", f"{_origin(base)}/key/info")
    info = (
        response.json.get("info")
        if response is not None and isinstance(response.json, dict)
        else None
    )
    if response is None or response.status != 200 or not isinstance(info, dict):
        return None  # not LiteLLM, or not allowed: nothing to add
    result.latency_ms += response.latency_ms
    spend, budget = number(info.get("spend")), number(info.get("max_budget"))
    if spend is not None:
        result.details["spend"] = f"{spend:g}"
    result.details["budget"] = f"{budget:g}" if budget is not None else "none"
    if isinstance(info.get("expires"), str):
        result.details["key_expires"] = info["expires"][:32]
    if info.get("blocked") is True:
        result.raw_error = response.text
        return view.revoked("the gateway has blocked this key (/key/info says blocked)")
    if budget is not None and spend is not None and spend >= budget:
        result.raw_error = response.text
        return view.billing(f"the key has spent {spend:g} of its {budget:g} budget")
    return None


def _budget_proof(view, credential, base, result) -> Verdict | None:
    """An empty chat request: the gateway's key and budget checks run, nothing is generated."""
    if not result.models or view.protocol not in ("openai", "anthropic"):
        return None
    model = result.models[0].id
    if view.protocol == "anthropic":
        url, body = f"{base}/v1/messages", {"model": model, "max_tokens": 1, "messages": []}
    else:
        url, body = f"{base}/chat/completions", {"model": model, "messages": [], "max_tokens": 1}
    response = _call(view, credential, "POST", url, body)
    if response is None:
        result.notes.append("The gateway's budget could not be checked (no answer).")
        return None
    result.latency_ms += response.latency_ms
    if 200 <= response.status < 300:
        result.notes.append("The gateway answered an empty chat request; its budget allows calls.")
        return None
    message = error_message(response)
    if message.startswith("litellm."):
        # LiteLLM prefixes what the upstream answered: the request got past the gateway's key
        # and budget checks (LiteLLM's own refusals never carry the prefix).
        result.notes.append(
            "The gateway checked the key and its budget, then passed Koda's empty chat request "
            f"upstream, which refused it: {message[:200]}"
        )
        return None
    verdict = view.classify_error(response)
    if verdict.outcome in FINDINGS:
        result.probe, result.http_status, result.raw_error = (
            f"POST {url}",
            response.status,
            response.text,
        )
        return verdict
    result.notes.append(
        "The gateway checked the key and its budget: it refused Koda's empty chat request "
        "as expected (nothing was generated or billed)."
    )
    return None


def error_message(response: http.ProbeResponse) -> str:
    return error_fields(response.json).message if response.is_json else ""
