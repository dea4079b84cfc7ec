"""Dashboard pages of the connections app: Providers, a provider's wizard, Operations."""

from django.urls import path

from connections import operations, views

urlpatterns = [
    path("", views.providers, name="providers"),
    path("providers/<str:provider_id>/", views.provider_detail, name="provider"),
    path(
        "providers/<str:provider_id>/configure", views.provider_configure, name="provider-configure"
    ),
    path("providers/<str:provider_id>/verify", views.provider_verify, name="provider-verify"),
    path(
        "providers/<str:provider_id>/default-model",
        views.provider_default_model,
        name="provider-default-model",
    ),
    path(
        "providers/<str:provider_id>/disconnect",
        views.provider_disconnect,
        name="provider-disconnect",
    ),
    path("operations/", operations.operations, name="operations"),
    path(
        "operations/<str:provider_id>/verify",
        operations.operations_verify,
        name="operations-verify",
    ),
]
