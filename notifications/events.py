"""Which checks raise an event, and what the event says. Called for every recorded check (in its
transaction, under the connection's row lock), so each rule is one indexed lookup at most, and
every event has a key that makes it happen once: once per incident and kind, once per refused
key, once per stored credential that outgrew the rotation age.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from connections.models import HealthSnapshot, Incident
from connections.selectors import rotation_due
from koda.templatetags.koda_tags import duration as duration_words
from notifications.models import Channel, Event, EventKind
from providers.base import Provider
from providers.registry import PROVIDERS
from providers.values import TRANSIENT_OUTCOMES

# Raised for an incident: reporting its end only makes sense where its start was reported.
INCIDENT_KINDS = (EventKind.FAILING, EventKind.DEGRADED)


def events_from_check(snapshot: HealthSnapshot, incident: Incident | None) -> list[Event]:
    """The events this check raises (usually none)."""
    provider = PROVIDERS.get(snapshot.provider_id)
    if provider is None or snapshot.connection_id is None:
        return []
    if snapshot.candidate:
        return _raised(
            EventKind.ROTATION_REFUSED,
            f"refused:{snapshot.pk}",
            provider,
            snapshot,
            title=f"A new key for {provider.name} was refused; the stored one is kept",
        )
    if incident is not None and incident.ended_at is None:
        return _incident_events(provider, snapshot, incident)
    raised = []
    if incident is not None and incident.events.filter(kind__in=INCIDENT_KINDS).exists():
        lasted = duration_words(incident.ended_at - incident.began_at)
        raised += _raised(
            EventKind.RECOVERED,
            f"incident:{incident.pk}:recovered",
            provider,
            snapshot,
            incident=incident,
            title=f"{provider.name} recovered after {lasted}",
        )
    connection = snapshot.connection
    if snapshot.ok and rotation_due(connection):
        stored = connection.credential_stored_at
        days = settings.KODA_KEY_ROTATION_DAYS
        raised += _raised(
            EventKind.KEY_AGE,
            f"key_age:{provider.id}:{stored.isoformat()}",
            provider,
            snapshot,
            title=f"The {provider.name} credential is older than {days} days: rotate it",
        )
    return raised


def _incident_events(provider: Provider, snapshot: HealthSnapshot, incident: Incident) -> list:
    if snapshot.outcome not in TRANSIENT_OUTCOMES:
        return _raised(
            EventKind.FAILING,
            f"incident:{incident.pk}:failing",
            provider,
            snapshot,
            incident=incident,
            title=f"{provider.name} is failing: {snapshot.outcome}",
        )
    lasted = snapshot.created_at - incident.began_at
    if lasted < timedelta(seconds=settings.KODA_NOTIFY_DEGRADED_AFTER_SECONDS):
        return []
    if incident.events.filter(kind=EventKind.FAILING).exists():
        return []  # already reported as failing: a transient outcome now is no news
    return _raised(
        EventKind.DEGRADED,
        f"incident:{incident.pk}:degraded",
        provider,
        snapshot,
        incident=incident,
        title=f"{provider.name} has been degraded for {duration_words(lasted)}",
    )


def _raised(
    kind: EventKind,
    key: str,
    provider: Provider,
    snapshot: HealthSnapshot,
    *,
    title: str,
    incident: Incident | None = None,
) -> list[Event]:
    if Event.objects.filter(key=key).exists():
        return []
    event = Event.objects.create(
        kind=kind,
        key=key,
        provider_id=provider.id,
        connection_id=snapshot.connection_id,
        incident=incident,
        body=event_body(kind, provider, snapshot, incident, title=title),
    )
    channels = [c.pk for c in Channel.objects.only("events") if kind in c.events]
    if channels:
        from notifications.delivery import deliver_later

        transaction.on_commit(lambda: [deliver_later(event.pk, pk, 1) for pk in channels])
    return [event]


def event_body(
    kind: str,
    provider: Provider,
    snapshot: HealthSnapshot | None,
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
        "outcome": snapshot.outcome if snapshot else "",
        "message": snapshot.message if snapshot else "",
        "remedy": snapshot.remedy if snapshot else "",
        "url": f"{settings.KODA_PUBLIC_URL}/providers/{provider.id}/",
        "at": snapshot.created_at.isoformat() if snapshot else "",
        "incident": (
            {
                "began_at": incident.began_at.isoformat(),
                "ended_at": incident.ended_at.isoformat() if incident.ended_at else None,
            }
            if incident
            else None
        ),
    }
