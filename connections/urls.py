"""Dashboard pages of the connections app: Providers, a provider's wizard, Operations."""

from django.urls import path

from connections import (
    catalog_views,
    credit_views,
    custom_views,
    login_views,
    operations,
    views,
    wizard_views,
)

F = "providers/<str:provider_id>/files"

urlpatterns = [
    # Local catalogs (before the generic provider routes).
    path(f"{F}/", wizard_views.files_card, name="files"),
    path(f"{F}/select", wizard_views.files_select, name="files-select"),
    path(f"{F}/<str:name>/row", catalog_views.file_row, name="file-row"),
    path(f"{F}/<str:name>/download", catalog_views.file_download, name="file-download"),
    path(f"{F}/<str:name>/delete", catalog_views.file_delete, name="file-delete"),
    path("providers/ollama/models/", catalog_views.ollama_models, name="ollama-models-page"),
    path("providers/ollama/models/pull", catalog_views.ollama_pull, name="ollama-pull-page"),
    path(
        "providers/ollama/models/<path:name>/delete",
        catalog_views.ollama_delete,
        name="ollama-delete-page",
    ),
    path("downloads/", catalog_views.downloads_page, name="downloads"),
    path("downloads/<str:job_id>/cancel", catalog_views.job_cancel, name="download-cancel-page"),
    path("", views.providers, name="providers"),
    path("providers/new/", custom_views.provider_new, name="provider-new"),
    path("providers/<str:provider_id>/", views.provider_detail, name="provider"),
    path(
        "providers/<str:provider_id>/remove", custom_views.provider_remove, name="provider-remove"
    ),
    path(
        "providers/<str:provider_id>/configure",
        wizard_views.provider_configure,
        name="provider-configure",
    ),
    path(
        "providers/<str:provider_id>/verify", wizard_views.provider_verify, name="provider-verify"
    ),
    path(
        "providers/<str:provider_id>/credit-threshold",
        credit_views.provider_credit_threshold,
        name="provider-credit-threshold",
    ),
    path(
        "providers/<str:provider_id>/login/start",
        login_views.provider_login_start,
        name="provider-login-start",
    ),
    path(
        "providers/<str:provider_id>/login/<str:session_id>/",
        login_views.provider_login_poll,
        name="provider-login-poll",
    ),
    path(
        "providers/<str:provider_id>/login/<str:session_id>/code",
        login_views.provider_login_code,
        name="provider-login-code",
    ),
    path(
        "providers/<str:provider_id>/default-model",
        wizard_views.provider_default_model,
        name="provider-default-model",
    ),
    path(
        "providers/<str:provider_id>/disconnect",
        wizard_views.provider_disconnect,
        name="provider-disconnect",
    ),
    path("operations/", operations.operations, name="operations"),
    path(
        "operations/<str:provider_id>/verify",
        operations.operations_verify,
        name="operations-verify",
    ),
]
