"""Which checks raise an event. Called for every recorded check (in its transaction, under the
connection's row lock), so the rules that run on every check are an indexed lookup or two; the
rules about agents (notifications.agent_events) run only when a connection starts failing,
recovers or changes its model list. Every event has a key that makes it happen once: once per
incident and kind, once per refused key, once per stored credential that outgrew the rotation
age, once per model lost, once per agent role left without a candidate until it has one again.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from connections.models import HealthSnapshot, Incident
from connections.selectors import rotation_due
from koda.templatetags.koda_tags import duration as duration_words
from notifications.agent_events import drift_events, role_events
from notifications.models import Event, EventKind
from notifications.raising import raise_event
from providers.base import Provider
from providers.registry import PROVIDERS
from providers.values import TRANSIENT_OUTCOMES, Credit

# Raised for an incident: reporting its end only makes sense where its start was reported.
INCIDENT_KINDS = (EventKind.FAILING, EventKind.DEGRADED)


def events_from_check(
    snapshot: HealthSnapshot,
    incident: Incident | None,
    *,
    refused: bool = False,
    models_before: list[str] | None = None,
) -> list[Event]:
    """The events this check raises (usually none)."""
    if check_is_quiet(snapshot, incident, refused=refused, models_before=models_before):
        return []
    provider = PROVIDERS[snapshot.provider_id]
    if snapshot.candidate:  # refused: a check of a replacement is otherwise no news
        return raise_event(
            EventKind.ROTATION_REFUSED,
            f"refused:{snapshot.pk}",
            provider,
            snapshot,
            title=f"A new key for {provider.name} was refused; the stored one is kept",
        )
    if incident is not None and incident.ended_at is None:
        raised = _incident_events(provider, snapshot, incident)
        if any(e.kind == EventKind.FAILING for e in raised):  # no longer a candidate
            raised += role_events(provider, snapshot)
        return raised
    raised = drift_events(provider, snapshot, models_before)
    models_changed = models_before is not None and set(models_before) != set(
        snapshot.connection.model_ids
    )
    if incident is not None or models_changed:  # a candidate again, or a model gone
        raised += role_events(provider, snapshot, models_before=models_before)
    if incident is not None and incident.events.filter(kind__in=INCIDENT_KINDS).exists():
        lasted = duration_words(incident.ended_at - incident.began_at)
        raised += raise_event(
            EventKind.RECOVERED,
            f"incident:{incident.pk}:recovered",
            provider,
            snapshot,
            incident=incident,
            title=f"{provider.name} recovered after {lasted}",
        )
    connection = snapshot.connection
    if snapshot.ok and (snapshot.credit_amount is not None or snapshot.credit_share is not None):
        raised += _credit_events(provider, snapshot)
    if snapshot.ok and rotation_due(connection):
        stored = connection.credential_stored_at
        days = settings.KODA_KEY_ROTATION_DAYS
        raised += raise_event(
            EventKind.KEY_AGE,
            f"key_age:{provider.id}:{stored.isoformat()}",
            provider,
            snapshot,
            title=f"The {provider.name} credential is older than {days} days: rotate it",
        )
    return raised


def check_is_quiet(
    snapshot: HealthSnapshot,
    incident: Incident | None,
    *,
    refused: bool = False,
    models_before: list[str] | None = None,
) -> bool:
    """Whether this check can raise or resolve nothing, decided without the database: no
    incident (so it is ok), the same models, no credit figure, a credential not due for
    rotation — most of a sweep's checks. The receiver then opens no savepoint for it (two round
    trips on every check)."""
    if PROVIDERS.get(snapshot.provider_id) is None or snapshot.connection_id is None:
        return True
    if snapshot.candidate:
        return not refused  # a check of a credential replaced meanwhile: no news about either
    if incident is not None:
        return False  # failing, or recovered
    connection = snapshot.connection
    if models_before is not None and set(models_before) != set(connection.model_ids):
        return False  # a model gone (drift), or an agent role with a candidate again
    has_credit = snapshot.credit_amount is not None or snapshot.credit_share is not None
    return not (snapshot.ok and (has_credit or rotation_due(connection)))


def _incident_events(provider: Provider, snapshot: HealthSnapshot, incident: Incident) -> list:
    if snapshot.outcome not in TRANSIENT_OUTCOMES:
        return raise_event(
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
    return raise_event(
        EventKind.DEGRADED,
        f"incident:{incident.pk}:degraded",
        provider,
        snapshot,
        incident=incident,
        title=f"{provider.name} has been degraded for {duration_words(lasted)}",
    )


def _credit_events(provider: Provider, snapshot: HealthSnapshot) -> list[Event]:
    """Credit under the threshold: told once, until a check finds it above again."""
    connection = snapshot.connection
    name = f"low_credit:{provider.id}"
    open_ = Event.objects.filter(kind=EventKind.LOW_CREDIT, key__startswith=f"{name}:")
    open_ = open_.filter(resolved_at=None)
    if not connection.credit_low:
        open_.update(resolved_at=snapshot.created_at)
        return []
    if open_.exists():
        return []
    left = Credit(connection.credit_amount, connection.credit_unit, connection.credit_share)
    return raise_event(
        EventKind.LOW_CREDIT,
        f"{name}:{snapshot.pk}",
        provider,
        snapshot,
        title=(
            f"{provider.name} credit is low: {left} (threshold {connection.credit_threshold_words})"
        ),
        credit=left.as_dict(),
        remedy=f"Add credit at {provider.billing_url}." if provider.billing_url else "",
    )
