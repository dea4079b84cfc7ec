"""Answers connections' question "who depends on this provider?" (connections.signals)."""

from __future__ import annotations

from django.dispatch import receiver

from agents.selectors import dependents
from connections.signals import dependents as dependents_signal


@receiver(dependents_signal)
def _agents_depending_on(sender, provider_id: str, change: str, model: str = "", **kwargs):
    return dependents(provider_id, change=change, model=model)
