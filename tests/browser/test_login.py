"""Signing in from the wizard in a real browser: Claude login (open the link, approve, paste the
code back) and ChatGPT sign-in (enter the code at OpenAI; the page notices by itself), then the
defaults step; the sign-in panel fits a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connections.models import Connection
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def fake(fake_oauth):
    return fake_oauth


def test_claude_login_from_the_wizard(page, koda_server, operator, fake):
    log_in(page, koda_server, "ada", PASSWORD)
    page.goto(koda_server.url + "/providers/anthropic/")
    page.get_by_role("link", name="Claude login").click()
    page.get_by_role("button", name="Start sign-in").click()
    link = page.get_by_test_id("authorize-link")
    expect(link).to_have_attribute("target", "_blank")
    pasted = fake.paste_approve(link.get_attribute("href"))  # the operator approves at Claude

    page.get_by_label("Code from Anthropic").fill("stale-code#from-another-sign-in")
    page.get_by_role("button", name="Verify and save").click()
    expect(page.get_by_role("alert")).to_contain_text("belongs to another sign-in")

    page.get_by_label("Code from Anthropic").fill(pasted)
    page.get_by_role("button", name="Verify and save").click()
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text("ops@example.com")
    expect(page.get_by_test_id("method")).to_have_text("Claude login")
    page.get_by_label("Default model (required)").fill("claude-sonnet-4-5")
    page.get_by_role("button", name="Save default").click()
    expect(page.get_by_test_id("default-model")).to_have_text("claude-sonnet-4-5")
    assert Connection.objects.get(provider_id="anthropic").default_model == "claude-sonnet-4-5"


def test_chatgpt_sign_in_waits_for_approval_by_itself(page, koda_server, operator, fake):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, koda_server, "ada", PASSWORD)
    page.goto(koda_server.url + "/providers/openai/?method=login")
    page.get_by_role("button", name="Start sign-in").click()
    code = page.get_by_test_id("user-code")
    expect(code).to_be_visible()
    expect(page.get_by_test_id("waiting")).to_contain_text("Waiting for approval")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the sign-in panel is {overflow}px wider than a phone"
    fake.device_set(code.inner_text(), "approved")  # the operator approves at OpenAI
    expect(page.get_by_test_id("summary")).to_contain_text("ops@example.com", timeout=15_000)
    expect(page.get_by_test_id("summary")).to_contain_text("pro")
    assert Connection.objects.get(provider_id="openai").auth_method == "login"
