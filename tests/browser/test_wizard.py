"""The provider wizard in a real browser against a provider faked by a real HTTP server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connections.models import Connection
from tests.browser.conftest import log_in
from tests.fake_provider import FakeProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def fake(settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True  # the fake provider listens on 127.0.0.1
    provider = FakeProvider()
    yield provider
    provider.close()


def open_groq(page, server):
    log_in(page, server, "ada", PASSWORD)
    page.goto(server.url + "/providers/groq/")
    page.wait_for_function("window.htmx !== undefined")


def submit_key(page, key: str, base_url: str | None = None):
    page.get_by_label("API key").fill(key)
    if base_url is not None:
        page.get_by_label("Base URL").fill(base_url)
    page.get_by_role("button", name="Verify and save").click()


def test_it_connects_a_provider_after_explaining_a_failure(page, koda_server, operator, fake):
    open_groq(page, koda_server)
    expect(page.get_by_label("Base URL")).to_have_value("https://api.groq.com/openai/v1")
    submit_key(page, "gsk_typo_0123456789abcdef", fake.base_url)
    failure = page.locator('.verification[data-outcome="invalid_credentials"]')
    expect(failure).to_be_visible()
    expect(failure).to_contain_text("Invalid API Key")  # the raw error
    expect(failure).to_contain_text("What to do:")
    expect(failure).to_contain_text("401")
    # The form kept what was typed (it was not re-rendered), and nothing was stored.
    expect(page.get_by_label("Base URL")).to_have_value(fake.base_url)
    expect(page.get_by_label("API key")).to_have_value("gsk_typo_0123456789abcdef")
    assert not Connection.objects.exists()

    page.get_by_label("API key").fill("gsk_good_0123456789abcdef")
    page.get_by_role("button", name="Verify and save").click()
    expect(page.locator("#wizard")).to_have_attribute("data-step", "2")
    expect(page.get_by_test_id("summary")).to_contain_text("gsk_…cdef")
    model = page.get_by_label("Default model (required)")
    model.fill("llama-3.3-70b-versatile")
    page.get_by_role("button", name="Save default").click()
    expect(page.locator("#wizard")).to_have_attribute("data-step", "3")
    expect(page.get_by_test_id("default-model")).to_have_text("llama-3.3-70b-versatile")
    expect(page.locator(".badge")).to_have_text("Verified")
    assert "gsk_good_0123456789abcdef" not in page.content()
    assert Connection.objects.get().default_model == "llama-3.3-70b-versatile"


def test_it_keeps_the_old_key_when_a_replacement_fails(page, koda_server, operator, fake):
    open_groq(page, koda_server)
    submit_key(page, "gsk_good_0123456789abcdef", fake.base_url)
    expect(page.get_by_test_id("summary")).to_be_visible()
    page.get_by_role("link", name="Replace key").click()
    page.wait_for_function("window.htmx !== undefined")
    expect(page.get_by_text("stays in use until the new one verifies")).to_be_visible()
    submit_key(page, "gsk_broke_0123456789")
    failure = page.locator('.verification[data-outcome="billing"]')
    expect(failure).to_contain_text("tokens per day")
    expect(page.locator("#verify-result")).to_contain_text("the current key (gsk_…cdef) is still")
    assert Connection.objects.get().secrets["api_key"] == "gsk_good_0123456789abcdef"
    page.goto(koda_server.url + "/providers/groq/")
    expect(page.locator(".badge")).to_have_text("Verified")


def test_it_shows_progress_while_verifying_and_works_by_keyboard(page, koda_server, operator, fake):
    open_groq(page, koda_server)
    page.get_by_label("Base URL").fill(fake.base_url)
    page.get_by_label("API key").focus()
    page.keyboard.type("gsk_slow_0123456789abcdef")
    page.keyboard.press("Enter")  # submit from the keyboard
    expect(page.locator("#verify-progress")).to_be_visible()
    expect(page.get_by_role("button", name="Verify and save")).to_be_disabled()
    expect(page.get_by_test_id("summary")).to_be_visible(timeout=10_000)
    page.get_by_role("button", name="Verify now").click()
    expect(page.locator('.verification[data-outcome="ok"]')).to_be_visible(timeout=10_000)


def test_configure_verify_and_defaults_with_the_keyboard_alone(page, koda_server, operator, fake):
    """Tab, type and Enter only; focus is always visible and lands where the next step is."""
    open_groq(page, koda_server)

    def tab_to(name: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "document.activeElement.labels?.[0]?.textContent.trim() ||"
                " document.activeElement.textContent.trim()"
            )
            if focused.startswith(name):
                outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", f"no visible focus on {name}"
                return
        raise AssertionError(f"Tab never reached {name!r}")

    tab_to("API key")
    page.keyboard.type("gsk_good_0123456789abcdef")
    tab_to("Base URL")
    page.keyboard.press("Control+A")
    page.keyboard.type(fake.base_url)
    page.keyboard.press("Enter")  # submits the form
    expect(page.get_by_test_id("summary")).to_be_visible()
    tab_to("Default model")
    page.keyboard.type("llama-3.1-8b-instant")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("notice")).to_have_text("Default model set to llama-3.1-8b-instant.")
    assert Connection.objects.get().default_model == "llama-3.1-8b-instant"
