"""Agent runtime tokens: made on the agent's page or by `create_agent_token` (the plaintext is
returned once), stored as SHA-256, revocable. A runtime token authenticates only the runtime
endpoints of its own agent; operator endpoints refuse it (its prefix is not an API token's)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils import timezone

from agents.models import Agent, AgentToken
from agents.policy import Policy
from connections.routing import STAMP_NAMES, stamp_expressions
from koda.api import Forbidden, Unauthenticated
from koda.audit import audit_record
from koda.context import Context
from koda.prepared import VALUE, Row
from koda.tokens import token_digest, token_new

TOKEN_PREFIX = "kagent_"


def agent_token_create(*, agent: Agent, name: str, ctx: Context) -> tuple[AgentToken, str]:
    plaintext, stored = token_new(TOKEN_PREFIX)
    token = AgentToken.objects.create(agent=agent, name=(name or "runtime").strip()[:100], **stored)
    audit_record(
        ctx=ctx,
        action="agent_token.create",
        target=f"agent:{agent.slug}",
        diff={"name": token.name, "prefix": token.prefix},
    )
    return token, plaintext


def agent_token_revoke(*, token: AgentToken, ctx: Context) -> None:
    if AgentToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        audit_record(
            ctx=ctx,
            action="agent_token.revoke",
            target=f"agent:{token.agent.slug}",
            diff={"name": token.name, "prefix": token.prefix},
        )


@dataclass(frozen=True)
class RuntimeCaller:
    """Who called a runtime endpoint: the token's agent, with its current policy."""

    token_id: int
    prefix: str
    agent_id: int
    slug: str
    policy: Policy
    routing_stamp: tuple  # connections.routing's stamp, read in the same statement


# The token lookup: token, agent, the current policy and the routing stamp in one statement,
# compiled once (koda.prepared). On the hot path the ORM's per-query compile would cost more than
# the query itself, and each statement more than its rows (a round trip, and a thread that gives
# up the GIL and waits to get it back).
_BY_HASH = Row(
    lambda: (
        AgentToken.objects.filter(token_hash=VALUE, revoked_at__isnull=True)
        .order_by()
        .annotate(**stamp_expressions())
        .values_list(
            "id",
            "prefix",
            "last_used_at",
            "agent_id",
            "agent__slug",
            "agent__current__policy",
            *STAMP_NAMES,
        )
    )
)


def _lookup(token: str) -> RuntimeCaller | None:
    row = _BY_HASH.first(token_digest(token))
    if row is None:
        return None
    token_id, prefix, last_used_at, agent_id, slug, policy, *stamp = row
    now = timezone.now()
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        AgentToken.objects.filter(pk=token_id).update(last_used_at=now)
    return RuntimeCaller(
        token_id, prefix, agent_id, slug, Policy.from_dict(policy or {}), tuple(stamp)
    )


def runtime_authenticate(request: HttpRequest) -> str:
    """For `api_view(authenticate=…)` on runtime endpoints: an agent's runtime token, and
    nothing else (an operator's session or API token never reads a secret). Sets
    `request.runtime_caller`."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials.startswith(TOKEN_PREFIX):
        caller = _lookup(credentials)
        if caller is None:
            raise Unauthenticated(
                "The agent token is unknown or revoked.",
                code="invalid_token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        request.runtime_caller = caller
        return "token"
    if header or (getattr(request, "user", None) is not None and request.user.is_authenticated):
        raise Forbidden(
            "Runtime endpoints answer an agent's runtime token only (made on the agent's page or "
            "with manage.py create_agent_token).",
            code="agent_token_required",
        )
    raise Unauthenticated(
        "Send Authorization: Bearer <agent runtime token>.",
        headers={"WWW-Authenticate": "Bearer"},
    )
