from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents and model policies"

    def ready(self) -> None:
        # Tell connections which agents and roles depend on a provider (blast radius).
        from agents import blast_radius  # noqa: F401

    def openapi(self) -> dict:
        """This app's paths and schemas for the API document koda serves."""
        from agents.openapi import document

        return document()
