"""Dashboard pages of the agents app."""

from django.urls import path

from agents import views

urlpatterns = [
    path("agents/", views.agents, name="agents"),
    path("agents/defaults", views.default_set, name="agent-defaults"),
    path("agents/<slug:slug>/", views.agent_detail, name="agent"),
    path("agents/<slug:slug>/policy", views.policy_save, name="agent-policy-save"),
    path(
        "agents/<slug:slug>/versions/<int:number>/restore",
        views.version_restore,
        name="agent-version-restore-page",
    ),
    path("agents/<slug:slug>/tokens", views.token_create, name="agent-token-create"),
    path(
        "agents/<slug:slug>/tokens/<int:token_id>/revoke",
        views.token_revoke,
        name="agent-token-revoke",
    ),
]
