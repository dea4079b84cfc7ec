"""The agents app's JSON API routes, under /api/control-plane/ (design §7)."""

from django.urls import path

from agents import api, runtime

A = "agents/<slug:agent_id>"

urlpatterns = [
    path("agents", api.agents, name="api-agents"),
    path(f"{A}/model-policy", api.model_policy, name="agent-policy"),
    path(f"{A}/model-policy/resolve", api.resolve, name="agent-resolve"),
    path(f"{A}/model-policy/versions", api.versions, name="agent-versions"),
    path(
        f"{A}/model-policy/versions/<int:number>/restore",
        api.version_restore,
        name="agent-version-restore",
    ),
    path(f"{A}/runtime/resolve", runtime.runtime_resolve, name="agent-runtime-resolve"),
    path(f"{A}/runtime/report", runtime.runtime_report, name="agent-runtime-report"),
    path("defaults", api.defaults, name="api-defaults"),
    path("defaults/<str:function>", api.default_set, name="default-set"),
]
