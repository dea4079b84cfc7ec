"""The whole download flow with a real task worker process (`manage.py db_worker`), on the
test database: a whisper.cpp download and an Ollama pull end to end, and a worker killed
mid-download whose job is then resumed by a new worker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import connections

from connections.models import DownloadJob
from providers import transfer
from tests.downloads import Worker, generated_catalog, install, save
from tests.file_server import FileServer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mirror(tmp_path, settings, monkeypatch):
    root = tmp_path / "mirror"
    root.mkdir()
    server = FileServer(root).start()
    settings.KODA_MODELS_DIR = tmp_path / "models"
    settings.KODA_MODEL_MIRROR_URL = server.url
    server.made = generated_catalog(root, {"tiny": 4_000_000, "base.en": 900_000})
    install(server.made, monkeypatch.setitem)
    server.catalog = tmp_path / "catalog.json"
    save(server.made, server.catalog)
    yield server
    server.close()


@pytest.fixture
def worker(mirror, settings, tmp_path):
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(mirror.catalog, settings, tmp_path / "worker.log"))
        return started[-1]

    yield start
    for each in started:
        each.stop()
    # Reopen this process's connection after the worker's are gone: a SQLite connection kept
    # open across another process's last close can find the WAL index swapped under it.
    connections.close_all()


def wait_for(api, job_id: str, predicate, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/providers/downloads/{job_id}").json()["job"]
        if predicate(job):
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} never got there: {job}\nworker log:\n{log.read_text()}")


def test_the_worker_downloads_and_pulls(api, mirror, worker, fake_ollama, tmp_path):
    running = worker()
    response = api.call("POST", "/providers/whispercpp/models/base.en/download")
    assert response.status_code == 202
    job = wait_for(
        api, response.json()["job"]["id"], lambda j: j["status"] == "succeeded", running.log
    )
    assert job["bytes_done"] == mirror.made["base.en"]["size"]
    assert api.call("POST", "/providers/whispercpp/models/base.en/select").status_code == 200

    api.call("PUT", "/providers/ollama/connection/local", {"endpoint_url": fake_ollama.url})
    pull = api.call("POST", "/providers/ollama/models/pull", {"name": "tinyllama"}).json()["job"]
    wait_for(api, pull["id"], lambda j: j["status"] == "succeeded", running.log)
    models = api.get("/providers/ollama/models").json()["models"]
    assert "tinyllama:latest" in [m["id"] for m in models]


def test_a_killed_worker_leaves_a_job_that_resumes(api, mirror, worker, settings, tmp_path):
    settings.KODA_DOWNLOAD_STALE_SECONDS = 1
    mirror.delay = 0.05  # 64 KB every 50 ms: long enough to kill the worker midway
    first = worker()
    job_id = api.call("POST", "/providers/whispercpp/models/tiny/download").json()["job"]["id"]
    wait_for(api, job_id, lambda j: j["bytes_done"] > 300_000, first.log)
    first.kill()
    stopped = wait_for(api, job_id, lambda j: j["status"] == "failed", first.log, timeout=10)
    assert "resumes" in stopped["error"]
    part = transfer.partial_path(settings.KODA_MODELS_DIR / "whispercpp" / "ggml-tiny.bin")
    kept = part.stat().st_size
    assert kept > 300_000

    mirror.delay = 0
    again = api.call("POST", "/providers/whispercpp/models/tiny/download").json()["job"]["id"]
    second = worker()
    wait_for(api, again, lambda j: j["status"] == "succeeded", second.log)
    ranges = [r for path, r, _ in mirror.requests if path.endswith("ggml-tiny.bin")]
    assert ranges[-1] == f"bytes={kept}-"
    assert DownloadJob.objects.get(pk=job_id).status == "failed"
    assert transfer.file_sha256(part.with_name("ggml-tiny.bin")) == mirror.made["tiny"]["sha256"]
