"""A provider's connection: its credential (secret parts encrypted), status and credit."""

from __future__ import annotations

from django.db import models

from koda.crypto import EncryptedSecretsField
from providers.registry import PROVIDERS
from providers.values import Credential, Model

# How a low-credit threshold reads: an amount in the provider's unit, or a percent left.
THRESHOLD_UNITS = ("amount", "percent")


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
    # Credit left, as the last check that read it said (a balance, a quota), and the threshold
    # under which the connection shows "low credit" (it still works) and tells the channels.
    credit_amount = models.FloatField(null=True, blank=True)
    credit_unit = models.CharField(max_length=16, blank=True)
    credit_share = models.FloatField(null=True, blank=True)
    credit_checked_at = models.DateTimeField(null=True, blank=True)
    credit_threshold = models.FloatField(null=True, blank=True)
    credit_threshold_unit = models.CharField(
        max_length=8, choices=[(u, u) for u in THRESHOLD_UNITS], blank=True
    )
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
    def credit_threshold_state(self) -> dict | None:
        """The operator's low-credit threshold as the state and the audit show it, or None."""
        if self.credit_threshold is None:
            return None
        return {"below": self.credit_threshold, "unit": self.credit_threshold_unit}

    @property
    def credit_threshold_words(self) -> str:
        """The threshold as a person reads it: `5`, or `20%` of the allowance."""
        if self.credit_threshold is None:
            return ""
        percent = "%" if self.credit_threshold_unit == "percent" else ""
        return f"{self.credit_threshold:g}{percent}"

    @property
    def credit_low(self) -> bool:
        """The last credit figure is under the operator's threshold."""
        if self.credit_threshold is None:
            return False
        if self.credit_threshold_unit == "percent":
            return self.credit_share is not None and 100 * self.credit_share < self.credit_threshold
        return self.credit_amount is not None and self.credit_amount < self.credit_threshold

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
