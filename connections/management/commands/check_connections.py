import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from connections.downloads import downloads_reap_stale
from connections.health import health_prune, sweep_once
from connections.models import Connection

PRUNE_EVERY_SECONDS = 24 * 3600


class Command(BaseCommand):
    help = (
        "Check every configured connection whose next check is due (one sweep). With --loop, "
        "keep sweeping until SIGTERM/SIGINT, which lets the current round finish. Safe to run "
        "on several machines against one PostgreSQL database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concurrency", type=int, default=8, help="checks in flight at once (default 8)"
        )
        parser.add_argument("--loop", action="store_true", help="keep sweeping until stopped")
        parser.add_argument(
            "--poll",
            type=float,
            default=5.0,
            help="with --loop, most seconds to wait between rounds (default 5)",
        )

    def handle(self, *, concurrency: int, loop: bool, poll: float, **options):
        if concurrency < 1 or concurrency > 256:
            raise CommandError("--concurrency must be between 1 and 256")
        stop = threading.Event()
        if loop:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        last_prune = 0.0
        if loop:
            self.stdout.write(
                f"sweeper started: each connection every {settings.KODA_HEALTH_INTERVAL_SECONDS} s "
                "(SIGTERM or Ctrl-C stops it)"
            )
        while True:
            report = sweep_once(concurrency=concurrency, stop=stop)
            # Downloads whose worker died are marked failed (startable again, resuming).
            reaped = downloads_reap_stale()
            if reaped:
                self.stdout.write(f"marked {reaped} download(s) whose worker stopped as failed")
            if report.checked or not loop:
                outcomes = ", ".join(f"{k}={v}" for k, v in sorted(report.outcomes.items()))
                self.stdout.write(
                    f"checked {report.checked} connection(s) in "
                    f"{report.seconds:.1f}s{': ' + outcomes if outcomes else ''}"
                )
            if not loop or stop.is_set():
                break
            if time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
                deleted = health_prune()
                last_prune = time.monotonic()
                if deleted:
                    self.stdout.write(f"pruned {deleted} old snapshot(s)")
            stop.wait(self._seconds_until_due(poll))
            close_old_connections()
        if loop:
            self.stdout.write("sweeper stopped")

    @staticmethod
    def _seconds_until_due(poll: float) -> float:
        upcoming = (
            Connection.objects.filter(next_check_at__isnull=False)
            .order_by("next_check_at")
            .values_list("next_check_at", flat=True)
            .first()
        )
        if upcoming is None:
            return poll
        wait = (upcoming - timezone.now()).total_seconds()
        return min(max(wait, 0.2), poll, settings.KODA_HEALTH_INTERVAL_SECONDS)
