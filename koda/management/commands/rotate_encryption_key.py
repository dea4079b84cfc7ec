from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from connections.models import Connection
from koda.audit import audit_record
from koda.crypto import InvalidToken


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under KODA_ENCRYPTION_KEY. Run it with the new key in "
        "KODA_ENCRYPTION_KEY and the old one in KODA_ENCRYPTION_KEY_PREVIOUS; afterwards the "
        "previous key can be removed."
    )

    @transaction.atomic
    def handle(self, **options):
        rows = Connection.objects.select_for_update().exclude(secret__isnull=True)
        count = 0
        try:
            for connection in rows:
                # Reading decrypts with the current or previous key; saving encrypts with current.
                connection.save(update_fields=["secret"])
                count += 1
        except InvalidToken:
            raise CommandError(
                "a stored secret could not be decrypted with KODA_ENCRYPTION_KEY or "
                "KODA_ENCRYPTION_KEY_PREVIOUS; nothing was changed"
            ) from None
        audit_record(
            actor="command",
            via="command",
            action="encryption_key.rotate",
            target="connections",
            diff={"re_encrypted": count},
        )
        self.stdout.write(f"Re-encrypted {count} secret(s) under the current key.")
