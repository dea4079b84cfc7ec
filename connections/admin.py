"""Connections and health snapshots in admin, read-only; the encrypted secret is never shown."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from connections.models import Connection, HealthSnapshot, LoginSession
from koda.admin import ReadOnlyAdmin
from providers.registry import PROVIDERS


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = (
        "provider_id",
        "status",
        "auth_method",
        "secret_hint",
        "default_model",
        "last_outcome",
        "last_checked_at",
    )
    list_filter = ("status", "provider_id", "last_outcome")
    # `secrets` is deliberately absent: only the hint is displayed.
    fields = (
        "provider_id",
        "auth_method",
        "credential",
        "secret_hint",
        "details",
        "default_model",
        "status",
        "verified_at",
        "failing_since",
        "last_outcome",
        "last_message",
        "last_checked_at",
        "last_latency_ms",
        "last_remedy",
        "last_ok_at",
        "next_check_at",
        "consecutive_failures",
        "credential_expires_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secrets")

    @admin.display(description="Credential")
    def credential(self, obj: Connection) -> str:
        """The public fields of the connection's method, labelled as the adapter declares them."""
        provider = PROVIDERS.get(obj.provider_id)
        method = provider.method(obj.auth_method) if provider else None
        labels = {f.name: f.label for f in method.public_fields} if method else {}
        rows = [(labels.get(name, name), value) for name, value in obj.config.items()]
        if not rows:
            return "—"
        return format_html(
            "<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd><code>{}</code></dd>", rows)
        )


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "provider_id",
        "outcome",
        "http_status",
        "latency_ms",
        "trigger",
        "actor",
    )
    list_filter = ("provider_id", "outcome", "trigger", "actor")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "provider_id",
        "connection",
        "ok",
        "outcome",
        "http_status",
        "latency_ms",
        "message",
        "remedy",
        "raw_error",
        "probe",
        "trigger",
        "candidate",
        "actor",
    )
    readonly_fields = fields


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyAdmin):
    """Sign-in attempts, for audits: who started which, how each ended. The verifier, state and
    device id (`secrets`) are never shown."""

    list_display = ("created_at", "provider_id", "flow", "status", "reason", "actor")
    list_filter = ("provider_id", "flow", "status", "reason")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "provider_id",
        "flow",
        "status",
        "reason",
        "message",
        "user_code",
        "verification_url",
        "interval",
        "mismatches",
        "expires_at",
        "actor",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secrets")
