"""Downloads by hand in a real browser, with a real task worker process: a whisper.cpp variant,
a Kokoro model and voice, an Ollama pull, each watched as it progresses."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connections.models import Connection
from tests.browser.conftest import log_in
from tests.downloads import Worker, generated_catalog, install, save
from tests.file_server import FileServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def worker(tmp_path, settings, monkeypatch):
    root = tmp_path / "mirror"
    root.mkdir()
    mirror = FileServer(root).start()
    mirror.delay = 0.06  # 64 KB every 60 ms: a few seconds a file, long enough to watch
    settings.KODA_MODELS_DIR = tmp_path / "models"
    settings.KODA_MODEL_MIRROR_URL = mirror.url
    made = generated_catalog(root, {"tiny": 3_000_000, "base.en": 500_000})
    install(made, monkeypatch.setitem)
    save(made, tmp_path / "catalog.json")
    running = Worker(tmp_path / "catalog.json", settings, tmp_path / "worker.log")
    yield running
    running.stop()
    mirror.close()


def open_page(page, server, provider_id):
    log_in(page, server, "ada", PASSWORD)
    page.goto(f"{server.url}/providers/{provider_id}/")
    page.wait_for_function("window.htmx !== undefined")


def test_it_downloads_and_selects_a_whisper_variant(page, koda_server, operator, worker):
    open_page(page, koda_server, "whispercpp")
    row = page.locator('tr[data-file="tiny"]')
    row.get_by_role("button", name="Download").click()
    expect(row.locator("progress")).to_be_visible()
    expect(page.locator('tr[data-file="tiny"] [data-testid="progress"]')).to_contain_text(
        "%", timeout=15_000
    )
    expect(page.locator('tr[data-file="tiny"]')).to_have_attribute(
        "data-state", "installed", timeout=30_000
    )
    page.get_by_label("Use variant").select_option("tiny")
    page.get_by_role("button", name="Verify and use").click()
    expect(page.get_by_test_id("summary")).to_contain_text("tiny")
    expect(page.locator(".badge").first).to_have_text("Verified")
    assert Connection.objects.get(provider_id="whispercpp").config == {"variant": "tiny"}


def test_it_sets_up_kokoro_with_a_model_and_a_voice(page, koda_server, operator, worker):
    open_page(page, koda_server, "kokoro")
    for name in ("kokoro-v1.0.int8.onnx", "voices-v1.0.bin"):
        page.locator(f'tr[data-file="{name}"]').get_by_role("button", name="Download").click()
    for name in ("kokoro-v1.0.int8.onnx", "voices-v1.0.bin"):
        expect(page.locator(f'tr[data-file="{name}"]')).to_have_attribute(
            "data-state", "installed", timeout=30_000
        )
    page.reload()
    page.get_by_label("Voice").select_option("bf_emma")
    page.get_by_role("button", name="Verify and use").click()
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text("bf_emma")
    expect(summary).to_contain_text("kokoro-v1.0.int8.onnx")


def test_it_pulls_an_ollama_model(page, koda_server, operator, worker, fake_ollama):
    fake_ollama.server.pull_delay = 0.2
    from connections.services import connection_configure
    from koda.context import Context
    from providers.registry import PROVIDERS

    connection_configure(
        provider=PROVIDERS["ollama"],
        method="local_endpoint",
        data={"endpoint_url": fake_ollama.url},
        ctx=Context.command("tests"),
    )
    open_page(page, koda_server, "ollama")
    page.get_by_label("Model to pull").fill("tinyllama")
    page.get_by_role("button", name="Pull").click()
    pull = page.get_by_test_id("pull").first
    expect(pull).to_contain_text("tinyllama")
    expect(pull).to_contain_text("pulling", timeout=15_000)
    expect(page.locator('[data-model="tinyllama:latest"]')).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("pull").first).to_have_attribute("data-status", "succeeded")
