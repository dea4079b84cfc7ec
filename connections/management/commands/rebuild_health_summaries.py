from django.core.management.base import BaseCommand

from connections.models import HealthRollup, Incident
from connections.rollups import summaries_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the Operations rollups and incidents from the health snapshots (checks keep "
        "them as they are written; this repairs them, e.g. after snapshots were imported)."
    )

    def handle(self, **options):
        summaries_rebuild()
        self.stdout.write(
            f"Rebuilt {HealthRollup.objects.count()} rollup(s) and "
            f"{Incident.objects.count()} incident(s) from the snapshots."
        )
