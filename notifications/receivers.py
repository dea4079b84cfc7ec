"""What notifications hears from the apps below it."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from connections.signals import check_recorded
from notifications import events

log = logging.getLogger("koda.notifications")


@receiver(check_recorded, dispatch_uid="notifications.check_recorded")
def _on_check(sender, *, snapshot, incident, refused, models_before, **kwargs) -> None:
    if events.check_is_quiet(snapshot, incident, refused=refused, models_before=models_before):
        return  # most checks: nothing to raise, so no savepoint to open and release
    # In its own savepoint, and never raising: a failure here must not cost the check its
    # record (the snapshot, the connection's status), which the caller's transaction holds.
    try:
        with transaction.atomic():
            events.events_from_check(
                snapshot, incident, refused=refused, models_before=models_before
            )
    except Exception:
        log.exception("raising notifications for a check of %s failed", snapshot.provider_id)
