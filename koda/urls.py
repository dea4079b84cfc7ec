from django.contrib import admin
from django.urls import include, path

from connections import operations
from connections import views as connection_views
from koda import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke", views.token_revoke, name="token-revoke"),
    path("", connection_views.providers, name="providers"),
    path("providers/<str:provider_id>/", connection_views.provider_detail, name="provider"),
    path(
        "providers/<str:provider_id>/configure",
        connection_views.provider_configure,
        name="provider-configure",
    ),
    path(
        "providers/<str:provider_id>/verify",
        connection_views.provider_verify,
        name="provider-verify",
    ),
    path(
        "providers/<str:provider_id>/default-model",
        connection_views.provider_default_model,
        name="provider-default-model",
    ),
    path(
        "providers/<str:provider_id>/disconnect",
        connection_views.provider_disconnect,
        name="provider-disconnect",
    ),
    path("operations/", operations.operations, name="operations"),
    path(
        "operations/<str:provider_id>/verify",
        operations.operations_verify,
        name="operations-verify",
    ),
    path("admin/", admin.site.urls),
    path("api/control-plane/", include("koda.api_urls")),
]
