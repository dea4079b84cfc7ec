"""The record of every check (snapshots), and what is kept from them as they are written for
the Operations view (rollups and incidents)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from connections.models.connection import Connection
from koda.context import Via


class HealthSnapshot(models.Model):
    """One check of one provider. Never updated; survives a disconnect (provider_id is kept)."""

    provider_id = models.CharField(max_length=32)
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    ok = models.BooleanField()
    outcome = models.CharField(max_length=32)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500)
    remedy = models.CharField(max_length=500, blank=True)
    raw_error = models.TextField(blank=True)  # redacted, at most 4 KB
    probe = models.CharField(max_length=2100, blank=True)
    trigger = models.CharField(max_length=16, choices=Via.choices)
    # True when the check was of a new credential that was refused and not saved: it tells the
    # story of a failed rotation without changing the stored connection's health.
    candidate = models.BooleanField(default=False)
    # Credit left, where the check read it (see Connection.credit_*).
    credit_amount = models.FloatField(null=True, blank=True)
    credit_unit = models.CharField(max_length=16, blank=True)
    credit_share = models.FloatField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider_id", "-created_at"], name="snapshot_provider_recent"),
            models.Index(fields=["connection", "-created_at"], name="snapshot_connection_recent"),
            # The Operations view aggregates the last 24 h of every connection in one query.
            models.Index(fields=["created_at", "connection"], name="snapshot_recent_all"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.outcome} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class HealthRollup(models.Model):
    """The checks of one connection in one time bucket, summed as they are written (the
    Operations view reads these, never the snapshots). `width` is the bucket's length in
    seconds (600 for the latency chart, 3600 for the strip and uptime); `bucket` is its start
    in Unix seconds, so cells of 6 hours or a day are integer divisions of it. Derived: rebuilt
    from the snapshots by `connections.rollups.summaries_rebuild`."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    width = models.PositiveIntegerField()
    bucket = models.BigIntegerField()
    total = models.PositiveIntegerField()
    ok = models.PositiveIntegerField()
    latency_sum = models.BigIntegerField()
    # The bucket's last credit figures (the credit trend reads the daily buckets).
    credit_amount = models.FloatField(null=True, blank=True)
    credit_share = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "width", "bucket"], name="rollup_one_per_bucket"
            )
        ]
        indexes = [models.Index(fields=["width", "bucket"], name="rollup_range")]

    def __str__(self) -> str:
        return f"{self.total} checks from {self.bucket} over {self.width} s"


class Incident(models.Model):
    """A run of failed checks of one connection: it began at the first failed check (whose
    outcome and message name it) and ended at the next ok one, or is ongoing. Opened and closed
    as checks are written, under the connection's row lock; at most one is open per connection.
    Derived like the rollups."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="incidents")
    outcome = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    began_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-began_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(ended_at__isnull=True),
                name="incident_one_open",
            )
        ]
        indexes = [
            models.Index(fields=["-began_at"], name="incident_recent"),
            models.Index(fields=["ended_at"], name="incident_ended"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} from {self.began_at:%Y-%m-%d %H:%M}"
