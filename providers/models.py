"""Operator-defined providers: OpenAI-compatible endpoints (vLLM, LM Studio, a LiteLLM proxy,
Together, Fireworks, any gateway) added from the dashboard or the API. Each row becomes an
adapter in the registry (providers.custom); its id can never be a built-in id or alias."""

from __future__ import annotations

from django.db import models


class CustomProvider(models.Model):
    id = models.CharField(primary_key=True, max_length=32)
    name = models.CharField(max_length=80)
    preset = models.CharField(max_length=16)
    base_url = models.CharField(max_length=2048)
    requires_key = models.BooleanField(default=True)
    # Extra request headers, never secret (a key goes in the key field, encrypted).
    headers = models.JSONField(default=dict, blank=True)
    capabilities = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"
