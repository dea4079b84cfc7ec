"""Background tasks of the connections app (the Django Tasks API; `manage.py db_worker` runs
them). Each is a thin entry point to a service that owns the work."""

from __future__ import annotations

from django_tasks import task

from connections.downloads import download_run


@task()
def run_download(job_id: str) -> str:
    """Fetch a model file or pull an Ollama model; progress is on the DownloadJob row."""
    return download_run(job_id)
