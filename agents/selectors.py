"""Reads for agents: current policies, resolutions, versions, and what depends on a provider."""

from __future__ import annotations

from agents.models import Agent, PolicyVersion
from agents.policy import Policy
from agents.resolution import Resolution, resolve
from connections.models import FunctionDefault
from connections.selectors import connections_by_provider


def agent_policy(agent: Agent) -> tuple[Policy, PolicyVersion | None]:
    version = agent.versions.order_by("-number").first()
    return (Policy.from_dict(version.policy) if version else Policy()), version


def function_defaults() -> dict[str, tuple[str, str]]:
    return {d.function: (d.provider_id, d.model) for d in FunctionDefault.objects.all()}


def agent_resolve(agent: Agent, role: str, *, without: frozenset[str] = frozenset()) -> Resolution:
    policy, _ = agent_policy(agent)
    return resolve(
        policy,
        role,
        connections=connections_by_provider(),
        defaults=function_defaults(),
        without=without,
    )


def agent_routing(agent: Agent, *, without: frozenset[str] = frozenset()) -> list[Resolution]:
    """The effective routing of every role of the agent (one read of connections)."""
    policy, _ = agent_policy(agent)
    connections, defaults = connections_by_provider(), function_defaults()
    return [
        resolve(policy, role, connections=connections, defaults=defaults, without=without)
        for role in policy.role_names()
    ]


def dependents(provider_id: str, *, change: str, model: str = "") -> list[dict]:
    """The agents and roles that use `provider_id` now, and what a disconnect (or a new default
    model) would do to them: fall back to another candidate, or break."""
    connections, defaults = connections_by_provider(), function_defaults()
    found = []
    for agent in Agent.objects.all():
        policy, _ = agent_policy(agent)
        for role in policy.role_names():
            now = resolve(policy, role, connections=connections, defaults=defaults).resolved
            if now is None or now.provider != provider_id:
                continue
            if change == "default_model":
                current = connections[provider_id].default_model
                if now.source == "override" or now.model != current or model == current:
                    continue
                effect = f"moves to {model}"
            else:
                after = resolve(
                    policy,
                    role,
                    connections=connections,
                    defaults=defaults,
                    without=frozenset({provider_id}),
                ).resolved
                effect = f"falls back to {after.provider} {after.model}" if after else "breaks"
            found.append({"agent": agent.slug, "name": agent.name, "role": role, "effect": effect})
    return found


def versions(agent: Agent) -> list[PolicyVersion]:
    return list(agent.versions.select_related("actor").order_by("-number"))
