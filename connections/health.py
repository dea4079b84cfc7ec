"""Health over time: scheduled sweeps, retention, and the reads behind the Operations view and
the health API.

Sweeps claim due connections before checking them, so several sweepers sharing one database
never check the same connection twice in an interval: on PostgreSQL the due rows are selected
`FOR UPDATE SKIP LOCKED` (sweepers never wait on each other), and on every database the claim
itself is a conditional UPDATE that only one sweeper can win. The claim pushes `next_check_at`
one interval ahead (a lease), so a sweeper that dies mid-check delays that check by one
interval at most.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from connections import services
from connections.models import Connection, HealthSnapshot
from connections.rollups import summaries_prune
from koda.context import Context
from providers.registry import PROVIDERS

log = logging.getLogger("koda.sweep")


@dataclass
class SweepReport:
    checked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _due(now) -> Q:
    return Q(next_check_at__isnull=True) | Q(next_check_at__lte=now)


def sweep_claim(*, limit: int = 1, due_by=None) -> list[str]:
    """Claim up to `limit` connections due by `due_by` (default: now) for this sweeper; returns
    their provider ids. The claim moves a row's next check past `due_by`, so a sweep that keeps
    its start time as `due_by` checks each connection at most once, however long checks take."""
    now = timezone.now()
    due_by = due_by or now
    lease = now + timedelta(seconds=settings.KODA_HEALTH_INTERVAL_SECONDS)
    with transaction.atomic():
        candidates = list(
            Connection.objects.select_for_update(skip_locked=True)
            .filter(_due(due_by))
            .order_by("next_check_at", "id")
            .values_list("id", "provider_id")[:limit]
        )
        claimed = []
        for pk, provider_id in candidates:
            # The conditional UPDATE is the claim: only one sweeper can move a due row forward.
            if Connection.objects.filter(_due(due_by), pk=pk).update(next_check_at=lease):
                claimed.append(provider_id)
    return claimed


def _check(provider_id: str) -> str:
    provider = PROVIDERS.get(provider_id)
    if provider is None:
        return "skipped"
    try:
        _, result = services.connection_verify(provider=provider, ctx=Context.sweep())
        return str(result.outcome)
    except services.NotConfigured:
        return "skipped"  # disconnected after the claim
    except Exception:  # one broken row must not end the sweep; the error is logged, no secret
        log.exception("health check of %s failed", provider_id)
        return "error"


def sweep_once(*, concurrency: int = 8, stop: threading.Event | None = None) -> SweepReport:
    """Check every connection that was due when the sweep started, each once, `concurrency` at
    a time, then end (what falls due meanwhile waits for the next sweep: a cron sweep cannot
    pile up behind checks slower than the interval).

    Each worker claims one connection, checks it, then claims the next, so work spreads evenly
    over the workers of every sweeper sharing the database. Each probe is bounded by the verify
    timeout: a hanging provider holds one worker, never the sweep.
    """
    report = SweepReport()
    lock = threading.Lock()
    started = time.monotonic()
    due_by = timezone.now()

    def worker() -> None:
        try:
            while not (stop and stop.is_set()):
                claimed = sweep_claim(limit=1, due_by=due_by)
                if not claimed:
                    return
                outcome = _check(claimed[0])
                with lock:
                    report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
                    report.checked += 1
        finally:
            connections.close_all()  # this worker thread's connection

    with ThreadPoolExecutor(
        max_workers=max(1, concurrency), thread_name_prefix="koda-sweep"
    ) as pool:
        for future in [pool.submit(worker) for _ in range(max(1, concurrency))]:
            future.result()
    report.seconds = time.monotonic() - started
    return report


def health_prune(*, now=None) -> int:
    """Delete snapshots older than KODA_HEALTH_RETENTION_DAYS, always keeping each provider's
    latest snapshot and its latest ok one, and the rollups and ended incidents as old. Deletes
    in batches; returns how many snapshots went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KODA_HEALTH_RETENTION_DAYS)
    summaries_prune(cutoff)
    latest = HealthSnapshot.objects.values("provider_id").annotate(keep=Max("id"))
    latest_ok = (
        HealthSnapshot.objects.filter(ok=True).values("provider_id").annotate(keep=Max("id"))
    )
    keep = {row["keep"] for row in latest} | {row["keep"] for row in latest_ok}
    deleted = 0
    while True:
        batch = list(
            HealthSnapshot.objects.filter(created_at__lt=cutoff)
            .exclude(pk__in=keep)
            .values_list("pk", flat=True)[:5000]
        )
        if not batch:
            return deleted
        deleted += HealthSnapshot.objects.filter(pk__in=batch).delete()[0]


def uptime(provider_id: str, *, now=None) -> dict[str, float | None]:
    """Share of ok checks of the stored credential over 24 h and 7 d (None with no checks)."""
    now = now or timezone.now()
    day, week = now - timedelta(hours=24), now - timedelta(days=7)
    counts = HealthSnapshot.objects.filter(
        provider_id=provider_id, candidate=False, created_at__gte=week
    ).aggregate(
        day=Count("id", filter=Q(created_at__gte=day)),
        day_ok=Count("id", filter=Q(created_at__gte=day, ok=True)),
        week=Count("id"),
        week_ok=Count("id", filter=Q(ok=True)),
    )
    return {
        "24h": round(counts["day_ok"] / counts["day"], 4) if counts["day"] else None,
        "7d": round(counts["week_ok"] / counts["week"], 4) if counts["week"] else None,
    }
