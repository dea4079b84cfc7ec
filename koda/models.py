"""Project-wide records: API tokens for automation and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from koda.context import Via


class BearerToken(models.Model):
    """A bearer token stored only as a SHA-256 hash (shown once, on creation; koda.tokens)."""

    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # First characters of the token (`koda_AbCd`), enough to tell tokens apart in a list.
    prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class ApiToken(BearerToken):
    """A bearer token for the JSON API, for one operator."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )

    class Meta(BearerToken.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """One change made by a person or a script. Immutable; the diff never holds a secret."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept beside the foreign key so the trail still reads right after a user is deleted.
    actor_label = models.CharField(max_length=200)
    via = models.CharField(max_length=20, choices=Via.choices)
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=200, db_index=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    diff = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target}"
