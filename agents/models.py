"""Agents, their model policies (every change an immutable version), their runtime tokens, and
what their runtimes report."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from koda.models import BearerToken


class Agent(models.Model):
    """An agent Koda routes models for. `slug` is its id in API paths: never renamed."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    # The newest version, so the runtime reads token, agent and policy in one query.
    current = models.ForeignKey(
        "PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class PolicyVersion(models.Model):
    """One version of an agent's model policy. Never updated: a change (a restore included) is a
    new version, so who changed what, and when, stays on record."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # {"roles": {role: {"provider", "model"}}, "allowed_providers": [...], "fallback_order": [...]}
    policy = models.JSONField()
    # What changed from the version before (see agents.policy.policy_diff).
    changes = models.JSONField(default=list, blank=True)
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "number"], name="one_number_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.agent.slug} v{self.number}"


class AgentToken(BearerToken):
    """A runtime token: lets one agent's runtime call that agent's runtime endpoints, nothing
    else. Stored as a SHA-256 hash; shown once."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="tokens")

    class Meta(BearerToken.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.agent.slug}: {self.name} ({self.prefix}…)"


class RuntimeReport(models.Model):
    """A failed call an agent's runtime reported (also recorded as a health snapshot)."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="reports")
    provider_id = models.CharField(max_length=32)
    model = models.CharField(max_length=256)
    outcome = models.CharField(max_length=32)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.agent.slug} {self.provider_id} {self.outcome}"
