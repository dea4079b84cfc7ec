"""Dashboard pages of the notifications app."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("notifications/", views.channels, name="notifications"),
    path("notifications/<int:channel_id>/", views.channel, name="notification-channel"),
    path("notifications/<int:channel_id>/test", views.channel_test, name="notification-test"),
    path("notifications/<int:channel_id>/delete", views.channel_delete, name="notification-delete"),
]
