from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Provider connections"

    def openapi(self) -> dict:
        """This app's paths and schemas for the API document koda serves."""
        from connections.openapi import document

        return document()
