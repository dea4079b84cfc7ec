"""Download jobs, the defaults chosen across providers, and sign-in sessions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from koda.crypto import EncryptedSecretsField


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
