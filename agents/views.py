"""The Agents pages: the list (with the global defaults per function), and an agent's page (its
policy form with field errors, the effective routing of every role with a "what if X were down"
selector, versions with restore, runtime tokens). Every write goes through agents.services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agents import selectors, services
from agents.forms import PolicyForm, policy_form, posted_policy
from agents.models import Agent, AgentToken
from agents.policy import FUNCTIONS, InvalidPolicy, policy_warnings
from agents.resolution import REASON_TEXT, Resolution
from agents.tokens import agent_token_create, agent_token_revoke
from connections.models import Status
from connections.selectors import connections_by_provider
from koda.context import Context, Via
from koda.rendering import render_page, render_swap
from providers.registry import PROVIDERS, get_provider

LIST = "agents/agents.html"
DETAIL = "agents/agent_detail.html"


def _ctx(request: HttpRequest) -> Context:
    return Context.of_request(request, Via.DASHBOARD)


def _usable_connections() -> dict:
    return {
        pid: c
        for pid, c in connections_by_provider().items()
        if c.status in (Status.VERIFIED, Status.DEGRADED)
    }


# --- the list ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def agents(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        slug, name = request.POST.get("slug", "").strip(), request.POST.get("name", "")
        try:
            agent = services.agent_create(slug=slug, name=name, ctx=_ctx(request))
        except services.InvalidAgent as exc:
            errors = exc.errors
        except services.AgentExists:
            errors = {"slug": [f"There is already an agent {slug!r}."]}
        else:
            return redirect("agent", slug=agent.slug)
    return render(
        request, LIST, _list_context(request, create_errors=errors), status=400 if errors else 200
    )


def _list_context(request: HttpRequest, **extra) -> dict:
    rows = []
    for agent in Agent.objects.all():
        routing = selectors.agent_routing(agent)
        rows.append(
            {
                "agent": agent,
                "version": selectors.agent_policy(agent)[1],
                "roles": len(routing),
                "unresolved": [r.role for r in routing if r.resolved is None],
            }
        )
    return {"rows": rows, **_defaults_context(), **extra}


def _defaults_context(**extra) -> dict:
    chosen = selectors.function_defaults()
    usable = _usable_connections()
    choices = {
        function: [
            (f"{pid}|{m.id}", f"{PROVIDERS[pid].name} · {m.id}")
            for pid, c in usable.items()
            for m in c.models
            if m.serves(function)
        ]
        for function in FUNCTIONS
    }
    return {
        "functions": [
            {
                "function": f,
                "chosen": "|".join(chosen[f]) if f in chosen else "",
                "choices": choices[f],
            }
            for f in FUNCTIONS
        ],
        "default_errors": {},
        **extra,
    }


@require_POST
def default_set(request: HttpRequest) -> HttpResponse:
    function = request.POST.get("function", "")
    provider_id, _, model = request.POST.get("choice", "").partition("|")
    errors: dict = {}
    try:
        services.function_default_set(
            function=function, provider_id=provider_id, model=model, ctx=_ctx(request)
        )
    except services.InvalidDefault as exc:
        errors = {function: [m for ms in exc.errors.values() for m in ms]}
    if request.htmx:
        return render(request, f"{LIST}#defaults", _defaults_context(default_errors=errors))
    if errors:
        return render(request, LIST, _list_context(request, default_errors=errors), status=400)
    return redirect("agents")


# --- one agent ---------------------------------------------------------------------------------


def _agent(slug: str) -> Agent:
    return get_object_or_404(Agent, slug=slug)


def _without(request: HttpRequest) -> frozenset[str]:
    provider = get_provider(request.GET.get("without", ""))
    return frozenset({provider.id}) if provider else frozenset()


def _detail_context(
    request: HttpRequest, agent: Agent, *, form: PolicyForm | None = None, **extra
) -> dict:
    policy, version = selectors.agent_policy(agent)
    connections = connections_by_provider()
    without = _without(request)
    slots = max(len(connections), len(policy.fallback_order), 2)
    form = form or policy_form(policy, slots=slots)
    form.row_errors()
    return {
        "agent": agent,
        "version": version,
        "policy": policy,
        "warnings": policy_warnings(policy),
        "form": form,
        "providers": [(pid, PROVIDERS[pid].name, connections[pid].status) for pid in connections],
        "model_options": [
            (m.id, PROVIDERS[pid].name) for pid, c in connections.items() for m in c.models
        ],
        "routing": [_routing_row(r) for r in selectors.agent_routing(agent, without=without)],
        "without": next(iter(without), ""),
        "without_name": PROVIDERS[next(iter(without))].name if without else "",
        "names": set(PROVIDERS),
        "versions": [_version_row(v) for v in selectors.versions(agent)[:20]],
        "tokens": agent.tokens.all(),
        "created_token": None,
        **extra,
    }


def _routing_row(resolution: Resolution) -> dict:
    def named(c) -> dict:
        return {"name": PROVIDERS[c.provider].name, "model": c.model, "source": c.source}

    return {
        "role": resolution.role,
        "uses": named(resolution.resolved) if resolution.resolved else None,
        "then": [named(c) for c in resolution.candidates[1:]],
        "skipped": [
            {
                "name": PROVIDERS[s.provider].name if s.provider in PROVIDERS else s.provider,
                "model": s.model,
                "reason": REASON_TEXT.get(s.reason, s.reason),
            }
            for s in resolution.skipped
        ],
    }


def _version_row(version) -> dict:
    return {
        "number": version.number,
        "created_at": version.created_at,
        "actor_label": version.actor_label,
        "restored_from": version.restored_from,
        "changes": [
            {
                "field": c["field"],
                "before": _readable(c["field"], c["before"]),
                "after": _readable(c["field"], c["after"]),
            }
            for c in version.changes
        ],
    }


def _readable(name: str, value) -> str:
    """A policy value as a person reads it: "Groq llama-3.1-8b-instant", "Groq, Anthropic"."""

    def provider_name(pid: str) -> str:
        return PROVIDERS[pid].name if pid in PROVIDERS else pid

    if value is None:
        return "—"
    if isinstance(value, dict):
        return f"{provider_name(value.get('provider', ''))} {value.get('model', '')}"
    if not value:
        return "any connected provider" if name == "allowed_providers" else "none"
    return ", ".join(provider_name(p) for p in value)


@require_GET
def agent_detail(request: HttpRequest, slug: str) -> HttpResponse:
    agent = _agent(slug)
    return render_page(request, DETAIL, "routing", _detail_context(request, agent))


@require_POST
def policy_save(request: HttpRequest, slug: str) -> HttpResponse:
    agent = _agent(slug)
    slots = max(len(connections_by_provider()), 2)
    data, form = posted_policy(request.POST, slots=slots)
    if not form.errors:
        try:
            version, checked = services.policy_set(agent=agent, data=data, ctx=_ctx(request))
        except InvalidPolicy as exc:
            form.errors = exc.errors
        else:
            messages.success(request, f"Saved: the policy is version {version.number}.")
            for warning in checked.warnings:
                messages.warning(request, warning)
            url = f"/agents/{agent.slug}/"
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = _detail_context(request, agent, form=form)
    return render(request, DETAIL, context, status=400)


@require_POST
def version_restore(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    agent = _agent(slug)
    try:
        version, _ = services.policy_restore(agent=agent, number=number, ctx=_ctx(request))
    except InvalidPolicy as exc:
        problems = "; ".join(m for ms in exc.errors.values() for m in ms)
        messages.error(request, f"Version {number} cannot be restored: {problems}")
    else:
        messages.success(request, f"Version {number} restored as version {version.number}.")
    return redirect("agent", slug=agent.slug)


@require_POST
def token_create(request: HttpRequest, slug: str) -> HttpResponse:
    agent = _agent(slug)
    name = request.POST.get("name", "").strip() or "runtime"
    _, plaintext = agent_token_create(agent=agent, name=name, ctx=_ctx(request))
    context = _detail_context(request, agent, created_token=plaintext)
    return render_swap(request, DETAIL, "runtime-tokens", context)


@require_POST
def token_revoke(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    agent = _agent(slug)
    token = get_object_or_404(AgentToken, pk=token_id, agent=agent)
    agent_token_revoke(token=token, ctx=_ctx(request))
    messages.success(request, f"Runtime token “{token.name}” revoked.")
    return render_swap(request, DETAIL, "runtime-tokens", _detail_context(request, agent))
