"""What notifications hears from the apps below it."""

from __future__ import annotations

from django.dispatch import receiver

from connections.signals import check_recorded
from notifications.events import events_from_check


@receiver(check_recorded, dispatch_uid="notifications.check_recorded")
def _on_check(sender, *, snapshot, incident, refused, models_before, **kwargs) -> None:
    events_from_check(snapshot, incident, refused=refused, models_before=models_before)
