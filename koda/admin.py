"""Django admin for audits: every Koda record is read-only there, and no secret is rendered."""

from __future__ import annotations

from django.contrib import admin

from koda.models import ApiToken, AuditEvent

admin.site.site_header = "Koda control plane · audit"
admin.site.site_title = "Koda audit"
admin.site.index_title = "Records (read-only)"
admin.site.site_url = "/"  # "View site" goes back to the dashboard


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit records are written by the services only; admin may look, never touch."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "via", "action", "target", "client_address")
    list_filter = ("action", "via", "actor_label")
    search_fields = ("target", "actor_label", "action")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        "actor_label",
        "via",
        "action",
        "target",
        "client_address",
        "diff",
    )
    readonly_fields = fields


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    # token_hash is left out: a hash of a high-entropy token is not usable, but it is not needed.
    list_display = ("name", "prefix", "operator", "created_at", "last_used_at", "revoked_at")
    list_filter = ("operator",)
    fields = ("name", "prefix", "operator", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
