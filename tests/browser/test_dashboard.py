"""Log in through a real browser and look at the Providers page and API tokens."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connections.models import Status
from koda.models import ApiToken
from tests.browser.conftest import log_in
from tests.conftest import make_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_logs_in_and_shows_provider_cards_with_badges(page, koda_server, operator):
    make_connection(
        "groq",
        api_key="gsk_" + "g" * 40,
        status=Status.VERIFIED,
    )
    page.goto(koda_server.url + "/")
    expect(page).to_have_url(koda_server.url + "/login/?next=/")
    log_in(page, koda_server, "ada", "correct horse battery staple")
    expect(page.get_by_role("heading", name="Providers")).to_be_visible()
    expect(page.locator(".provider-card")).to_have_count(17)
    groq = page.locator('[data-provider="groq"]')
    expect(groq.locator(".badge")).to_have_text("Verified")
    expect(page.locator('[data-provider="openai"] .badge')).to_have_text("Not connected")
    cookie = next(c for c in page.context.cookies() if c["name"] == "koda_operator_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "g" * 40 not in page.content()


def test_it_refuses_a_wrong_password(page, koda_server, operator):
    log_in(page, koda_server, "ada", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("do not match")


def test_it_creates_a_token_in_place_and_shows_it_once(page, koda_server, operator):
    log_in(page, koda_server, "ada", "correct horse battery staple")
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label("Name").fill("deploy-bot")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token")
    expect(token).to_contain_text("koda_")
    plaintext = token.inner_text().strip()
    assert ApiToken.objects.get().prefix == plaintext[:9]
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # in place
    page.goto(koda_server.url + "/tokens/")
    expect(page.get_by_text("deploy-bot")).to_be_visible()
    assert plaintext not in page.content()
    # The API answers that token.
    response = page.request.get(
        koda_server.url + "/api/control-plane/connections/catalog",
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert response.status == 200


def test_a_token_is_copied_the_form_emptied_and_revoking_asks_first(page, koda_server, operator):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=koda_server.url)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, koda_server, "ada", "correct horse battery staple")
    page.goto(koda_server.url + "/tokens/")
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label("Name").fill("ci-bot")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token")
    expect(token).to_contain_text("koda_")
    expect(page.get_by_label("Name")).to_have_value("")  # ready for the next one
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token.inner_text().strip()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the tokens page is {overflow}px wider than a phone"

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("button", name="Revoke")).to_be_visible()
    assert asked and "ci-bot" in asked[0]
    assert ApiToken.objects.get(name="ci-bot").revoked_at is None  # dismissed: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator(".messages")).to_contain_text("revoked")
    assert ApiToken.objects.get(name="ci-bot").revoked_at is not None
