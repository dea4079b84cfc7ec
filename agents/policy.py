"""An agent's model policy: per-role overrides, the providers it may use, and the order it falls
back in (design §7). Validation gives field-level errors (for the form and the API alike) and
warnings that do not block a save."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connections.models import Connection
from providers.registry import PROVIDERS, get_provider

# The functions a role can be; any other role name (triage, draft, final, …) is a chat role.
FUNCTIONS = ("chat", "embedding", "tts", "stt")
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_ROLES = 50


def function_of(role: str) -> str:
    return role if role in FUNCTIONS else "chat"


@dataclass(frozen=True)
class Override:
    provider: str
    model: str


@dataclass(frozen=True)
class Policy:
    roles: dict[str, Override] = field(default_factory=dict)
    # Empty means every connected provider may be used.
    allowed_providers: tuple[str, ...] = ()
    fallback_order: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "roles": {r: {"provider": o.provider, "model": o.model} for r, o in self.roles.items()},
            "allowed_providers": list(self.allowed_providers),
            "fallback_order": list(self.fallback_order),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """A stored policy (already valid when it was stored)."""
        return cls(
            roles={
                role: Override(o["provider"], o["model"])
                for role, o in (data.get("roles") or {}).items()
            },
            allowed_providers=tuple(data.get("allowed_providers") or ()),
            fallback_order=tuple(data.get("fallback_order") or ()),
        )

    def allows(self, provider_id: str) -> bool:
        return not self.allowed_providers or provider_id in self.allowed_providers

    def role_names(self) -> list[str]:
        """Every role the agent has: its overrides, then the functions."""
        return [*self.roles, *(f for f in FUNCTIONS if f not in self.roles)]


class InvalidPolicy(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid policy")
        self.errors = errors


@dataclass
class Checked:
    policy: Policy
    warnings: list[str]


def policy_check(data: Any, *, connections: Mapping[str, Connection]) -> Checked:
    """Turn what an operator sent into a Policy, or raise InvalidPolicy with errors keyed by
    field path (`roles.triage.model`, `fallback_order.1`). Provider aliases become their ids."""
    errors: dict[str, list[str]] = {}

    def error(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    if not isinstance(data, Mapping):
        raise InvalidPolicy(
            {"": ["The policy is a JSON object with roles, allowed_providers and fallback_order."]}
        )
    unknown = sorted(set(data) - {"roles", "allowed_providers", "fallback_order"})
    for name in unknown:
        error(name, "Unknown field.")

    allowed: list[str] = []
    for i, pid in enumerate(_list(data.get("allowed_providers"), "allowed_providers", error)):
        canonical = _provider_id(pid, f"allowed_providers.{i}", error)
        if canonical and canonical in allowed:
            error(f"allowed_providers.{i}", f"{canonical} is listed twice.")
        elif canonical:
            allowed.append(canonical)

    def usable(pid: str, path: str) -> bool:
        if allowed and pid not in allowed:
            error(path, f"{pid} is not among the providers this agent may use.")
            return False
        return True

    roles: dict[str, Override] = {}
    raw_roles = data.get("roles") or {}
    if not isinstance(raw_roles, Mapping):
        error("roles", "Roles are an object: role name → {provider, model}.")
        raw_roles = {}
    if len(raw_roles) > MAX_ROLES:
        error("roles", f"At most {MAX_ROLES} roles.")
    for role, override in list(raw_roles.items())[:MAX_ROLES]:
        path = f"roles.{role}"
        if not isinstance(role, str) or not ROLE_NAME.match(role):
            error(path, "A role name is lower-case letters, digits, '-' or '_' (e.g. triage).")
            continue
        if not isinstance(override, Mapping) or set(override) - {"provider", "model"}:
            error(path, "Each role names a provider and a model.")
            continue
        pid = _provider_id(override.get("provider"), f"{path}.provider", error)
        model = override.get("model")
        if not isinstance(model, str) or not model.strip() or len(model) > 256:
            error(f"{path}.model", "Name a model (at most 256 characters).")
            continue
        if pid is None or not usable(pid, f"{path}.provider"):
            continue
        connection = connections.get(pid)
        if connection is None:
            error(f"{path}.provider", f"{PROVIDERS[pid].name} is not connected.")
        elif model not in connection.model_ids:
            error(f"{path}.model", f"{PROVIDERS[pid].name} has not discovered {model!r}.")
        else:
            roles[role] = Override(pid, model)

    fallback: list[str] = []
    for i, pid in enumerate(_list(data.get("fallback_order"), "fallback_order", error)):
        canonical = _provider_id(pid, f"fallback_order.{i}", error)
        if canonical is None:
            continue
        if canonical in fallback:
            error(f"fallback_order.{i}", f"{canonical} is already in the fallback order.")
        elif usable(canonical, f"fallback_order.{i}"):
            fallback.append(canonical)
    if errors:
        raise InvalidPolicy(errors)
    policy = Policy(roles, tuple(allowed), tuple(fallback))
    return Checked(policy, policy_warnings(policy))


def _list(value: Any, path: str, error) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        error(path, "A list of provider ids.")
        return []
    return value


def _provider_id(value: Any, path: str, error) -> str | None:
    provider = get_provider(value) if isinstance(value, str) else None
    if provider is None:
        error(path, f"Unknown provider {value!r}.")
        return None
    return provider.id


def policy_warnings(policy: Policy) -> list[str]:
    vendors = {o.provider for o in policy.roles.values()} | set(policy.fallback_order)
    if len(vendors) == 1:
        (only,) = vendors
        return [
            f"Every candidate comes from {PROVIDERS[only].name}: if it is down, the agent has "
            "nowhere to fall back. Two vendors are advised."
        ]
    return []


def policy_diff(before: Policy | None, after: Policy) -> list[dict]:
    """What changed, as a list of {"field", "before", "after"} a person can read."""
    old = (
        before.as_dict() if before else {"roles": {}, "allowed_providers": [], "fallback_order": []}
    )
    new = after.as_dict()
    changes = []
    for role in sorted(set(old["roles"]) | set(new["roles"])):
        if old["roles"].get(role) != new["roles"].get(role):
            changes.append(
                {
                    "field": f"roles.{role}",
                    "before": old["roles"].get(role),
                    "after": new["roles"].get(role),
                }
            )
    for name in ("allowed_providers", "fallback_order"):
        if old[name] != new[name]:
            changes.append({"field": name, "before": old[name], "after": new[name]})
    return changes
