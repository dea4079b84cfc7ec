"""Agents in admin, for audits: policy versions (who changed what, when), runtime tokens (never
their plaintext or hash) and runtime reports. Read-only: changes go through the services; the one
write here is revoking runtime tokens, which goes through the same service as the agent page."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from agents.models import Agent, AgentToken, PolicyVersion, RuntimeReport
from agents.tokens import agent_token_revoke
from koda.admin import ReadOnlyAdmin
from koda.context import Context, Via


class PolicyVersionInline(admin.TabularInline):
    model = PolicyVersion
    fields = ("number", "created_at", "actor_label", "restored_from", "changes")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agent)
class AgentAdmin(ReadOnlyAdmin):
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")
    fields = ("slug", "name", "created_at")
    readonly_fields = fields
    inlines = [PolicyVersionInline]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("agent", "number", "created_at", "actor_label", "restored_from")
    list_filter = ("agent",)
    search_fields = ("agent__slug", "actor_label")
    date_hierarchy = "created_at"
    fields = (
        "agent",
        "number",
        "created_at",
        "actor",
        "actor_label",
        "restored_from",
        "policy_json",
        "changes_json",
    )
    readonly_fields = fields

    @admin.display(description="Policy")
    def policy_json(self, obj: PolicyVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.policy, indent=2))

    @admin.display(description="Changes from the version before")
    def changes_json(self, obj: PolicyVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.changes, indent=2))


@admin.register(AgentToken)
class AgentTokenAdmin(ReadOnlyAdmin):
    list_display = ("agent", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("agent",)
    fields = ("agent", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser  # admin actions need it; every field stays read-only

    @admin.action(description="Revoke the selected runtime tokens")
    def revoke(self, request, queryset) -> None:
        ctx = Context.of_request(request, Via.ADMIN)
        for token in queryset.filter(revoked_at__isnull=True).select_related("agent"):
            agent_token_revoke(token=token, ctx=ctx)
        messages.success(request, "Revoked.")


@admin.register(RuntimeReport)
class RuntimeReportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "agent", "provider_id", "model", "outcome", "http_status")
    list_filter = ("agent", "provider_id", "outcome")
    date_hierarchy = "created_at"
    fields = ("created_at", "agent", "provider_id", "model", "outcome", "http_status")
    readonly_fields = fields
