"""The runtime endpoints: the one way a secret leaves Koda (design §6).

`GET /agents/{id}/runtime/resolve?role=` answers an agent's runtime token, and nothing else,
with the ordered candidates and what is needed to call each (base URL, headers, credential);
every issuance is audited with the keys' hints; the answer is never cached. `POST
/agents/{id}/runtime/report` records a failed call as a health snapshot (trigger `runtime`),
which degrades or fails the connection and brings its re-verification forward, so the next
resolve of every agent moves on to a fallback.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from agents import selectors
from agents.api import agent_or_404, role_param
from agents.models import RuntimeReport
from agents.tokens import RuntimeCaller, runtime_authenticate
from connections.models import Connection
from connections.services import connection_record_report
from koda.api import ApiError, Forbidden, InvalidInput, api_view, parse_json
from koda.audit import audit_record
from koda.context import Context
from koda.redaction import redact
from providers.base import RAW_ERROR_LIMIT
from providers.registry import PROVIDERS, get_provider
from providers.values import Outcome, VerificationResult


def _caller(request: HttpRequest, agent_id: str) -> tuple[RuntimeCaller, Context]:
    """The token's agent (read with the token), if it is the one in the path."""
    caller = request.runtime_caller
    if caller.slug != agent_id:
        agent_or_404(agent_id)  # no such agent: 404; another agent's: 403
        raise Forbidden("This runtime token belongs to another agent.", code="wrong_agent")
    return caller, Context.agent(request, caller.slug, caller.prefix)


@api_view(["GET"], authenticate=runtime_authenticate)
@sensitive_variables()
def runtime_resolve(request: HttpRequest, agent_id: str):
    agent, ctx = _caller(request, agent_id)
    resolution, stored = selectors.runtime_resolve(
        agent.policy, role_param(request), stamp=agent.routing_stamp
    )
    answer = resolution.as_dict()
    candidates, issued = [], []
    for candidate in resolution.candidates:
        connection = stored[candidate.provider]
        credential = connection.credential
        adapter = PROVIDERS[candidate.provider]
        access = adapter.runtime_access(credential)
        candidates.append(
            {
                **candidate.as_dict(),
                "protocol": access.protocol,
                "base_url": access.base_url,
                "headers": access.headers,
                "paths": access.paths,
                # A key whole; of a sign-in only the access token (never the refresh token).
                "credential": adapter.runtime_credential(credential),
            }
        )
        issued.append(
            {
                "provider": candidate.provider,
                "model": candidate.model,
                "secret_hint": connection.secret_hint,
            }
        )
    answer["candidates"] = candidates
    audit_record(
        ctx=ctx,
        action="agent.runtime_resolve",
        target=f"agent:{agent.slug}",
        diff={"role": resolution.role, "issued": issued},
    )
    response = JsonResponse(answer)
    response["Cache-Control"] = "no-store"
    return response


@api_view(["POST"], authenticate=runtime_authenticate)
def runtime_report(request: HttpRequest, agent_id: str):
    agent, ctx = _caller(request, agent_id)
    body = parse_json(
        request,
        allowed={
            "provider": str,
            "model": str,
            "outcome": str,
            "http_status": int,
            "raw_error": str,
        },
        required=["provider", "model", "outcome"],
    )
    errors: dict[str, list[str]] = {}
    provider = get_provider(body["provider"])
    if provider is None or not agent.policy.allows(provider.id):
        errors["provider"] = ["Not a provider this agent may use."]
    if body["outcome"] not in {o.value for o in Outcome} - {Outcome.OK}:
        errors["outcome"] = [
            "One of the failure outcome codes (e.g. rate_limited, invalid_credentials)."
        ]
    status = body.get("http_status")
    if status is not None and not 100 <= status <= 599:
        errors["http_status"] = ["An HTTP status from 100 to 599."]
    if errors:
        raise InvalidInput("Some fields are invalid.", details={"fields": errors})
    _rate_limit(agent)
    connection = Connection.objects.filter(provider_id=provider.id).first()
    if connection is None:
        raise InvalidInput(
            f"{provider.name} is not connected.",
            details={"fields": {"provider": ["Not connected."]}},
        )
    outcome = Outcome(body["outcome"])
    result = VerificationResult(
        ok=False,
        outcome=outcome,
        message=f"Agent {agent.slug}'s call to {body['model'][:100]} failed: {outcome}.",
        remedy="Koda verifies the connection again shortly; agents use their fallbacks meanwhile.",
        http_status=status,
        # What the runtime saw, with this connection's secrets and anything key-shaped removed.
        raw_error=redact(body.get("raw_error") or "", *connection.credential.secret_values)[
            :RAW_ERROR_LIMIT
        ],
        probe=f"runtime call by agent {agent.slug}: {body['model'][:200]}",
        checked_at=timezone.now().isoformat(),
    )
    RuntimeReport.objects.create(
        agent_id=agent.agent_id,
        provider_id=provider.id,
        model=body["model"][:256],
        outcome=outcome,
        http_status=status,
    )
    snapshot = connection_record_report(provider=provider, result=result, ctx=ctx)
    connection.refresh_from_db()
    return 202, {
        "recorded": snapshot is not None,
        "connection_status": connection.status,
        "next_check_at": connection.next_check_at.isoformat() if connection.next_check_at else None,
    }


def _rate_limit(agent: RuntimeCaller) -> None:
    """A looping runtime cannot flood the history: at most KODA_RUNTIME_REPORTS_PER_MINUTE."""
    limit = settings.KODA_RUNTIME_REPORTS_PER_MINUTE
    since = timezone.now() - timedelta(minutes=1)
    recent = RuntimeReport.objects.filter(agent_id=agent.agent_id, created_at__gte=since).order_by(
        "created_at"
    )
    if recent.count() >= limit:
        oldest = recent.first().created_at
        wait = max(1, int((oldest + timedelta(minutes=1) - timezone.now()).total_seconds()) + 1)
        raise ApiError(
            f"More than {limit} reports in a minute from {agent.slug}; try again in {wait} s.",
            code="rate_limited",
            status=429,
            headers={"Retry-After": str(wait)},
        )
