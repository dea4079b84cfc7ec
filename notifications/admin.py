"""Notifications in admin, for audits: channels (never their URL or secret: the hint only), the
events raised and the delivery log. Read-only: channels change through the dashboard and the
API, which audit each change."""

from __future__ import annotations

from django.contrib import admin

from koda.admin import ReadOnlyAdmin
from notifications.models import Channel, Delivery, Event


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "url_hint", "to", "failing_since", "last_delivered_at")
    list_filter = ("kind",)
    search_fields = ("name", "to")
    fields = (
        "name",
        "kind",
        "url_hint",
        "to",
        "events",
        "failing_since",
        "last_error",
        "last_delivered_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "provider_id", "key")
    list_filter = ("kind", "provider_id")
    date_hierarchy = "created_at"
    fields = ("created_at", "kind", "provider_id", "key", "incident", "body")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "channel", "event_kind", "attempt", "ok", "status_code", "error")
    list_filter = ("ok", "event_kind", "channel")
    date_hierarchy = "created_at"
    list_select_related = ("channel",)
    fields = (
        "created_at",
        "channel",
        "event",
        "event_kind",
        "attempt",
        "ok",
        "status_code",
        "error",
        "retry_at",
    )
    readonly_fields = fields
