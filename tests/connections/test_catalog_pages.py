"""The catalog rows, the Ollama models card and the Downloads page, server-side (the browser
test drives the same pages with a real worker)."""

from __future__ import annotations

import pytest

from connections.downloads import download_run
from connections.models import DownloadJob
from tests.downloads import generated_catalog, install
from tests.file_server import FileServer

HTMX = {"HX-Request": "true"}


@pytest.fixture
def mirror(tmp_path, settings, monkeypatch):
    root = tmp_path / "mirror"
    root.mkdir()
    server = FileServer(root).start()
    settings.KODA_MODELS_DIR = tmp_path / "models"
    settings.KODA_MODEL_MIRROR_URL = server.url
    install(generated_catalog(root), monkeypatch.setitem)
    yield server
    server.close()


def test_a_row_downloads_polls_while_its_job_runs_and_stops_after(operator_client, mirror):
    started = operator_client.post("/providers/whispercpp/files/tiny/download", headers=HTMX)
    html = started.content.decode()
    assert started.status_code == 200 and html.lstrip().startswith('<tr id="file-tiny"')
    assert 'hx-trigger="every 1s"' in html and "waiting for the worker" in html
    job = DownloadJob.objects.get()
    assert (
        operator_client.get("/providers/whispercpp/files/tiny/row", headers=HTMX).status_code == 200
    )
    download_run(str(job.pk))
    done = operator_client.get("/providers/whispercpp/files/tiny/row", headers=HTMX)
    assert done.status_code == 286  # htmx stops polling, and swaps this final row in
    assert done["HX-Trigger"] == "files-changed"  # the card refreshes its select form
    card = operator_client.get("/providers/whispercpp/files/", headers=HTMX).content.decode()
    assert card.lstrip().startswith('<div class="card catalog" id="model-files"')
    assert '<option value="tiny"' in card
    assert (
        'data-state="installed"' in done.content.decode()
        and "hx-trigger" not in done.content.decode()
    )


def test_a_failed_download_says_why_in_its_row(operator_client, mirror):
    (mirror.root / "ggml-tiny.bin").unlink()
    operator_client.post("/providers/whispercpp/files/tiny/download", headers=HTMX)
    download_run(str(DownloadJob.objects.get().pk))
    row = operator_client.get("/providers/whispercpp/files/tiny/row", headers=HTMX).content.decode()
    assert "Last download failed" in row and "answered 404" in row


def test_selecting_a_downloaded_variant_connects_whisper(operator_client, mirror):
    operator_client.post("/providers/whispercpp/files/tiny/download", headers=HTMX)
    download_run(str(DownloadJob.objects.get().pk))
    page = operator_client.get("/providers/whispercpp/").content.decode()
    assert 'id="select-variant"' in page and '<option value="tiny"' in page
    chosen = operator_client.post(
        "/providers/whispercpp/files/select", {"variant": "tiny"}, headers=HTMX
    ).content.decode()
    assert chosen.lstrip().startswith('<section id="wizard"')
    assert 'data-outcome="ok"' in chosen and "in use" in chosen
    refused = operator_client.post(
        "/providers/whispercpp/files/tiny/delete", headers=HTMX
    ).content.decode()
    assert "It is in use" in refused


def test_the_downloads_page_lists_jobs_and_stops_polling_when_none_is_active(
    operator_client, mirror
):
    operator_client.post("/providers/whispercpp/files/tiny/download", headers=HTMX)
    page = operator_client.get("/downloads/").content.decode()
    assert 'data-testid="active-job"' in page and 'hx-trigger="every 2s"' in page
    job = DownloadJob.objects.get()
    cancelled = operator_client.post(f"/downloads/{job.pk}/cancel", headers=HTMX)
    assert cancelled["HX-Refresh"] == "true"
    job.refresh_from_db()
    assert job.status == "cancelled"
    idle = operator_client.get("/downloads/", headers={**HTMX, "HX-Target": "downloads"})
    assert idle.status_code == 286 and "Nothing is downloading" in idle.content.decode()


def test_the_ollama_card_pulls_and_deletes(operator_client, api, fake_ollama):
    api.call("PUT", "/providers/ollama/connection/local", {"endpoint_url": fake_ollama.url})
    page = operator_client.get("/providers/ollama/").content.decode()
    assert 'data-testid="ollama-models"' in page and 'data-model="nomic-embed-text:latest"' in page
    pulled = operator_client.post(
        "/providers/ollama/models/pull", {"name": "tinyllama"}, headers=HTMX
    )
    assert pulled.status_code == 200 and 'data-testid="pull"' in pulled.content.decode()
    download_run(str(DownloadJob.objects.get().pk))
    after = operator_client.get("/providers/ollama/models/", headers=HTMX)
    assert after.status_code == 286 and 'data-model="tinyllama:latest"' in after.content.decode()
    bad = operator_client.post("/providers/ollama/models/pull", {"name": "no spaces"}, headers=HTMX)
    assert "Name an Ollama model" in bad.content.decode()
    gone = operator_client.post(
        "/providers/ollama/models/tinyllama:latest/delete", headers=HTMX
    ).content.decode()
    assert 'data-model="tinyllama:latest"' not in gone
