"""Download jobs: model files (whisper.cpp, Kokoro) and Ollama pulls, run by the task worker.

Starting, cancelling and deleting are services (dashboard, API and commands call them); the work
itself runs in `manage.py db_worker` (the `run_download` task), never inside a web request.
The worker reports progress and a heartbeat on the DownloadJob row, checks for a cancel about
twice a second, and a running job whose heartbeat stops (its worker died) is marked failed so it
can be started again, resuming from its partial file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from connections.models import ACTIVE_JOB_STATUSES, Connection, DownloadJob, JobKind, JobStatus
from koda.audit import audit_record, provider_target
from koda.context import Context
from providers import model_catalog, transfer
from providers.adapters.ollama import PullFailed
from providers.base import Provider
from providers.model_catalog import ModelFile
from providers.registry import PROVIDERS

log = logging.getLogger("koda.downloads")

# How often the worker writes progress (and reads the cancel flag).
REPORT_EVERY = 0.5


class JobConflict(Exception):
    """There is already an active job for that target; `job` is it."""

    def __init__(self, job: DownloadJob) -> None:
        super().__init__(f"{job.target} is already {job.status}")
        self.job = job


class AlreadyInstalled(Exception):
    """The file is already here, complete."""


class InUse(Exception):
    """The file is the one the connection uses."""


class NotInstalled(Exception):
    """There is no such file to delete."""


def model_file_of(provider: Provider, name: str) -> ModelFile | None:
    """The catalog entry of a whisper.cpp variant, a Kokoro model, or the Kokoro voices file."""
    if provider.id == "whispercpp":
        return model_catalog.WHISPER_VARIANTS.get(name)
    if provider.id == "kokoro":
        return model_catalog.KOKORO_FILES.get(name)
    return None


def download_start(
    *, provider: Provider, kind: str, target: str, ctx: Context, purpose: str = ""
) -> DownloadJob:
    """Queue a download (a catalog file) or a pull (an Ollama model); the worker runs it."""
    if kind == JobKind.MODEL_FILE:
        model_file = model_file_of(provider, target)
        assert model_file is not None, "callers look the target up first"
        if model_catalog.state_of(provider.id, model_file) == "installed":
            raise AlreadyInstalled(target)
    try:
        with transaction.atomic():
            job = DownloadJob.objects.create(
                provider_id=provider.id,
                kind=kind,
                target=target,
                purpose=purpose,
                actor=ctx.user if ctx.user is not None and ctx.user.pk else None,
            )
            audit_record(
                ctx=ctx,
                action="download.start",
                target=provider_target(provider.id),
                diff={"job": str(job.pk), "kind": kind, "file": target, "purpose": purpose},
            )
            transaction.on_commit(lambda: _enqueue(job))
    except IntegrityError:  # one active job per target (a constraint, so races lose too)
        active = DownloadJob.objects.get(
            provider_id=provider.id, target=target, status__in=ACTIVE_JOB_STATUSES
        )
        raise JobConflict(active) from None
    return job


def _enqueue(job: DownloadJob) -> None:
    run_download.enqueue(str(job.pk))


def download_cancel(*, job: DownloadJob, ctx: Context) -> DownloadJob:
    """A queued job is cancelled at once; a running one stops at its next report."""
    now = timezone.now()
    stopped = DownloadJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now, stage="cancelled"
    )
    if not stopped:
        DownloadJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            cancel_requested=True
        )
    audit_record(
        ctx=ctx,
        action="download.cancel",
        target=provider_target(job.provider_id),
        diff={"job": str(job.pk), "file": job.target},
    )
    job.refresh_from_db()
    return job


def model_file_delete(*, provider: Provider, model_file: ModelFile, ctx: Context) -> None:
    """Delete a downloaded file. Refused while it downloads, and while it is selected."""
    if DownloadJob.objects.filter(
        provider_id=provider.id, target=model_file.name, status__in=ACTIVE_JOB_STATUSES
    ).exists():
        raise JobConflict(
            DownloadJob.objects.get(
                provider_id=provider.id, target=model_file.name, status__in=ACTIVE_JOB_STATUSES
            )
        )
    connection = Connection.objects.defer("secrets").filter(provider_id=provider.id).first()
    if connection is not None and (
        model_file.name in connection.config.values()
        or model_file.name == model_catalog.VOICES_FILE  # every Kokoro voice lives in it
    ):
        raise InUse(model_file.name)
    path = model_catalog.path_of(provider.id, model_file)
    part = transfer.partial_path(path)
    if not path.exists() and not part.exists():
        raise NotInstalled(model_file.name)
    path.unlink(missing_ok=True)
    part.unlink(missing_ok=True)
    audit_record(
        ctx=ctx,
        action="download.delete",
        target=provider_target(provider.id),
        diff={"file": model_file.filename},
    )


def downloads_reap_stale() -> int:
    """Mark running jobs whose worker stopped reporting as failed (they resume when started
    again). Returns how many. Cheap: one UPDATE; run by reads and by the sweeper."""
    limit = timezone.now() - timedelta(seconds=settings.KODA_DOWNLOAD_STALE_SECONDS)
    stale = DownloadJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=limit)
    if not stale.exists():  # the usual case: a read, not a write (SQLite's write lock)
        return 0
    return stale.update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        stage="worker stopped",
        error=(
            "The worker running this stopped reporting (it was stopped or died). Start the "
            "download again: it resumes from what was already fetched."
        ),
    )


# --- the work, in the task worker -------------------------------------------------------------


@task()
def run_download(job_id: str) -> str:
    """The Django Task the worker runs: fetch a model file or pull an Ollama model."""
    return download_run(job_id)


@dataclass
class _Reporter:
    """Writes progress, speed and the heartbeat at most every REPORT_EVERY seconds, and reads
    the cancel flag then."""

    job: DownloadJob
    last: float = 0.0
    last_bytes: int = 0
    cancelled: bool = False
    done: int = 0
    total: int | None = None

    def progress(self, done: int, total: int | None, stage: str) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if now - self.last < REPORT_EVERY and stage in ("downloading", self.job.stage):
            return
        speed = (done - self.last_bytes) / (now - self.last) if self.last else None
        self.last, self.last_bytes = now, done
        updated = DownloadJob.objects.filter(pk=self.job.pk).update(
            bytes_done=done,
            bytes_total=total,
            stage=stage[:200],
            bytes_per_second=speed,
            heartbeat_at=timezone.now(),
        )
        self.job.stage = stage
        self.cancelled = (
            not updated
            or DownloadJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists()
        )

    def should_stop(self) -> bool:
        return self.cancelled


def download_run(job_id: str) -> str:
    """Run one job to its end (the task body). Returns the final status."""
    now = timezone.now()
    claimed = DownloadJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, stage="starting"
    )
    if not claimed:
        return "skipped"  # cancelled before it started, or another worker has it
    job = DownloadJob.objects.get(pk=job_id)
    reporter = _Reporter(job)
    status, error = JobStatus.SUCCEEDED, ""
    try:
        if job.kind == JobKind.OLLAMA_PULL:
            _pull(job, reporter)
        else:
            _fetch_file(job, reporter)
    except transfer.Cancelled:
        status = JobStatus.CANCELLED
    except (transfer.TransferFailed, PullFailed) as exc:
        status, error = JobStatus.FAILED, str(exc)
    except Exception:
        log.exception("download job %s failed unexpectedly", job_id)
        status, error = JobStatus.FAILED, "Koda failed while running this job; the error is logged."
    DownloadJob.objects.filter(pk=job_id).update(
        status=status,
        error=error[:4000],
        finished_at=timezone.now(),
        stage={"succeeded": "done", "cancelled": "cancelled"}.get(status, "failed"),
        bytes_per_second=None,
        # The last progress seen, which the throttled reports may not have written yet.
        bytes_done=reporter.done,
        bytes_total=reporter.total,
    )
    return str(status)


def _fetch_file(job: DownloadJob, reporter: _Reporter) -> None:
    provider = PROVIDERS[job.provider_id]
    model_file = model_file_of(provider, job.target)
    if model_file is None:
        raise transfer.TransferFailed(f"{job.target} is not in the catalog.", kind="http")
    transfer.fetch(
        model_file.url,
        model_catalog.path_of(provider.id, model_file),
        model_file.expected,
        on_progress=reporter.progress,
        should_stop=reporter.should_stop,
        # A mirror is the operator's own (often on a private network); upstream hosts are public.
        local=bool(settings.KODA_MODEL_MIRROR_URL),
    )
    if job.purpose and model_file.name == model_catalog.VOICES_FILE:
        voices = model_catalog.voices_in(model_catalog.path_of(provider.id, model_file))
        if job.purpose not in voices:
            raise transfer.TransferFailed(
                f"The voices file is here, but it has no voice {job.purpose!r} "
                f"(it has {len(voices)}, e.g. {', '.join(voices[:5])}).",
                kind="http",
            )


def _pull(job: DownloadJob, reporter: _Reporter) -> None:
    from connections.services import connection_verify  # refresh the model list after

    provider = PROVIDERS["ollama"]
    connection = Connection.objects.filter(provider_id="ollama").first()
    if connection is None or connection.auth_method != "local_endpoint":
        raise PullFailed("Connect Ollama on this machine (a local endpoint) before pulling.")
    provider.pull(
        connection.credential,
        job.target,
        on_progress=reporter.progress,
        should_stop=reporter.should_stop,
    )
    connection_verify(provider=provider, ctx=Context.system())
