"""Who is writing, through what, and from where: the context every service takes instead of a
request. Views, API views, commands and sweeps build one; services never see an HttpRequest.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest


class Via(models.TextChoices):
    """Through what a change or a check was made. Stored (audit events, health snapshots):
    values are never renamed. An unknown value cannot be recorded by mistake: it is an enum."""

    WIZARD = "wizard", "Provider page"
    OPERATIONS = "operations", "Operations"
    DASHBOARD = "dashboard", "Dashboard"  # log-in, API tokens
    API = "api", "API"
    COMMAND = "command", "Command"
    SWEEP = "sweep", "Health sweep"
    RUNTIME = "runtime", "Agent runtime"  # an agent's own runtime, with its runtime token
    ADMIN = "admin", "Admin"
    SYSTEM = "system", "System"


class ActorKind(enum.StrEnum):
    OPERATOR = "operator"
    API_TOKEN = "api_token"
    COMMAND = "command"
    SWEEP = "sweep"
    SYSTEM = "system"  # Koda itself (a background job refreshing what it changed)
    AGENT = "agent"  # an agent's runtime, by its runtime token
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user: AbstractBaseUser | None = None
    # The token's public prefix (never the token), or the command's name.
    detail: str = ""

    @property
    def label(self) -> str:
        """How the audit trail names this actor; it still reads right after a user is deleted."""
        name = self.user.get_username() if self.user is not None else ""
        if self.kind == ActorKind.API_TOKEN:
            return f"{name} (token {self.detail}…)"
        if self.kind == ActorKind.COMMAND:
            return f"command {self.detail}" if self.detail else "command"
        if self.kind == ActorKind.ANONYMOUS:
            return f"anonymous ({self.detail})"
        if self.kind == ActorKind.AGENT:
            return f"agent {self.detail}"
        return name or str(self.kind)


@dataclass(frozen=True)
class Context:
    """The context of one write: who, through what, from which client address."""

    actor: Actor
    via: Via
    client_address: str | None = None

    @property
    def user(self) -> AbstractBaseUser | None:
        return self.actor.user

    @classmethod
    def of_request(
        cls, request: HttpRequest, via: Via, *, user: AbstractBaseUser | None = None
    ) -> Context:
        """An operator's request: their session (or `user`, as log-in names them before the
        request knows), or their API token (set by the API's auth)."""
        token = getattr(request, "api_token", None)  # a koda.models.ApiToken, or None
        if token is not None:
            actor = Actor(ActorKind.API_TOKEN, token.operator, token.prefix)
        else:
            actor = Actor(ActorKind.OPERATOR, user or request.user)
        return cls(actor, via, client_address(request))

    @classmethod
    def anonymous(cls, request: HttpRequest | None, username: str) -> Context:
        return cls(
            Actor(ActorKind.ANONYMOUS, detail=username), Via.DASHBOARD, client_address(request)
        )

    @classmethod
    def command(cls, name: str, user: AbstractBaseUser | None = None) -> Context:
        return cls(Actor(ActorKind.COMMAND, user, name), Via.COMMAND)

    @classmethod
    def sweep(cls) -> Context:
        return cls(Actor(ActorKind.SWEEP), Via.SWEEP)

    @classmethod
    def agent(cls, request: HttpRequest, slug: str, token_prefix: str) -> Context:
        """An agent's runtime: `detail` names the agent and the token's public prefix."""
        return cls(
            Actor(ActorKind.AGENT, detail=f"{slug} (token {token_prefix}…)"),
            Via.RUNTIME,
            client_address(request),
        )

    @classmethod
    def system(cls) -> Context:
        return cls(Actor(ActorKind.SYSTEM), Via.SYSTEM)


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address. Behind KODA_TRUSTED_PROXY_HOPS reverse proxies, the address the
    outermost trusted proxy saw (X-Forwarded-For, counted from the right: entries further left
    were written by the client and prove nothing)."""
    if request is None:
        return None
    hops = settings.KODA_TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            return _address_or_none(forwarded[-hops])
    return _address_or_none(request.META.get("REMOTE_ADDR"))


def _address_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip("[]")))
    except ValueError:
        return None
