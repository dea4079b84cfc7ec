"""Agent runtime tokens: made on the agent's page or by `create_agent_token` (the plaintext is
returned once), stored as SHA-256, revocable. A runtime token authenticates only the runtime
endpoints of its own agent; operator endpoints refuse it (its prefix is not an API token's)."""

from __future__ import annotations

import hashlib
import secrets

from django.http import HttpRequest
from django.utils import timezone

from agents.models import Agent, AgentToken
from koda.api import Forbidden, Unauthenticated
from koda.audit import audit_record
from koda.context import Context

TOKEN_PREFIX = "kagent_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()  # 256 random bits: no stretching needed


def agent_token_create(*, agent: Agent, name: str, ctx: Context) -> tuple[AgentToken, str]:
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AgentToken.objects.create(
        agent=agent,
        name=(name or "runtime").strip()[:100],
        token_hash=_hash(plaintext),
        prefix=plaintext[:12],
    )
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


def runtime_authenticate(request: HttpRequest) -> str:
    """For `api_view(authenticate=…)` on runtime endpoints: an agent's runtime token, and
    nothing else (an operator's session or API token never reads a secret)."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials.startswith(TOKEN_PREFIX):
        token = (
            AgentToken.objects.select_related("agent")
            .filter(token_hash=_hash(credentials), revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise Unauthenticated(
                "The agent token is unknown or revoked.",
                code="invalid_token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            AgentToken.objects.filter(pk=token.pk).update(last_used_at=now)
        request.agent_token = token
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
