from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notifications import receivers  # noqa: F401 (connects the signal receivers)

    def openapi(self) -> dict:
        """This app's paths and schemas for the API document koda serves."""
        from notifications.openapi import document

        return document()
