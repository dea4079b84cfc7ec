"""Reads for agents: current policies, resolutions, versions, and what depends on a provider."""

from __future__ import annotations

import copy

from agents.models import Agent, PolicyVersion
from agents.policy import Policy
from agents.resolution import Resolution, resolve
from connections.models import Connection, FunctionDefault
from connections.routing import routing
from connections.selectors import connections_by_provider
from providers.registry import PROVIDERS


def agent_policy(agent: Agent) -> tuple[Policy, PolicyVersion | None]:
    """The agent's current policy and its version (read fresh: a concurrent change counts)."""
    version = PolicyVersion.objects.filter(agent_id=agent.pk).order_by("-number").first()
    return (policy_of(version) if version else Policy()), version


def policy_of(version: PolicyVersion) -> Policy:
    return Policy.from_dict(version.policy)


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


def runtime_resolve(
    policy: Policy, role: str, *, stamp: tuple | None = None
) -> tuple[Resolution, dict[str, Connection]]:
    """The hot path: a resolution with the connections it names, credentials included, from the
    process's checked copy of connections and defaults (connections.routing; `stamp` if the
    caller has read it already)."""
    state = routing(stamp)
    resolution = resolve(policy, role, connections=state.connections, defaults=state.defaults)
    return resolution, state.connections


def agent_routing(agent: Agent, *, without: frozenset[str] = frozenset()) -> list[Resolution]:
    """The effective routing of every role of the agent (one read of connections)."""
    policy, _ = agent_policy(agent)
    connections, defaults = connections_by_provider(), function_defaults()
    return [
        resolve(policy, role, connections=connections, defaults=defaults, without=without)
        for role in policy.role_names()
    ]


def dependents(provider_id: str, *, change: str, model: str = "") -> list[dict]:
    """The agents and roles that use `provider_id` now, and what a disconnect (`change=
    "disconnect"`) or a new default model (`change="default_model"`) would do to them: move to
    another candidate, or break. Each role is resolved again as if the change were made."""
    connections, defaults = connections_by_provider(), function_defaults()
    if provider_id not in connections:
        return []
    after_change = dict(connections)
    if change == "default_model":
        changed = copy.copy(connections[provider_id])
        changed.default_model = model
        after_change[provider_id] = changed
    else:
        del after_change[provider_id]
    found = []
    for agent in Agent.objects.all():
        policy, _ = agent_policy(agent)
        for role in policy.role_names():
            now = resolve(policy, role, connections=connections, defaults=defaults).resolved
            if now is None or now.provider != provider_id:
                continue
            then = resolve(policy, role, connections=after_change, defaults=defaults).resolved
            if then is not None and (then.provider, then.model) == (now.provider, now.model):
                continue
            found.append(
                {
                    "agent": agent.slug,
                    "name": agent.name,
                    "role": role,
                    "now": {"provider": now.provider, "model": now.model},
                    "then": {"provider": then.provider, "model": then.model} if then else None,
                    "effect": f"moves to {PROVIDERS[then.provider].name} {then.model}"
                    if then
                    else "breaks: no candidate left",
                }
            )
    return found


def versions(agent: Agent) -> list[PolicyVersion]:
    return list(agent.versions.select_related("actor").order_by("-number"))


def references(provider_id: str) -> list[dict]:
    """Every agent whose current policy names `provider_id`, and where."""
    found = []
    for agent in Agent.objects.order_by("slug"):
        policy, _ = agent_policy(agent)
        where = [f"roles.{r}" for r, o in policy.roles.items() if o.provider == provider_id]
        where += [
            name
            for name, ids in (
                ("allowed_providers", policy.allowed_providers),
                ("fallback_order", policy.fallback_order),
            )
            if provider_id in ids
        ]
        found += [{"agent": agent.slug, "name": agent.name, "where": w} for w in where]
    return found
