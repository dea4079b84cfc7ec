from django.conf import settings
from django.core.management.base import BaseCommand

from connections.health import health_prune


class Command(BaseCommand):
    help = (
        "Delete health snapshots older than KODA_HEALTH_RETENTION_DAYS, keeping each "
        "connection's latest snapshot and its last ok one."
    )

    def handle(self, **options):
        deleted = health_prune()
        self.stdout.write(
            f"Deleted {deleted} snapshot(s) older than {settings.KODA_HEALTH_RETENTION_DAYS} days."
        )
