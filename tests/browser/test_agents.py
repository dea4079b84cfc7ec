"""The Agents pages in a real browser: create an agent, fix a policy the form refused, simulate a
provider down, make and revoke a runtime token, and disconnect a provider agents depend on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents.models import AgentToken, PolicyVersion
from connections.models import Connection
from tests.agents.conftest import ANTHROPIC_KEY, ANTHROPIC_MODELS, GROQ_KEY, GROQ_MODELS, connect
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def connected(operator):
    connect("groq", GROQ_MODELS, api_key=GROQ_KEY)
    connect("anthropic", ANTHROPIC_MODELS, api_key=ANTHROPIC_KEY)


def test_an_operator_routes_an_agent_and_sees_what_depends_on_a_provider(
    page, koda_server, connected
):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    log_in(page, koda_server, "ada", PASSWORD)
    page.goto(koda_server.url + "/agents/")
    page.get_by_label("Name").fill("Support bot")
    page.get_by_label("Id").fill("support-bot")
    page.get_by_role("button", name="Create agent").click()
    expect(page).to_have_url(koda_server.url + "/agents/support-bot/")

    page.get_by_label("Role 1", exact=True).fill("triage")
    page.get_by_label("Provider for role 1").select_option("groq")
    page.get_by_label("Model for role 1").fill("gpt-9")
    page.get_by_label("Fallback 1").select_option("anthropic")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("alert")).to_contain_text("The policy was not saved")
    expect(page.locator("#row-0-error")).to_have_text("Groq has not discovered 'gpt-9'.")
    expect(page.get_by_label("Model for role 1")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Model for role 1").fill("llama-3.1-8b-instant")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator(".messages")).to_contain_text("Saved: the policy is version 2.")
    triage = page.locator('#routing tr[data-role="triage"]')
    expect(triage.get_by_test_id("uses")).to_contain_text("Groq llama-3.1-8b-instant")
    assert PolicyVersion.objects.filter(agent__slug="support-bot").count() == 2

    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label("What if this were down").select_option("groq")
    expect(page.get_by_test_id("simulating")).to_contain_text("As if Groq were down")
    expect(triage.get_by_test_id("uses")).to_contain_text("Anthropic claude-sonnet-4-5")
    expect(page).to_have_url(koda_server.url + "/agents/support-bot/?without=groq")

    page.get_by_role("button", name="Create runtime token").click()
    token = page.get_by_test_id("new-agent-token").inner_text()
    assert token.startswith("kagent_") and AgentToken.objects.count() == 1
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#runtime-tokens")).to_contain_text("revoked")
    assert AgentToken.objects.get().revoked_at is not None

    page.goto(koda_server.url + "/providers/groq/")
    expect(page.get_by_test_id("dependents")).to_contain_text(
        "triage uses llama-3.1-8b-instant; moves to Anthropic claude-sonnet-4-5"
    )
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator("#wizard")).to_have_attribute("data-step", "1")
    assert "Support bot (triage) moves to Anthropic claude-sonnet-4-5" in dialogs[-1]
    assert not Connection.objects.filter(provider_id="groq").exists()


def test_the_agent_page_fits_a_phone(browser, koda_server, connected, operator):
    from agents.services import agent_create, policy_set
    from koda.context import Context

    agent = agent_create(slug="support-bot", name="Support bot", ctx=Context.command("tests"))
    policy_set(
        agent=agent,
        data={
            "roles": {"triage": {"provider": "groq", "model": "llama-3.1-8b-instant"}},
            "fallback_order": ["anthropic"],
        },
        ctx=Context.command("tests"),
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, koda_server, "ada", PASSWORD)
    for path in ("/agents/", "/agents/support-bot/", "/providers/groq/"):
        page.goto(koda_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    context.close()
