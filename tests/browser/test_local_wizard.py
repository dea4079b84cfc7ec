"""Connecting local runtimes in a real browser: Ollama on this machine, llama.cpp as a binary and
as a running server behind --api-key, switching methods in the wizard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connections.models import Connection
from tests.browser.conftest import log_in
from tests.fake_local import LLAMA_KEY, LLAMA_MODEL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


def open_provider(page, server, provider_id: str):
    log_in(page, server, "ada", PASSWORD)
    page.goto(f"{server.url}/providers/{provider_id}/")
    page.wait_for_function("window.htmx !== undefined")


def test_it_connects_ollama_on_this_machine(page, koda_server, operator, fake_ollama):
    open_provider(page, koda_server, "ollama")
    methods = page.get_by_role("navigation", name="How to connect Ollama")
    expect(methods.get_by_role("link", name="This machine's server")).to_have_attribute(
        "aria-current", "true"
    )
    expect(page.get_by_label("Endpoint URL")).to_have_value("http://127.0.0.1:11434")
    page.get_by_label("Endpoint URL").fill(fake_ollama.url)
    page.get_by_role("button", name="Verify and save").click()
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text("This machine's server")
    expect(summary).to_contain_text("0.12.3")
    page.get_by_label("Default model (required)").fill("llama3.2:latest")
    page.get_by_role("button", name="Save default").click()
    expect(page.locator("#wizard")).to_have_attribute("data-step", "3")
    assert Connection.objects.get().config == {"endpoint_url": fake_ollama.url}


def test_it_connects_llama_cpp_as_a_binary_then_as_a_server(
    page, koda_server, operator, fake_llama, tmp_path
):
    binary = tmp_path / "llama-server"
    binary.write_text("#!/bin/sh\necho 'version: 4589 (c6e8cc28)' >&2\n")
    binary.chmod(0o755)
    open_provider(page, koda_server, "llamacpp")
    page.get_by_role("link", name="The binary path").click()  # swapped in place by htmx
    expect(page).to_have_url(f"{koda_server.url}/providers/llamacpp/?method=local_runtime")
    page.get_by_label("llama-server path").fill(str(binary))
    page.get_by_role("button", name="Verify and save").click()
    expect(page.get_by_test_id("summary")).to_contain_text("4589 (c6e8cc28)")
    expect(page.get_by_test_id("method")).to_have_text("The binary path")

    # Switch to the running server: refused with a wrong key, the binary stays connected.
    page.get_by_role("link", name="Change").click()
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_role("link", name="A running server").click()
    page.get_by_label("Endpoint URL").fill(fake_llama.url)
    page.get_by_label("API key (if started with --api-key)").fill("wrong-key-0123456789")
    page.get_by_role("button", name="Verify and save").click()
    refusal = page.locator('.verification[data-outcome="invalid_credentials"]')
    expect(refusal).to_contain_text("Invalid API Key")  # llama-server's own body
    expect(page.locator("#verify-result")).to_contain_text("the current connection is still")
    assert Connection.objects.get().auth_method == "local_runtime"

    page.get_by_label("API key (if started with --api-key)").fill(LLAMA_KEY)
    page.get_by_role("button", name="Verify and save").click()
    expect(page.get_by_test_id("method")).to_have_text("A running server")
    expect(page.get_by_test_id("summary")).to_contain_text("…WXYZ")
    expect(page.locator("#default-model")).to_be_visible()
    stored = Connection.objects.get()
    assert stored.auth_method == "local_endpoint" and stored.model_ids == [LLAMA_MODEL]
    assert LLAMA_KEY not in page.content()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_provider_pages_fit_the_screen(browser, koda_server, operator, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        log_in(page, koda_server, "ada", PASSWORD)
        for path in ("/", "/providers/ollama/", "/providers/llamacpp/?method=local_runtime"):
            page.goto(koda_server.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, width, overflow)
    finally:
        context.close()
