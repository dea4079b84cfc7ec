from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from koda.audit import audit_record
from koda.context import Context
from koda.crypto import InvalidToken, encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under KODA_ENCRYPTION_KEY. Run it with the new key in "
        "KODA_ENCRYPTION_KEY and the old one in KODA_ENCRYPTION_KEY_PREVIOUS; afterwards the "
        "previous key can be removed."
    )

    @transaction.atomic
    def handle(self, **options):
        count = 0
        try:
            # Every model's encrypted fields, found through the field type: this command knows
            # no app, so apps above koda can add secrets without touching it.
            for model, field in encrypted_fields():
                rows = model._default_manager.select_for_update().exclude(
                    **{f"{field.name}__isnull": True}
                )
                for row in rows:
                    # Reading decrypts with the current or previous key; saving encrypts with
                    # the current one.
                    row.save(update_fields=[field.name])
                    count += 1
        except InvalidToken:
            raise CommandError(
                "a stored secret could not be decrypted with KODA_ENCRYPTION_KEY or "
                "KODA_ENCRYPTION_KEY_PREVIOUS; nothing was changed"
            ) from None
        audit_record(
            ctx=Context.command("rotate_encryption_key"),
            action="encryption_key.rotate",
            target="secrets",
            diff={"re_encrypted": count},
        )
        self.stdout.write(f"Re-encrypted {count} secret(s) under the current key.")
