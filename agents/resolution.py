"""Which model an agent's role uses right now: `resolve(policy, role)`.

Candidates come in the policy's order (the role's override, the fallback providers, the global
default for the role's function) and only providers the agent may use, that are connected, not
failing, and whose model is still among their discovered models are kept; each candidate left
out is reported with its reason. Verified providers come before degraded ones, so a provider
whose calls just failed transiently yields to a healthy fallback. Nothing usable is an answer
that says so, never a silent pick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agents.policy import Policy, function_of
from connections.models import Connection, Status
from providers.registry import PROVIDERS

# Why a candidate was left out (stable API values).
NOT_ALLOWED = "not_allowed"
NOT_CONNECTED = "not_connected"
FAILING = "failing"
MODEL_NOT_DISCOVERED = "model_not_discovered"
NO_MODEL = "no_model_for_role"
SIMULATED_DOWN = "simulated_down"
DUPLICATE = "duplicate"
REASON_TEXT = {
    NOT_ALLOWED: "not allowed for this agent",
    NOT_CONNECTED: "not connected",
    FAILING: "failing",
    MODEL_NOT_DISCOVERED: "no longer offers the model",
    NO_MODEL: "no model for this role",
    SIMULATED_DOWN: "down (simulated)",
    DUPLICATE: "already a candidate",
}


@dataclass(frozen=True)
class Candidate:
    provider: str
    model: str
    source: str  # override | fallback | default
    status: str = ""

    def as_dict(self) -> dict:
        return {"provider": self.provider, "model": self.model, "source": self.source}


@dataclass(frozen=True)
class Skipped:
    provider: str
    model: str | None
    reason: str

    def as_dict(self) -> dict:
        return {"provider": self.provider, "model": self.model, "reason": self.reason}


@dataclass
class Resolution:
    role: str
    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def resolved(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def as_dict(self) -> dict:
        resolved = self.resolved
        answer = {
            "role": self.role,
            "function": function_of(self.role),
            "resolved": resolved.as_dict() if resolved else None,
            "candidates": [c.as_dict() for c in self.candidates],
            "skipped": [s.as_dict() for s in self.skipped],
        }
        if resolved is None:
            answer["message"] = (
                f"No usable model for role {self.role!r}: every candidate was left out "
                "(see skipped), or the policy names none."
            )
        return answer


def resolve(
    policy: Policy,
    role: str,
    *,
    connections: Mapping[str, Connection],
    defaults: Mapping[str, tuple[str, str]],
    without: frozenset[str] = frozenset(),
) -> Resolution:
    """`defaults`: function → (provider id, model), the global defaults. `without`: providers
    to treat as down (a simulation)."""
    function = function_of(role)
    wanted: list[tuple[str, str | None, str]] = []
    if role in policy.roles:
        override = policy.roles[role]
        wanted.append((override.provider, override.model, "override"))
    default = defaults.get(function)
    for provider_id in policy.fallback_order:
        wanted.append(
            (provider_id, _model_for(provider_id, function, connections, default), "fallback")
        )
    if default is not None:
        wanted.append((default[0], default[1], "default"))

    result = Resolution(role)
    seen: set[tuple[str, str | None]] = set()
    for provider_id, model, source in wanted:
        reason = _left_out(provider_id, model, policy, connections, without)
        if reason is None and (provider_id, model) in seen:
            reason = DUPLICATE
        if reason is not None:
            result.skipped.append(Skipped(provider_id, model, reason))
            continue
        seen.add((provider_id, model))
        status = connections[provider_id].status
        result.candidates.append(Candidate(provider_id, model, source, status))
    # Healthy first: a degraded provider (its last check or call failed transiently) stays a
    # candidate, behind every verified one. The sort is stable: the policy's order otherwise.
    result.candidates.sort(key=lambda c: c.status != Status.VERIFIED)
    return result


def _model_for(
    provider_id: str,
    function: str,
    connections: Mapping[str, Connection],
    default: tuple[str, str] | None,
) -> str | None:
    """The model a fallback provider serves this function with: the global default when it is
    that provider's, else its default model (chat), else its first model able to do it."""
    if default is not None and default[0] == provider_id:
        return default[1]
    connection = connections.get(provider_id)
    if connection is None:
        return None
    if function == "chat" and connection.default_model:
        return connection.default_model
    for model in connection.models:
        if model.serves(function):
            return model.id
    return None


def _left_out(
    provider_id: str,
    model: str | None,
    policy: Policy,
    connections: Mapping[str, Connection],
    without: frozenset[str],
) -> str | None:
    if provider_id not in PROVIDERS or not policy.allows(provider_id):
        return NOT_ALLOWED
    if provider_id in without:
        return SIMULATED_DOWN
    connection = connections.get(provider_id)
    if connection is None:
        return NOT_CONNECTED
    if connection.status not in (Status.VERIFIED, Status.DEGRADED):
        return FAILING
    if model is None:
        return NO_MODEL
    if model not in connection.model_ids:
        return MODEL_NOT_DISCOVERED
    return None
