from django.core.management.base import BaseCommand, CommandError

from agents.models import Agent
from agents.tokens import agent_token_create
from koda.context import Context


class Command(BaseCommand):
    help = (
        "Create a runtime token for an agent and print the token alone (it is shown once). The "
        "token calls only that agent's runtime endpoints."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agent", required=True, help="the agent's id (slug)")
        parser.add_argument("--name", default="cli", help="a label for the token")

    def handle(self, *, agent: str, name: str, **options):
        found = Agent.objects.filter(slug=agent).first()
        if found is None:
            raise CommandError(f"no agent {agent!r} (the agents are listed at /agents/)")
        _, plaintext = agent_token_create(
            agent=found, name=name, ctx=Context.command("create_agent_token")
        )
        self.stdout.write(plaintext)
