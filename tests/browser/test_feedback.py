"""What the dashboard says after each action, in a real browser: verify now (what changed),
a new default, a disconnect; the Providers filter; Operations' time ranges; the admin's
branding and the Audit link; the favicon."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from connections.models import HealthSnapshot, Status
from connections.rollups import summaries_rebuild
from tests.browser.conftest import log_in
from tests.conftest import make_connection
from tests.fake_provider import FakeProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def groq(settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    fake = FakeProvider()
    connection = make_connection(
        "groq",
        api_key="gsk_good_0123456789abcdef",
        base_url=fake.base_url,
        status=Status.FAILING,
        last_outcome="invalid_credentials",
        last_message="Groq does not recognise this key: Invalid API Key",
        last_remedy="Copy a current key from https://console.groq.com/keys.",
        last_checked_at=timezone.now(),
        failing_since=timezone.now(),
    )
    HealthSnapshot.objects.create(
        provider_id="groq",
        connection=connection,
        ok=False,
        outcome="invalid_credentials",
        message="m",
        trigger="sweep",
        latency_ms=80,
    )
    summaries_rebuild([connection.pk])  # written directly: what checks keep as they are recorded
    yield fake
    fake.close()


def test_the_wizard_says_what_each_action_did(page, koda_server, operator, groq):
    log_in(page, koda_server, "ada", PASSWORD)
    page.goto(koda_server.url + "/providers/groq/")
    page.wait_for_function("window.htmx !== undefined")
    expect(page.get_by_test_id("last-error")).to_contain_text("What to do:")
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_test_id("notice")).to_have_text(
        "Checked just now: failing → verified; 3 new models."
    )
    page.get_by_label("Default model (required)").fill("llama-3.3-70b-versatile")
    page.get_by_role("button", name="Save default").click()
    expect(page.get_by_test_id("notice")).to_have_text(
        "Default model set to llama-3.3-70b-versatile."
    )
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator(".messages")).to_contain_text("Groq disconnected")


def test_filters_ranges_admin_and_favicon(page, koda_server, operator, groq):
    log_in(page, koda_server, "ada", PASSWORD)
    page.goto(koda_server.url + "/")
    page.wait_for_function("window.htmx !== undefined")
    page.locator(".filters").get_by_role("link", name="tts").click()
    expect(page.locator("#provider-cards")).to_have_attribute("data-capability", "tts")
    expect(page).to_have_url(koda_server.url + "/?capability=tts")
    assert page.locator('[data-provider="groq"]').count() == 0
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert page.request.get(koda_server.url + icon).status == 200

    page.goto(koda_server.url + "/operations/")
    page.get_by_role("link", name="Last 7 d").click()
    expect(page.locator("#operations")).to_have_attribute("data-range", "7d")
    expect(page.get_by_test_id("incidents")).to_contain_text("ongoing")
    expect(page.get_by_test_id("uptime").first).to_contain_text("24 h: 0.0 %")

    page.get_by_role("link", name="Audit").click()
    expect(page).to_have_url(koda_server.url + "/admin/koda/auditevent/")
    expect(page.locator("#site-name")).to_contain_text("Koda control plane")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
