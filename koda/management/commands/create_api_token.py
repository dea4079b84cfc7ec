from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from koda.context import Context
from koda.operators import is_operator
from koda.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for an operator and print the token alone (it is shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--operator", required=True, help="the operator's username")
        parser.add_argument("--name", default="cli", help="a label for the token")

    def handle(self, *, operator: str, name: str, **options):
        user = get_user_model().objects.filter(username=operator).first()
        if user is None or not is_operator(user):
            raise CommandError(f"no active operator named {operator!r}")
        _, plaintext = api_token_create(
            operator=user, name=name, ctx=Context.command("create_api_token", user)
        )
        self.stdout.write(plaintext)
