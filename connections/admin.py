"""Connections and health snapshots in admin, read-only; the encrypted secret is never shown."""

from __future__ import annotations

from django.contrib import admin

from connections.models import Connection, HealthSnapshot
from koda.admin import ReadOnlyAdmin


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
    # `secret` is deliberately absent: only its hint is displayed.
    fields = (
        "provider_id",
        "auth_method",
        "secret_hint",
        "base_url",
        "organization",
        "project",
        "endpoint_url",
        "runtime_path",
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
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secret")


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
        "raw_error",
        "probe",
        "trigger",
        "actor",
    )
    readonly_fields = fields
