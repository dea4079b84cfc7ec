from django.conf import settings
from django.core.management.base import BaseCommand

from koda.operators import operator_ensure


class Command(BaseCommand):
    help = (
        "Make sure an operator exists: from KODA_OPERATOR_USERNAME/KODA_OPERATOR_PASSWORD, or "
        "else generate one and print its name and password once. Does nothing if one exists."
    )

    def handle(self, **options):
        generated = operator_ensure(
            username=settings.KODA_OPERATOR_USERNAME, password=settings.KODA_OPERATOR_PASSWORD
        )
        if generated:
            username, password = generated
            # Printed once, on purpose: this is the only time the password exists in clear.
            self.stdout.write(
                "\n  Created operator\n"
                f"    username: {username}\n    password: {password}\n"
                "  Keep it: it is not shown again (change it in /admin/).\n"
            )
