"""What the Operations view reads instead of the snapshots: per-bucket sums of the checks
(`HealthRollup`) and the runs of failed checks (`Incident`), both kept as each check is
written, so the view's cost does not grow with the history.

`summaries_add` runs inside the transaction that writes the snapshot, under the connection's
row lock (every service that records a check holds it), so two checks of one connection never
interleave. `summaries_rebuild` recomputes both from the snapshots: for the migration that
introduced them, for repairs, and for fixtures that write snapshots directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection as db
from django.db import transaction
from django.db.models import F

from connections.models import HealthRollup, HealthSnapshot, Incident
from koda.prepared import Lookup

TEN_MINUTES, HOUR, SIX_HOURS, DAY = 600, 3600, 21600, 86400
# The latency chart's points, and the cells of the strip's ranges (24 h, 7 d, 30 d).
WIDTHS = (TEN_MINUTES, HOUR, SIX_HOURS, DAY)

_TABLE = HealthRollup._meta.db_table
# One statement adds a check to each of its buckets (SQLite and PostgreSQL share the syntax).
# Only the table name, from the model, is formatted in; the values are parameters.
_ADD_TEMPLATE = (
    "INSERT INTO {t} "
    "(connection_id, width, bucket, total, ok, latency_sum, credit_amount, credit_share) "
    "VALUES {values} "
    "ON CONFLICT (connection_id, width, bucket) DO UPDATE SET "
    "total = {t}.total + excluded.total, ok = {t}.ok + excluded.ok, "
    "latency_sum = {t}.latency_sum + excluded.latency_sum, "
    "credit_amount = COALESCE(excluded.credit_amount, {t}.credit_amount), "
    "credit_share = COALESCE(excluded.credit_share, {t}.credit_share)"
)
_ADD = _ADD_TEMPLATE.format(
    t=_TABLE, values=", ".join(["(%s, %s, %s, 1, %s, %s, %s, %s)"] * len(WIDTHS))
)


# Read on every check: compiled once (koda.prepared); at most one is open per connection.
_OPEN_INCIDENT = Lookup(Incident, "connection_id", ended_at=None)


def bucket_of(at: datetime, width: int) -> int:
    """The start, in Unix seconds, of the `width`-second bucket holding `at`."""
    seconds = int(at.timestamp())
    return seconds - seconds % width


def summaries_add(snapshot: HealthSnapshot) -> Incident | None:
    """Fold one check of a stored connection into its rollups and incidents. Returns the
    incident the check belongs to (opened or continued by a failure, ended by an ok check), or
    None."""
    if snapshot.connection_id is None or snapshot.candidate:
        return None
    params: list[int | float | None] = []
    for width in WIDTHS:
        params += [
            snapshot.connection_id,
            width,
            bucket_of(snapshot.created_at, width),
            int(snapshot.ok),
            snapshot.latency_ms,
            snapshot.credit_amount,
            snapshot.credit_share,
        ]
    with db.cursor() as cursor:
        cursor.execute(_ADD, params)
    incident = _OPEN_INCIDENT.first(snapshot.connection_id)
    if snapshot.ok and incident is not None:
        incident.ended_at = snapshot.created_at
        incident.save(update_fields=["ended_at"])
    elif not snapshot.ok and incident is None:
        incident = Incident.objects.create(
            connection_id=snapshot.connection_id,
            outcome=snapshot.outcome,
            message=snapshot.message,
            began_at=snapshot.created_at,
        )
    return incident


def summaries_rebuild(
    connection_ids: Iterable[int] | None = None,
    *,
    snapshots=HealthSnapshot,
    rollups=HealthRollup,
    incidents=Incident,
) -> None:
    """Recompute the rollups and incidents of these connections (default: all) from their
    snapshots. The models can be a migration's historical ones."""
    checks = snapshots.objects.filter(candidate=False, connection__isnull=False)
    if connection_ids is not None:
        connection_ids = list(connection_ids)
        checks = checks.filter(connection__in=connection_ids)
    sums: dict[tuple[int, int, int], list] = {}  # total, ok, latency, credit, share
    found: list = []
    current: dict[int, object] = {}  # the open incident per connection
    rows = checks.order_by("connection_id", "created_at", "id").values_list(
        "connection_id",
        "created_at",
        "ok",
        "latency_ms",
        "outcome",
        "message",
        "credit_amount",
        "credit_share",
    )
    for conn_id, at, ok, latency, outcome, message, credit, share in rows.iterator(
        chunk_size=20_000
    ):
        for width in WIDTHS:
            bucket = sums.setdefault((conn_id, width, bucket_of(at, width)), [0, 0, 0, None, None])
            bucket[0] += 1
            bucket[1] += ok
            bucket[2] += latency
            if credit is not None:
                bucket[3] = credit
            if share is not None:
                bucket[4] = share
        if ok and conn_id in current:
            current.pop(conn_id).ended_at = at
        elif not ok and conn_id not in current:
            current[conn_id] = incidents(
                connection_id=conn_id, outcome=outcome, message=message, began_at=at
            )
            found.append(current[conn_id])
    with transaction.atomic():
        for model in (rollups, incidents):
            old = model.objects.all()
            if connection_ids is not None:
                old = old.filter(connection__in=connection_ids)
            old.delete()
        rollups.objects.bulk_create(
            (
                rollups(
                    connection_id=conn_id,
                    width=width,
                    bucket=bucket,
                    total=total,
                    ok=ok,
                    latency_sum=latency,
                    credit_amount=credit,
                    credit_share=share,
                )
                for (conn_id, width, bucket), (total, ok, latency, credit, share) in sums.items()
            ),
            batch_size=5000,
        )
        incidents.objects.bulk_create(found, batch_size=5000)


def summaries_prune(cutoff: datetime) -> int:
    """Drop the rollups of buckets that ended by `cutoff` (the snapshots' retention) and the
    incidents that ended before it; returns how many rows went."""
    ended = F("bucket") + F("width")
    deleted = HealthRollup.objects.alias(ended=ended).filter(ended__lte=cutoff.timestamp())
    deleted = deleted.delete()[0]
    return deleted + Incident.objects.filter(ended_at__lt=cutoff).delete()[0]
