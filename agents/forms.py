"""The agent page's policy form: rows of role → provider + model, the allowed providers, the
fallback order. Posted values become the same policy dict the API takes, and the service's
field-level errors (`roles.triage.model`, `fallback_order.1`) land beside their inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict

from agents.policy import MAX_ROLES, Policy

BLANK_ROWS = 3


@dataclass
class RoleRow:
    index: int
    role: str = ""
    provider: str = ""
    model: str = ""
    errors: list[str] = field(default_factory=list)
    # Which inputs the errors are about: "role", "provider", "model".
    invalid: set[str] = field(default_factory=set)
    placeholder: str = ""


def _blank_rows(start: int) -> list[RoleRow]:
    return [
        RoleRow(start + i, placeholder="e.g. triage" if i == 0 else "") for i in range(BLANK_ROWS)
    ]


@dataclass
class PolicyForm:
    rows: list[RoleRow]
    allowed: list[str]
    fallback: list[str]  # one per select, "" for none
    errors: dict[str, list[str]] = field(default_factory=dict)

    def row_errors(self) -> None:
        """Attach `roles.<role>…` errors to their rows."""
        for row in self.rows:
            prefix = f"roles.{row.role}"
            row.errors, row.invalid = [], set()
            for path, messages in self.errors.items():
                if path == prefix or path.startswith(prefix + "."):
                    row.errors += messages
                    row.invalid.add(path.removeprefix(prefix).lstrip(".") or "role")

    @property
    def allowed_errors(self) -> list[str]:
        return [m for p, ms in self.errors.items() if p.startswith("allowed_providers") for m in ms]

    @property
    def fallback_slots(self) -> list[tuple[str, list[str]]]:
        """Each fallback select with its errors. Blank selects are not posted as entries, so
        an error's index counts the chosen ones."""
        slots, chosen = [], 0
        for value in self.fallback:
            errors = self.errors.get(f"fallback_order.{chosen}", []) if value else []
            chosen += bool(value)
            slots.append((value, errors))
        return slots

    @property
    def fallback_errors(self) -> list[str]:
        return self.errors.get("fallback_order", [])


def policy_form(policy: Policy, *, slots: int) -> PolicyForm:
    rows = [
        RoleRow(i, role, o.provider, o.model) for i, (role, o) in enumerate(policy.roles.items())
    ]
    rows += _blank_rows(len(rows))
    fallback = list(policy.fallback_order) + [""] * max(0, slots - len(policy.fallback_order))
    return PolicyForm(rows, list(policy.allowed_providers), fallback)


def posted_policy(post: QueryDict, *, slots: int) -> tuple[dict, PolicyForm]:
    """The policy dict from a posted form (blank rows ignored), and the form to show again."""
    rows, roles, twice = [], {}, []
    for i in range(MAX_ROLES + BLANK_ROWS):
        role = post.get(f"role-{i}", "").strip()
        provider = post.get(f"provider-{i}", "").strip()
        model = post.get(f"model-{i}", "").strip()
        if f"role-{i}" not in post:
            break
        if role or provider or model:
            rows.append(RoleRow(len(rows), role, provider, model))
            if role in roles:
                twice.append(role)
            roles[role] = {"provider": provider, "model": model}
    rows += _blank_rows(len(rows))
    allowed = [p for p in post.getlist("allowed") if p]
    fallback = [p for p in post.getlist("fallback") if p]
    data = {"roles": roles, "allowed_providers": allowed, "fallback_order": fallback}
    shown = post.getlist("fallback") + [""] * max(0, slots - len(post.getlist("fallback")))
    form = PolicyForm(rows, allowed, shown[: max(slots, len(fallback))])
    form.errors = {f"roles.{role}": ["This role is named twice."] for role in twice}
    return data, form
