"""Operations in a real browser: a failing key shows up, Verify now fixes the row in place."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from connections.models import Status
from tests.browser.conftest import log_in
from tests.conftest import make_connection
from tests.fake_provider import FakeProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_a_failing_key_and_verifies_the_row_in_place(
    page, koda_server, operator, settings
):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    fake = FakeProvider()
    try:
        make_connection(
            "groq",
            api_key="gsk_good_0123456789",
            base_url=fake.base_url,
            status=Status.FAILING,
            verified_at=timezone.now(),
            failing_since=timezone.now(),
            last_outcome="invalid_credentials",
            last_message="Groq does not recognise this key",
            last_remedy="Copy a current key from https://console.groq.com/keys",
            last_checked_at=timezone.now(),
        )
        log_in(page, koda_server, "ada", "correct horse battery staple")
        expect(page.get_by_test_id("failing-banner")).to_contain_text("Groq")  # its display name
        page.get_by_role("link", name="Operations", exact=True).click()
        page.wait_for_function("window.htmx !== undefined")
        row = page.locator("#row-groq")
        expect(row.locator(".badge")).to_have_text("Failing")
        expect(row).to_contain_text("Copy a current key")
        row.get_by_role("button", name="Verify now").click()
        expect(page.locator("#row-groq .badge")).to_have_text("Verified")
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        page.reload()
        expect(page.get_by_test_id("failing-banner")).to_have_count(0)
    finally:
        fake.close()
