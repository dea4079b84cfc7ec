from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from koda.audit import audit_record
from koda.context import Context
from koda.operators import operator_create


class Command(BaseCommand):
    help = "Create an operator (a Django staff superuser) who can use the dashboard and API."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *, username: str, password: str, **options):
        try:
            validate_password(password)
            user = operator_create(username=username, password=password)
        except ValidationError as exc:
            raise CommandError("password rejected: " + " ".join(exc.messages)) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        audit_record(
            ctx=Context.command("createoperator"),
            action="operator.create",
            target=f"operator:{user.get_username()}",
        )
        self.stdout.write(f"Operator {user.get_username()} created.")
