"""Answers connections' questions "who depends on this provider?" and "who names it?"
(connections.signals)."""

from __future__ import annotations

from django.dispatch import receiver

from agents.selectors import dependents, references
from connections.signals import dependents as dependents_signal
from connections.signals import references as references_signal


@receiver(dependents_signal)
def _agents_depending_on(sender, provider_id: str, change: str, model: str = "", **kwargs):
    return dependents(provider_id, change=change, model=model)


@receiver(references_signal)
def _agents_naming(sender, provider_id: str, **kwargs):
    return references(provider_id)
