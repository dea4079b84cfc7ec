"""The agents API (design §7): agents and their model policies, versions, resolution and global
defaults, for operators; and the runtime endpoints, for an agent's own runtime token only."""

from __future__ import annotations

from django.http import HttpRequest

from agents import selectors, services
from agents.models import Agent, PolicyVersion
from agents.policy import FUNCTIONS, InvalidPolicy, policy_warnings
from koda.api import Conflict, InvalidInput, NotFound, api_view, parse_json
from koda.context import Context, Via
from providers.registry import get_provider


def _ctx(request: HttpRequest) -> Context:
    return Context.of_request(request, Via.API)


def agent_or_404(slug: str) -> Agent:
    agent = Agent.objects.filter(slug=slug).first()
    if agent is None:
        raise NotFound(
            f"There is no agent {slug!r}.", code="unknown_agent", details={"agent_id": slug}
        )
    return agent


def agent_dict(agent: Agent) -> dict:
    _, version = selectors.agent_policy(agent)
    return {
        "id": agent.slug,
        "name": agent.name,
        "version": version.number if version else None,
        "created_at": agent.created_at.isoformat(),
    }


def _policy_answer(agent: Agent, version: PolicyVersion, warnings: list[str]) -> dict:
    return {**version.policy, "agent": agent.slug, "version": version.number, "warnings": warnings}


def _without(request: HttpRequest) -> frozenset[str]:
    ids = [p.strip() for p in request.GET.get("without", "").split(",") if p.strip()]
    unknown = [p for p in ids if get_provider(p) is None]
    if unknown:
        raise InvalidInput(
            f"Unknown provider(s) in without: {', '.join(unknown)}.",
            details={"fields": {"without": ["Comma-separated provider ids."]}},
        )
    return frozenset(get_provider(p).id for p in ids)


def role_param(request: HttpRequest) -> str:
    role = request.GET.get("role", "").strip()
    if not role:
        raise InvalidInput(
            "Name the role: ?role=triage.", details={"fields": {"role": ["Required."]}}
        )
    if len(role) > 40:
        raise InvalidInput(
            "A role name is at most 40 characters.", details={"fields": {"role": ["Too long."]}}
        )
    return role


@api_view(["GET", "POST"])
def agents(request: HttpRequest):
    if request.method == "POST":
        body = parse_json(request, allowed={"id": str, "name": str}, required=["id", "name"])
        try:
            agent = services.agent_create(slug=body["id"], name=body["name"], ctx=_ctx(request))
        except services.InvalidAgent as exc:
            raise InvalidInput(
                "Some fields are invalid.", details={"fields": _renamed(exc.errors)}
            ) from None
        except services.AgentExists:
            raise Conflict(
                f"There is already an agent {body['id']!r}.", code="agent_exists"
            ) from None
        return 201, {"agent": agent_dict(agent)}
    return {"agents": [agent_dict(a) for a in Agent.objects.all()]}


def _renamed(errors: dict) -> dict:
    return {("id" if k == "slug" else k): v for k, v in errors.items()}


@api_view(["GET", "PUT"])
def model_policy(request: HttpRequest, agent_id: str):
    agent = agent_or_404(agent_id)
    if request.method == "PUT":
        body = parse_json(
            request, allowed={"roles": dict, "allowed_providers": list, "fallback_order": list}
        )
        try:
            version, checked = services.policy_set(agent=agent, data=body, ctx=_ctx(request))
        except InvalidPolicy as exc:
            raise InvalidInput(
                "The policy is not valid.", code="invalid_policy", details={"fields": exc.errors}
            ) from None
        return _policy_answer(agent, version, checked.warnings)
    policy, version = selectors.agent_policy(agent)
    return _policy_answer(agent, version, policy_warnings(policy))


@api_view(["GET"])
def resolve(request: HttpRequest, agent_id: str):
    agent = agent_or_404(agent_id)
    return selectors.agent_resolve(agent, role_param(request), without=_without(request)).as_dict()


def version_dict(version: PolicyVersion) -> dict:
    return {
        "number": version.number,
        "policy": version.policy,
        "changes": version.changes,
        "restored_from": version.restored_from,
        "actor": version.actor_label,
        "created_at": version.created_at.isoformat(),
    }


@api_view(["GET"])
def versions(request: HttpRequest, agent_id: str):
    agent = agent_or_404(agent_id)
    return {"agent": agent.slug, "versions": [version_dict(v) for v in selectors.versions(agent)]}


@api_view(["POST"])
def version_restore(request: HttpRequest, agent_id: str, number: int):
    agent = agent_or_404(agent_id)
    parse_json(request, allowed={})
    if not agent.versions.filter(number=number).exists():
        raise NotFound(f"{agent.slug} has no version {number}.", code="unknown_version")
    try:
        version, checked = services.policy_restore(agent=agent, number=number, ctx=_ctx(request))
    except InvalidPolicy as exc:
        raise InvalidInput(
            f"Version {number} no longer fits the connections as they are.",
            code="invalid_policy",
            details={"fields": exc.errors},
        ) from None
    return _policy_answer(agent, version, checked.warnings)


@api_view(["GET"])
def defaults(request: HttpRequest):
    chosen = selectors.function_defaults()
    return {
        "defaults": {
            f: ({"provider": chosen[f][0], "model": chosen[f][1]} if f in chosen else None)
            for f in FUNCTIONS
        }
    }


@api_view(["PUT"])
def default_set(request: HttpRequest, function: str):
    body = parse_json(
        request, allowed={"provider": str, "model": str}, required=["provider", "model"]
    )
    try:
        chosen = services.function_default_set(
            function=function, provider_id=body["provider"], model=body["model"], ctx=_ctx(request)
        )
    except services.InvalidDefault as exc:
        raise InvalidInput("The default is not valid.", details={"fields": exc.errors}) from None
    return {"function": function, "provider": chosen.provider_id, "model": chosen.model}
