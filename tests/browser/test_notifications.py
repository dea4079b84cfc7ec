"""Add a webhook channel in a real browser: its signing secret shown once, a test sent to a
real receiver on 127.0.0.1 and signed with that secret, the delivery log, removal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from notifications.models import Channel
from tests.browser.conftest import log_in
from tests.notifications.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_webhook_is_added_tested_and_removed(page, koda_server, operator, settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    receiver = Receiver()
    try:
        log_in(page, koda_server, "ada", "correct horse battery staple")
        page.get_by_role("link", name="Notifications").click()
        expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
        page.get_by_label("Kind").select_option("webhook")
        page.get_by_label("Name").fill("On-call")
        page.get_by_label("URL (webhook or Slack)").fill(receiver.url())
        page.get_by_label("A key is older than the rotation age").uncheck()
        page.get_by_role("button", name="Add channel").click()
        secret = page.get_by_test_id("signing-secret").inner_text().strip()
        assert len(secret) >= 40
        channel = Channel.objects.get()
        assert "key_age" not in channel.events and "failing" in channel.events
        page.get_by_role("link", name="On-call").click()
        assert secret not in page.content() and receiver.url() not in page.content()
        page.get_by_role("button", name="Send a test").click()
        expect(page.get_by_role("status").first).to_contain_text("Test notification sent")
        expect(page.get_by_test_id("delivery-log")).to_contain_text("delivered")
        assert receiver.received[0].signed_by(secret)
        page.wait_for_function("window.htmx !== undefined")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Remove channel").click()
        expect(page.get_by_test_id("channels")).to_contain_text("No channels yet")
        assert not Channel.objects.exists()
    finally:
        receiver.close()
