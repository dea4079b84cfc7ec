"""Where operators are told about their connections (channels), what they are told (events, one
per incident and one on its recovery), and every attempt to tell them (the delivery log)."""

from __future__ import annotations

from django.db import models

from connections.models import Connection, Incident
from koda.crypto import EncryptedSecretsField


class Kind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack"
    EMAIL = "email", "Email"


class EventKind(models.TextChoices):
    FAILING = "failing", "A connection started failing"
    DEGRADED = "degraded", "A connection has been degraded for a while"
    RECOVERED = "recovered", "A connection recovered"
    ROTATION_REFUSED = "rotation_refused", "A new key was refused"
    LOW_CREDIT = "low_credit", "Credit is low"
    KEY_AGE = "key_age", "A key is older than the rotation age"
    MODEL_DRIFT = "model_drift", "A provider no longer offers a model in use"
    NO_CANDIDATE = "no_candidate", "An agent role has no usable candidate"


class Channel(models.Model):
    """One destination. A webhook's and a Slack webhook's URL are stored encrypted with the
    webhook's signing secret (a Slack URL is itself the credential: whoever has it can post);
    what is shown of the URL is `url_hint`. Email channels name their addresses in `to`."""

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120)
    secrets = EncryptedSecretsField(null=True, blank=True)  # {"url", "signing_secret"}
    url_hint = models.CharField(max_length=200, blank=True)
    to = models.CharField(max_length=1000, blank=True)
    events = models.JSONField(default=list)
    # Delivery health: a channel whose last delivery failed after every retry is failing.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def addresses(self) -> list[str]:
        """An email channel's addresses (`to` holds them comma-separated)."""
        return [a.strip() for a in self.to.split(",") if a.strip()]


class Event(models.Model):
    """Something operators are told about, once: `key` names the incident (or refusal, or
    stored credential) and the kind, and is unique, so repeated sweeps raise nothing new."""

    kind = models.CharField(max_length=24, choices=EventKind.choices)
    key = models.CharField(max_length=200, unique=True)
    provider_id = models.CharField(max_length=32)
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    body = models.JSONField()  # what every channel is sent (no secret, ever)
    created_at = models.DateTimeField(auto_now_add=True)
    # For a condition that can come back (an agent role without a candidate): when it ended, so
    # the next time it happens is a new event.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider_id} at {self.created_at:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    """One attempt to send one event to one channel: the delivery log."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, null=True, on_delete=models.CASCADE, related_name="+")
    event_kind = models.CharField(max_length=24)  # also for tests, which have no event row
    attempt = models.PositiveSmallIntegerField()
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["channel", "-created_at"], name="delivery_recent")]

    def __str__(self) -> str:
        return f"{self.event_kind} to {self.channel_id}, attempt {self.attempt}"
