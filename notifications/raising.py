"""Raising an event: once per key, with the body every channel is sent, delivered to each
channel that chose its kind once the check's transaction commits."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from connections.models import HealthSnapshot, Incident
from notifications.delivery import deliver_later
from notifications.models import Channel, Event, EventKind
from providers.base import Provider


def raise_event(
    kind: EventKind,
    key: str,
    provider: Provider,
    snapshot: HealthSnapshot,
    *,
    title: str,
    incident: Incident | None = None,
    **extra,
) -> list[Event]:
    """The event `key`, made and sent to every channel that chose `kind` (after the check's
    transaction commits), unless it was raised before. `extra`: more fields for the body."""
    if Event.objects.filter(key=key).exists():
        return []
    event = Event.objects.create(
        kind=kind,
        key=key,
        provider_id=provider.id,
        connection_id=snapshot.connection_id,
        incident=incident,
        body={**event_body(kind, provider, snapshot, incident, title=title), **extra},
    )
    channels = [c.pk for c in Channel.objects.only("events") if kind in c.events]
    if channels:
        transaction.on_commit(lambda: [deliver_later(event.pk, pk, 1) for pk in channels])
    return [event]


def event_body(
    kind: str,
    provider: Provider,
    snapshot: HealthSnapshot,
    incident: Incident | None,
    *,
    title: str,
) -> dict:
    """What every channel is sent: the provider by its display name, the outcome, message and
    remedy of the check that raised it, and a link to the provider's page. Never a secret: the
    message and remedy are those the dashboard shows."""
    return {
        "event": kind,
        "title": title,
        "provider": {"id": provider.id, "name": provider.name},
        "outcome": snapshot.outcome,
        "message": snapshot.message,
        "remedy": snapshot.remedy,
        "url": f"{settings.KODA_PUBLIC_URL}/providers/{provider.id}/",
        "at": snapshot.created_at.isoformat(),
        "incident": (
            {
                "began_at": incident.began_at.isoformat(),
                "ended_at": incident.ended_at.isoformat() if incident.ended_at else None,
            }
            if incident
            else None
        ),
    }
