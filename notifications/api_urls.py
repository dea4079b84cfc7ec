"""The notifications app's JSON API routes, under /api/control-plane/ (design §7)."""

from django.urls import path

from notifications import api

urlpatterns = [
    path("notification-channels", api.channels, name="api-notification-channels"),
    path("notification-channels/<int:channel_id>", api.channel, name="api-notification-channel"),
    path(
        "notification-channels/<int:channel_id>/test",
        api.channel_test,
        name="api-notification-channel-test",
    ),
]
