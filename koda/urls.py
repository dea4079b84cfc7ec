"""The root URLconf. Each app owns its URL modules; they are included here by dotted path, so
koda imports no app above it."""

from django.contrib import admin
from django.urls import include, path

from koda import views

API = "api/control-plane/"

handler400 = "koda.errors.bad_request"
handler500 = "koda.errors.server_error"

urlpatterns = [
    # The API first, agents first within it: a runtime's resolve, before every model call, is
    # the hottest path, then a connection's state and the catalog; URL resolution tries
    # patterns in order, and a page's path fails the API prefix at once.
    path(API, include("agents.api_urls")),
    path(API, include("connections.api_urls")),
    path(API, include("notifications.api_urls")),
    # Last of the API: the OpenAPI document, then a JSON 404 for any API path no app claims.
    path(API, include("koda.api_urls")),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke", views.token_revoke, name="token-revoke"),
    path("admin/", admin.site.urls),
    path("", include("agents.urls")),
    path("", include("connections.urls")),
    path("", include("notifications.urls")),
]
