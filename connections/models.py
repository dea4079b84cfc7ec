"""Connections to providers (one per provider), the immutable record of every check, download
jobs, and the defaults chosen across providers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from koda.context import Via
from koda.crypto import EncryptedSecretsField
from providers.registry import PROVIDERS
from providers.values import Credential, Model


class Status(models.TextChoices):
    NOT_CONFIGURED = "not_configured", "Not connected"
    VERIFIED = "verified", "Verified"
    DEGRADED = "degraded", "Degraded"
    FAILING = "failing", "Failing"


class Connection(models.Model):
    """The credential and state of one provider. `provider_id` is the registry's stable id.

    The credential is stored generically, as the adapter declares it for `auth_method`: the
    public fields' values in `config`, every secret part together in `secrets` (one encrypted
    JSON object, so tokens and expiries fit without a schema change).
    """

    provider_id = models.CharField(max_length=32, unique=True)
    auth_method = models.CharField(max_length=32)
    config = models.JSONField(default=dict, blank=True)
    # Encrypted with KODA_ENCRYPTION_KEY; `secret_hint` is what is shown.
    secrets = EncryptedSecretsField(null=True, blank=True)
    secret_hint = models.CharField(max_length=40, blank=True)
    # Facts from the last successful check that the summary shows (a runtime's version).
    details = models.JSONField(default=dict, blank=True)
    default_model = models.CharField(max_length=256, blank=True)
    # Discovered on the last successful verification: `providers.base.Model.as_dict()` each.
    discovered_models = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.VERIFIED)
    verified_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    # The latest check, denormalised from HealthSnapshot so lists need no extra query.
    last_outcome = models.CharField(max_length=32, blank=True)
    last_message = models.CharField(max_length=500, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_remedy = models.CharField(max_length=500, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    # Sweep scheduling: when the next health check is due, and how many checks in a row failed
    # with a transient outcome (the backoff grows with it, so a sweep never hammers a provider).
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # A sign-in's access token: when it expires (checks are scheduled to refresh it before), and
    # the claim of the one worker refreshing it now (refresh tokens rotate: spent only once).
    credential_expires_at = models.DateTimeField(null=True, blank=True)
    # When the operator stored this credential (a key configured or replaced, a sign-in): its
    # age, against KODA_KEY_ROTATION_DAYS. A token refresh does not move it.
    credential_stored_at = models.DateTimeField(null=True, blank=True)
    refresh_claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider_id"]

    def __str__(self) -> str:
        return f"{self.provider_id} ({self.status})"

    @property
    def is_ready(self) -> bool:
        """Verified, with a default model where the provider needs one (issue 3)."""
        provider = PROVIDERS.get(self.provider_id)
        needs_default = bool(provider and provider.needs_default_model)
        return self.status == Status.VERIFIED and (bool(self.default_model) or not needs_default)

    @property
    def credential(self) -> Credential:
        """The stored credential in plain values (decrypts `secrets`: not for lists)."""
        return Credential(self.auth_method, self.config, self.secrets or {})

    @property
    def models(self) -> list[Model]:
        return [Model.from_dict(m) for m in self.discovered_models]

    @property
    def model_ids(self) -> list[str]:
        return [m["id"] for m in self.discovered_models]


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


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobKind(models.TextChoices):
    MODEL_FILE = "model_file", "Model file download"
    OLLAMA_PULL = "ollama_pull", "Ollama pull"


class DownloadJob(models.Model):
    """A download or pull as operators see it, from any web worker, across reloads. The task
    worker that runs it reports progress here (and a heartbeat); a running job whose heartbeat
    stops is marked failed, and starting it again resumes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider_id = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    # What is fetched: a catalog file name (`ggml-base.en.bin`) or an Ollama model (`llama3.2`).
    target = models.CharField(max_length=256)
    # What the download is for, when more than the file: a Kokoro voice inside the voices file.
    purpose = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # What the job is doing now, for a person ("pulling 6a0746a1ec1a", "verifying sha256").
    stage = models.CharField(max_length=200, blank=True)
    bytes_done = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(null=True, blank=True)
    bytes_per_second = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "provider_id"], name="job_status_provider")]
        constraints = [
            # One active job per thing fetched: a second click waits for the first.
            models.UniqueConstraint(
                fields=["provider_id", "target"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_job_per_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.target} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def percent(self) -> float | None:
        if not self.bytes_total:
            return None
        return round(min(100.0, 100.0 * self.bytes_done / self.bytes_total), 1)


class FunctionDefault(models.Model):
    """The model used by default for one function (embedding, later chat, tts, stt) across
    providers: which connection and which of its models."""

    function = models.CharField(max_length=16, unique=True)
    provider_id = models.CharField(max_length=32)
    model = models.CharField(max_length=256)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.function}: {self.provider_id} {self.model}"


class LoginStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the operator"
    EXCHANGING = "exchanging", "Exchanging the code"
    COMPLETED = "completed", "Signed in"
    FAILED = "failed", "Failed"
    DENIED = "denied", "Refused"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Replaced by a newer sign-in"


ACTIVE_LOGIN_STATUSES = (LoginStatus.PENDING, LoginStatus.EXCHANGING)


class LoginSession(models.Model):
    """One sign-in attempt (paste-back or device flow), from start to its end. What must stay
    secret until the exchange (the PKCE verifier, the state, the device id) is encrypted; the
    user code is shown to the operator, so it is not. At most one is active per provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider_id = models.CharField(max_length=32)
    flow = models.CharField(max_length=16)  # paste | device
    status = models.CharField(
        max_length=16, choices=LoginStatus.choices, default=LoginStatus.PENDING
    )
    secrets = EncryptedSecretsField(null=True, blank=True)
    user_code = models.CharField(max_length=64, blank=True)
    verification_url = models.CharField(max_length=2048, blank=True)
    interval = models.PositiveIntegerField(default=5)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # Why it ended, when it did not succeed (`state_mismatch`, `denied`, `invalid_code`, …).
    reason = models.CharField(max_length=32, blank=True)
    message = models.CharField(max_length=500, blank=True)
    mismatches = models.PositiveSmallIntegerField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_id"],
                condition=models.Q(status__in=["pending", "exchanging"]),
                name="one_active_login_per_provider",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} sign-in ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_LOGIN_STATUSES
