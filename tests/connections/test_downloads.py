"""Model downloads and Ollama pulls through the API, with the job's work run in this process by
the same function the task worker runs (tests/connections/test_worker.py uses a real worker).
Files come from a local mirror serving generated files (tests/downloads.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections import namedtuple
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from connections.downloads import download_run
from connections.models import Connection, DownloadJob, FunctionDefault
from koda.models import AuditEvent
from providers import model_catalog, transfer
from tests.conftest import assert_error, make_connection
from tests.downloads import generated_catalog, install
from tests.file_server import FileServer

Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def mirror(tmp_path, settings, monkeypatch):
    root = tmp_path / "mirror"
    root.mkdir()
    server = FileServer(root).start()
    settings.KODA_MODELS_DIR = tmp_path / "models"
    settings.KODA_MODEL_MIRROR_URL = server.url
    server.made = generated_catalog(root)
    install(server.made, monkeypatch.setitem)
    yield server
    server.close()


def run_in_thread(job_id: str, outcomes: list) -> threading.Thread:
    """The job's work in a thread of its own, with its own database connection, as a worker."""

    def work() -> None:
        try:
            outcomes.append(download_run(job_id))
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def start(api, path, body=None):
    response = api.call("POST", path, body)
    assert response.status_code == 202, response.content
    return response.json()["job"]


def job_of(api, job_id):
    return api.get(f"/providers/downloads/{job_id}").json()["job"]


def test_it_downloads_a_whisper_variant_as_a_job_and_selects_it(api, mirror, settings):
    job = start(api, "/providers/whispercpp/models/tiny/download")
    assert (job["status"], job["target"], job["kind"]) == ("queued", "tiny", "model_file")
    assert download_run(job["id"]) == "succeeded"
    done = job_of(api, job["id"])
    size = mirror.made["tiny"]["size"]
    assert (done["status"], done["bytes_done"], done["bytes_total"], done["percent"]) == (
        "succeeded",
        size,
        size,
        100.0,
    )
    assert done["started_at"] and done["finished_at"] and done["stage"] == "done"
    path = settings.KODA_MODELS_DIR / "whispercpp" / "ggml-tiny.bin"
    assert transfer.file_sha256(path) == mirror.made["tiny"]["sha256"]
    catalog = {m["name"]: m for m in api.get("/providers/whispercpp/models").json()["models"]}
    assert catalog["tiny"]["state"] == "installed" and catalog["base.en"]["state"] == "available"
    assert catalog["base.en"]["notes"] == ["English only"] and catalog["base.en"]["english_only"]
    assert len(catalog) == 30

    selected = api.call("POST", "/providers/whispercpp/models/tiny/select")
    assert selected.status_code == 200, selected.content
    state = selected.json()["connection"]
    assert (state["status"], state["variant"], state["default_model"]) == (
        "verified",
        "tiny",
        "tiny",
    )
    assert api.get("/providers/whispercpp/models").json()["selected"] == "tiny"
    actions = list(
        AuditEvent.objects.exclude(action="api_token.create")
        .values_list("action", flat=True)
        .order_by("id")
    )
    assert actions == ["download.start", "connection.configure", "connection.default_model"]


def test_a_changed_file_fails_verification_with_both_checksums(api, mirror, settings):
    download_run(start(api, "/providers/whispercpp/models/tiny/download")["id"])
    api.call("POST", "/providers/whispercpp/models/tiny/select")
    path = settings.KODA_MODELS_DIR / "whispercpp" / "ggml-tiny.bin"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    body = api.call("POST", "/providers/whispercpp/connection/verify").json()
    assert body["verification"]["outcome"] == "runtime_missing"
    assert mirror.made["tiny"]["sha256"] in body["verification"]["message"]
    assert body["connection"]["status"] == "failing"


def test_it_fails_a_download_whose_checksum_is_wrong_and_deletes_it(
    api, mirror, monkeypatch, settings
):
    from dataclasses import replace

    entry = model_catalog.WHISPER_VARIANTS["tiny"]
    monkeypatch.setitem(model_catalog.WHISPER_VARIANTS, "tiny", replace(entry, sha256="f" * 64))
    job = start(api, "/providers/whispercpp/models/tiny/download")
    assert download_run(job["id"]) == "failed"
    failed = job_of(api, job["id"])
    assert "f" * 64 in failed["error"] and mirror.made["tiny"]["sha256"] in failed["error"]
    assert not (settings.KODA_MODELS_DIR / "whispercpp" / "ggml-tiny.bin").exists()


def test_it_resumes_after_a_dropped_connection(api, mirror):
    mirror.drop_after["ggml-tiny.bin"] = 600_000
    job = start(api, "/providers/whispercpp/models/tiny/download")
    assert download_run(job["id"]) == "succeeded"
    assert [r for p, r, _ in mirror.requests if p.endswith("ggml-tiny.bin")] == [
        None,
        "bytes=600000-",
    ]


def test_it_refuses_a_second_download_of_the_same_file_while_one_is_active(api, mirror):
    first = start(api, "/providers/whispercpp/models/tiny/download")
    error = assert_error(
        api.call("POST", "/providers/whispercpp/models/tiny/download"), 409, "download_active"
    )
    assert error["details"]["job"]["id"] == first["id"]
    download_run(first["id"])
    assert_error(
        api.call("POST", "/providers/whispercpp/models/tiny/download"), 409, "already_downloaded"
    )


def test_it_cancels_a_queued_download_before_it_starts(api, mirror):
    job = start(api, "/providers/whispercpp/models/tiny/download")
    cancelled = api.call("POST", f"/providers/downloads/{job['id']}/cancel").json()["job"]
    assert cancelled["status"] == "cancelled"
    assert download_run(job["id"]) == "skipped"
    assert mirror.requests == []
    assert_error(api.call("POST", f"/providers/downloads/{job['id']}/cancel"), 409, "not_active")
    assert AuditEvent.objects.filter(action="download.cancel").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_cancels_a_running_download_and_removes_the_partial_file(api, mirror, settings):
    mirror.delay = 0.1  # 64 KB every 0.1 s: the download takes seconds
    job = start(api, "/providers/whispercpp/models/tiny/download")
    outcome: list[str] = []
    worker = run_in_thread(job["id"], outcome)
    deadline = time.monotonic() + 10
    while job_of(api, job["id"])["bytes_done"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job_of(api, job["id"])["status"] == "running"
    api.call("POST", f"/providers/downloads/{job['id']}/cancel")
    worker.join(timeout=10)
    assert outcome == ["cancelled"] and job_of(api, job["id"])["status"] == "cancelled"
    part = transfer.partial_path(settings.KODA_MODELS_DIR / "whispercpp" / "ggml-tiny.bin")
    assert not part.exists()


@pytest.mark.django_db(transaction=True)
def test_two_downloads_run_side_by_side(api, mirror):
    mirror.delay = 0.005
    jobs = [
        start(api, "/providers/whispercpp/models/tiny/download"),
        start(api, "/providers/whispercpp/models/base.en/download"),
    ]
    outcomes: list[str] = []
    threads = [run_in_thread(j["id"], outcomes) for j in jobs]
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == ["succeeded", "succeeded"]
    states = {
        m["name"]: m["state"] for m in api.get("/providers/whispercpp/models").json()["models"]
    }
    assert states["tiny"] == states["base.en"] == "installed"


def test_it_fails_when_the_disk_is_full(api, mirror, monkeypatch):
    monkeypatch.setattr(transfer.shutil, "disk_usage", lambda path: Usage(10**9, 10**9, 50_000))
    job = start(api, "/providers/whispercpp/models/tiny/download")
    assert download_run(job["id"]) == "failed"
    assert "Not enough disk space" in job_of(api, job["id"])["error"]
    assert mirror.requests == []


def test_a_job_whose_worker_died_is_marked_failed_and_resumes_when_started_again(
    api, mirror, settings
):
    settings.KODA_DOWNLOAD_STALE_SECONDS = 30
    job = start(api, "/providers/whispercpp/models/tiny/download")
    # What a worker killed mid-download leaves: a running job, a partial file, no heartbeat.
    part = transfer.partial_path(settings.KODA_MODELS_DIR / "whispercpp" / "ggml-tiny.bin")
    part.parent.mkdir(parents=True)
    part.write_bytes((mirror.root / "ggml-tiny.bin").read_bytes()[:500_000])
    DownloadJob.objects.filter(pk=job["id"]).update(
        status="running", bytes_done=500_000, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    stale = job_of(api, job["id"])
    assert stale["status"] == "failed" and "resumes" in stale["error"]
    again = start(api, "/providers/whispercpp/models/tiny/download")
    assert download_run(again["id"]) == "succeeded"
    assert [r for _, r, _ in mirror.requests] == ["bytes=500000-"]


def test_it_deletes_a_file_but_not_while_it_downloads_or_is_selected(api, mirror, settings):
    job = start(api, "/providers/whispercpp/models/tiny/download")
    assert_error(api.call("DELETE", "/providers/whispercpp/models/tiny"), 409, "download_active")
    download_run(job["id"])
    api.call("POST", "/providers/whispercpp/models/tiny/select")
    assert_error(api.call("DELETE", "/providers/whispercpp/models/tiny"), 409, "in_use")
    download_run(start(api, "/providers/whispercpp/models/base.en/download")["id"])
    deleted = api.call("DELETE", "/providers/whispercpp/models/base.en")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": "base.en"}
    assert not (settings.KODA_MODELS_DIR / "whispercpp" / "ggml-base.en.bin").exists()
    assert_error(api.call("DELETE", "/providers/whispercpp/models/base.en"), 404, "not_downloaded")
    assert_error(api.call("DELETE", "/providers/whispercpp/models/huge"), 404, "unknown_model_file")
    assert AuditEvent.objects.filter(action="download.delete").count() == 1


def test_it_sets_up_kokoro_with_a_model_and_a_voice(api, mirror):
    model = start(api, "/providers/kokoro/model/download", {"file": "kokoro-v1.0.int8.onnx"})
    assert download_run(model["id"]) == "succeeded"
    voice = start(api, "/providers/kokoro/voices/af_heart/download")
    assert voice["purpose"] == "af_heart" and voice["target"] == "voices-v1.0.bin"
    assert download_run(voice["id"]) == "succeeded"
    voices = api.get("/providers/kokoro/voices").json()["voices"]
    assert {"id": "bf_emma", "language": "British English", "gender": "female"} in voices
    here = api.call("POST", "/providers/kokoro/voices/am_michael/download")
    assert here.status_code == 200 and here.json()["installed"] is True
    assert_error(
        api.call("POST", "/providers/kokoro/voices/zz_nobody/download"), 404, "unknown_voice"
    )
    refused = api.call(
        "POST",
        "/providers/kokoro/model/select",
        {"model_file": "kokoro-v1.0.onnx", "voice": "af_heart"},
    )
    assert_error(refused, 422, "verification_failed")  # that model was not downloaded
    selected = api.call(
        "POST",
        "/providers/kokoro/model/select",
        {"model_file": "kokoro-v1.0.int8.onnx", "voice": "af_heart"},
    )
    assert selected.status_code == 200, selected.content
    state = selected.json()["connection"]
    assert (state["model_file"], state["voice"], state["details"]["voices"]) == (
        "kokoro-v1.0.int8.onnx",
        "af_heart",
        "3",
    )
    catalog = api.get("/providers/kokoro/model").json()
    assert catalog["selected"] == {"model_file": "kokoro-v1.0.int8.onnx", "voice": "af_heart"}
    assert_error(api.call("DELETE", "/providers/whispercpp/models/tiny"), 404, "not_downloaded")


def test_a_voice_missing_from_the_voices_file_fails_its_job_but_keeps_the_file(
    api, mirror, settings
):
    job = start(api, "/providers/kokoro/voices/jf_alpha/download")
    assert download_run(job["id"]) == "failed"
    assert "no voice 'jf_alpha'" in job_of(api, job["id"])["error"]
    assert (settings.KODA_MODELS_DIR / "kokoro" / "voices-v1.0.bin").exists()


def test_mirror_credentials_stay_out_of_jobs_logs_and_answers(api, mirror, settings, caplog):
    caplog.set_level(logging.DEBUG)
    mirror.auth = ("koda", "Mirror-Secret-0123456789")
    host = mirror.url.removeprefix("http://")
    settings.KODA_MODEL_MIRROR_URL = f"http://koda:Mirror-Secret-0123456789@{host}"
    job = start(api, "/providers/whispercpp/models/tiny/download")
    mirror.drop_after["ggml-tiny.bin"] = 100
    assert download_run(job["id"]) == "succeeded"
    failed = start(api, "/providers/whispercpp/models/base.en/download")
    (mirror.root / "ggml-base.en.bin").unlink()
    assert download_run(failed["id"]) == "failed"
    answer = api.get(f"/providers/downloads/{failed['id']}").content.decode()
    assert "answered 404" in answer
    rows = repr(list(DownloadJob.objects.values())) + repr(list(AuditEvent.objects.values()))
    for place in (answer, caplog.text, rows):
        assert "Mirror-Secret" not in place


# --- Ollama ------------------------------------------------------------------------------------


def connect_ollama(api, fake_ollama):
    response = api.call(
        "PUT", "/providers/ollama/connection/local", {"endpoint_url": fake_ollama.url}
    )
    assert response.status_code == 200, response.content


def test_it_pulls_an_ollama_model_with_progress_and_refreshes_the_list(api, fake_ollama):
    connect_ollama(api, fake_ollama)
    job = start(api, "/providers/ollama/models/pull", {"name": "tinyllama"})
    assert (job["kind"], job["target"]) == ("ollama_pull", "tinyllama")
    assert download_run(job["id"]) == "succeeded"
    done = job_of(api, job["id"])
    assert (done["bytes_done"], done["bytes_total"]) == (3_120_000, 3_120_000)
    catalog = api.get("/providers/ollama/models").json()
    assert "tinyllama:latest" in [m["id"] for m in catalog["models"]]
    assert catalog["pulls"][0]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("missing-model", "pull model manifest: file does not exist"),
        ("flaky", "max retries exceeded: unexpected EOF"),
    ],
)
def test_an_error_line_mid_stream_fails_the_pull_with_ollamas_words(api, fake_ollama, name, words):
    connect_ollama(api, fake_ollama)
    job = start(api, "/providers/ollama/models/pull", {"name": name})
    assert download_run(job["id"]) == "failed"
    failed = job_of(api, job["id"])
    assert words in failed["error"]
    if name == "flaky":
        assert 0 < failed["bytes_done"] < 3_120_000  # progress was reported before it failed


def test_it_deletes_an_ollama_model_and_refreshes_the_list(api, fake_ollama):
    connect_ollama(api, fake_ollama)
    deleted = api.call("DELETE", "/providers/ollama/models/nomic-embed-text:latest")
    assert deleted.status_code == 200, deleted.content
    assert deleted.json()["connection"]["models"] == ["llama3.2:latest"]
    refused = api.call("DELETE", "/providers/ollama/models/nomic-embed-text:latest")
    error = assert_error(refused, 400, "ollama_refused")
    assert "model 'nomic-embed-text:latest' not found" in error["message"]


def test_pulls_need_ollama_on_this_machine(api):
    assert_error(
        api.call("POST", "/providers/ollama/models/pull", {"name": "llama3.2"}),
        409,
        "not_configured",
    )
    assert_error(
        api.call("POST", "/providers/ollama/models/pull", {"name": "../etc"}), 400, "invalid_input"
    )


# --- embedding models ----------------------------------------------------------------------


def test_it_lists_embedding_models_across_connections_and_sets_the_default(api, fake_ollama):
    connect_ollama(api, fake_ollama)
    make_connection(
        "openai",
        api_key="sk-proj-" + "e" * 40,
        status="verified",
        discovered_models=[
            {"id": "gpt-4o-mini"},
            {"id": "text-embedding-3-small", "capabilities": ["embedding"]},
        ],
    )
    make_connection(
        "mistral",
        api_key="m" * 32,
        status="failing",
        discovered_models=[{"id": "mistral-embed", "capabilities": ["embedding"]}],
    )
    listing = api.get("/providers/embedding/models").json()
    by_id = {m["id"]: m for m in listing["models"]}
    assert set(by_id) == {"ollama:nomic-embed-text:latest", "openai:text-embedding-3-small"}
    assert by_id["ollama:nomic-embed-text:latest"]["dimensions"] == 768  # from /api/show
    assert by_id["ollama:nomic-embed-text:latest"]["local"] is True
    assert by_id["openai:text-embedding-3-small"]["dimensions"] == 1536  # known
    chosen = api.call("POST", "/providers/embedding/models/ollama:nomic-embed-text:latest/select")
    assert (
        chosen.status_code == 200 and chosen.json()["selected"] == "ollama:nomic-embed-text:latest"
    )
    assert FunctionDefault.objects.get(function="embedding").model == "nomic-embed-text:latest"
    assert (
        api.get("/providers/embedding/models").json()["selected"]
        == "ollama:nomic-embed-text:latest"
    )
    assert AuditEvent.objects.filter(action="default.embedding").exists()
    assert_error(
        api.call("POST", "/providers/embedding/models/mistral:mistral-embed/select"),
        404,
        "unknown_model",
    )


def test_it_answers_404_for_an_unknown_download(api):
    assert_error(api.get("/providers/downloads/nope"), 404, "unknown_job")
    assert_error(
        api.get("/providers/downloads/00000000-0000-0000-0000-000000000000"), 404, "unknown_job"
    )
    assert api.get("/providers/downloads/active").json() == {"jobs": []}
    assert not Connection.objects.exists()


def test_selecting_a_variant_checks_an_optional_whisper_cli(api, mirror, tmp_path):
    download_run(start(api, "/providers/whispercpp/models/tiny/download")["id"])
    cli = tmp_path / "whisper-cli"
    cli.write_text("#!/bin/sh\necho 'usage: whisper-cli [options] file0 file1 ...'\n")
    cli.chmod(0o755)
    ok = api.call("POST", "/providers/whispercpp/models/tiny/select", {"runtime_path": str(cli)})
    assert ok.status_code == 200 and ok.json()["connection"]["runtime_path"] == str(cli)
    missing = api.call(
        "POST",
        "/providers/whispercpp/models/tiny/select",
        {"runtime_path": str(tmp_path / "nothing")},
    )
    error = assert_error(missing, 422, "verification_failed")
    assert error["details"]["verification"]["outcome"] == "runtime_missing"
    assert Connection.objects.get().config["runtime_path"] == str(cli)  # the working one stays
