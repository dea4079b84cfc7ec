"""Writes for agents: create, set and restore a model policy (each change a new version), global
defaults per function. The dashboard, the API and commands call these."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from agents.models import Agent, PolicyVersion
from agents.policy import FUNCTIONS, Checked, InvalidPolicy, Policy, policy_check, policy_diff
from agents.selectors import agent_policy
from connections.models import FunctionDefault, Status
from connections.selectors import connections_by_provider
from koda.audit import audit_record, provider_target
from koda.context import Context
from providers.registry import get_provider

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class AgentExists(Exception):
    pass


class InvalidAgent(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid agent")
        self.errors = errors


def agent_create(*, slug: str, name: str, ctx: Context) -> Agent:
    errors = {}
    if not SLUG.match(slug or ""):
        errors["slug"] = ["Lower-case letters, digits and '-' (e.g. support-bot), at most 64."]
    if not (name or "").strip() or len(name) > 120:
        errors["name"] = ["Give the agent a name of 1 to 120 characters."]
    if errors:
        raise InvalidAgent(errors)
    try:
        with transaction.atomic():
            agent = Agent.objects.create(slug=slug, name=name.strip())
            _new_version(agent, Policy(), None, ctx)
            audit_record(
                ctx=ctx, action="agent.create", target=f"agent:{slug}", diff={"name": agent.name}
            )
    except IntegrityError:
        raise AgentExists(slug) from None
    return agent


def policy_set(
    *, agent: Agent, data, ctx: Context, restored_from: int | None = None
) -> tuple[PolicyVersion, Checked]:
    """Validate and store a new version of the agent's policy (no new version if nothing
    changed). Raises InvalidPolicy with field-level errors."""
    checked = policy_check(data, connections=connections_by_provider())
    with transaction.atomic():
        Agent.objects.select_for_update().get(pk=agent.pk)  # one writer per agent at a time
        current, version = agent_policy(agent)
        if version is not None and current == checked.policy and restored_from is None:
            return version, checked
        version = _new_version(agent, checked.policy, current, ctx, restored_from=restored_from)
    return version, checked


def policy_restore(*, agent: Agent, number: int, ctx: Context) -> tuple[PolicyVersion, Checked]:
    """Make an old version current again: a new version with its policy, checked against the
    connections as they are now."""
    old = agent.versions.filter(number=number).first()
    if old is None:
        raise InvalidPolicy({"version": [f"{agent.slug} has no version {number}."]})
    return policy_set(agent=agent, data=old.policy, ctx=ctx, restored_from=number)


def _new_version(
    agent: Agent,
    policy: Policy,
    before: Policy | None,
    ctx: Context,
    *,
    restored_from: int | None = None,
) -> PolicyVersion:
    last = agent.versions.order_by("-number").first()
    changes = policy_diff(before, policy)
    version = PolicyVersion.objects.create(
        agent=agent,
        number=(last.number + 1) if last else 1,
        policy=policy.as_dict(),
        changes=changes,
        restored_from=restored_from,
        actor=ctx.user if ctx.user is not None and ctx.user.pk else None,
        actor_label=ctx.actor.label[:200],
    )
    Agent.objects.filter(pk=agent.pk).update(current=version)
    agent.current = version
    if before is not None:
        audit_record(
            ctx=ctx,
            action="agent.policy_restore" if restored_from else "agent.policy",
            target=f"agent:{agent.slug}",
            diff={"version": version.number, "restored_from": restored_from, "changes": changes},
        )
    return version


class InvalidDefault(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid default")
        self.errors = errors


@transaction.atomic
def function_default_set(
    *, function: str, provider_id: str, model: str, ctx: Context
) -> FunctionDefault:
    """The model used for a function (chat, embedding, tts, stt) when a role has no override:
    one of a verified (or degraded) connection's discovered models."""
    errors: dict[str, list[str]] = {}
    provider = get_provider(provider_id) if isinstance(provider_id, str) else None
    connection = connections_by_provider().get(provider.id) if provider else None
    if function not in FUNCTIONS:
        errors["function"] = [f"One of {', '.join(FUNCTIONS)}."]
    if provider is None:
        errors["provider"] = [f"Unknown provider {provider_id!r}."]
    elif connection is None or connection.status not in (Status.VERIFIED, Status.DEGRADED):
        errors["provider"] = [f"{provider.name} is not a verified connection."]
    elif model not in connection.model_ids:
        errors["model"] = [f"{provider.name} has not discovered {model!r}."]
    if errors:
        raise InvalidDefault(errors)
    before = FunctionDefault.objects.select_for_update().filter(function=function).first()
    chosen, _ = FunctionDefault.objects.update_or_create(
        function=function, defaults={"provider_id": provider.id, "model": model}
    )
    audit_record(
        ctx=ctx,
        action=f"default.{function}",
        target=provider_target(provider.id),
        diff={
            "before": f"{before.provider_id}:{before.model}" if before else None,
            "after": f"{provider.id}:{model}",
        },
    )
    return chosen
