"""Events about what agents rely on: a model in use that a provider no longer offers (catalogue
drift, found when a check changes the model list), and an agent role left with no usable
candidate (found when a connection starts failing, recovers, or changes its models)."""

from __future__ import annotations

import copy

from django.utils import timezone

from agents.models import Agent
from agents.resolution import REASON_TEXT, resolve
from agents.selectors import agent_policy, function_defaults
from connections.models import FunctionDefault, HealthSnapshot, Status
from connections.selectors import connections_by_provider
from notifications.models import Event, EventKind
from notifications.raising import raise_event
from providers.base import Provider


def models_in_use(provider_id: str, default_model: str) -> dict[str, list[str]]:
    """Each model of the provider that something names, with what names it: the connection's
    default, the defaults per function, agents' role overrides."""
    used: dict[str, list[str]] = {}
    if default_model:
        used.setdefault(default_model, []).append("the default model")
    for d in FunctionDefault.objects.filter(provider_id=provider_id):
        used.setdefault(d.model, []).append(f"the {d.function} default")
    for agent in Agent.objects.order_by("slug"):
        policy, _ = agent_policy(agent)
        for role, override in policy.roles.items():
            if override.provider == provider_id:
                used.setdefault(override.model, []).append(f"{agent.name} ({role})")
    return used


def drift_events(
    provider: Provider, snapshot: HealthSnapshot, models_before: list[str] | None
) -> list[Event]:
    """A model in use that this check's model list no longer offers: once per model and check
    that lost it (the list changes once; later sweeps find nothing new)."""
    if not snapshot.ok or models_before is None:
        return []
    connection = snapshot.connection
    gone = set(models_before) - set(connection.model_ids)
    if not gone:
        return []
    used = models_in_use(provider.id, connection.default_model)
    raised = []
    for model in sorted(gone & set(used)):
        raised += raise_event(
            EventKind.MODEL_DRIFT,
            f"model_drift:{provider.id}:{model}:{snapshot.pk}",
            provider,
            snapshot,
            title=f"{provider.name} no longer offers {model}, used by {', '.join(used[model])}",
            model=model,
            used_by=used[model],
        )
    return raised


def role_events(
    provider: Provider, snapshot: HealthSnapshot, *, models_before: list[str] | None = None
) -> list[Event]:
    """Every agent role this check left with no usable candidate (one that had one with the
    provider as it was: usable, with its models before), once until it has one again; and the
    end of those that have one again."""
    connections, defaults = connections_by_provider(), function_defaults()
    before = dict(connections)
    if provider.id in connections:
        was = copy.copy(connections[provider.id])
        was.status = Status.VERIFIED
        if models_before is not None:
            was.discovered_models = [{"id": m} for m in models_before]
        before[provider.id] = was
    open_ = {
        e.key.rsplit(":", 1)[0]: e
        for e in Event.objects.filter(kind=EventKind.NO_CANDIDATE, resolved_at=None)
    }
    raised = []
    for agent in Agent.objects.order_by("slug"):
        policy, _ = agent_policy(agent)
        for role in policy.role_names():
            name = f"no_candidate:{agent.slug}:{role}"
            now = resolve(policy, role, connections=connections, defaults=defaults)
            if now.resolved is not None:
                if name in open_:
                    Event.objects.filter(pk=open_[name].pk).update(resolved_at=timezone.now())
                continue
            if name in open_:
                continue
            if resolve(policy, role, connections=before, defaults=defaults).resolved is None:
                continue  # it had no candidate before this check either: no news
            why = "; ".join(
                f"{s.provider}{' ' + s.model if s.model else ''}: {REASON_TEXT[s.reason]}"
                for s in now.skipped
            )
            raised += raise_event(
                EventKind.NO_CANDIDATE,
                f"{name}:{snapshot.pk}",
                provider,
                snapshot,
                title=f"{agent.name}: the {role} role has no usable model left",
                agent={"id": agent.slug, "name": agent.name},
                role=role,
                skipped=why,
            )
    return raised
