"""The wizard's sign-in method, as htmx and a browser without JavaScript drive it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from connections.models import Connection, LoginSession
from tests.connections.test_login import fake  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def authorize_url(html: str) -> str:
    match = re.search(r'href="([^"]+)"[^>]*data-testid="authorize-link"', html)
    assert match, html
    return match.group(1).replace("&amp;", "&")


def test_the_anthropic_page_offers_claude_login_beside_the_api_key(operator_client, fake):  # noqa: F811
    page = operator_client.get("/providers/anthropic/").content.decode()
    assert "Claude login" in page and 'href="?method=login"' in page
    page = operator_client.get("/providers/anthropic/?method=login").content.decode()
    assert "Start sign-in" in page and 'name="api_key"' not in page


def test_claude_login_in_the_wizard_start_paste_then_defaults(operator_client, fake):  # noqa: F811
    panel = operator_client.post("/providers/anthropic/login/start", headers=HX).content.decode()
    assert 'data-status="pending"' in panel
    url = authorize_url(panel)
    session = LoginSession.objects.get(status="pending")
    # A code from elsewhere: the panel says so and still takes the right one.
    wrong = operator_client.post(
        f"/providers/anthropic/login/{session.id}/code", {"code": "abc#nope"}, headers=HX
    ).content.decode()
    assert 'data-reason="state_mismatch"' in wrong and 'name="code"' in wrong
    done = operator_client.post(
        f"/providers/anthropic/login/{session.id}/code",
        {"code": fake.paste_approve(url)},
        headers=HX,
    )
    assert done["HX-Retarget"] == "#wizard"
    html = done.content.decode()
    assert "Signed in as" in html and "ops@example.com" in html and "claude_max" in html
    assert "Set defaults" in html and "claude-sonnet-4-5" in html
    assert 'data-testid="token-expiry"' in html
    assert Connection.objects.get(provider_id="anthropic").auth_method == "login"


def test_a_refused_sign_in_shows_the_verdict_and_keeps_nothing(operator_client, fake):  # noqa: F811
    fake.claude_code_only = True
    panel = operator_client.post("/providers/anthropic/login/start", headers=HX).content.decode()
    session = LoginSession.objects.get(status="pending")
    answer = operator_client.post(
        f"/providers/anthropic/login/{session.id}/code",
        {"code": fake.paste_approve(authorize_url(panel))},
        headers=HX,
    ).content.decode()
    assert "restricts this sign-in to Claude Code" in answer
    assert "Nothing was saved" in answer and "Start again" in answer
    assert not Connection.objects.exists()


def test_chatgpt_sign_in_waits_by_itself_then_shows_the_result(operator_client, fake):  # noqa: F811
    panel = operator_client.post("/providers/openai/login/start", headers=HX).content.decode()
    session = LoginSession.objects.get(status="pending")
    assert session.user_code in panel
    assert 'hx-trigger="every 1s"' in panel and f"/providers/openai/login/{session.id}/" in panel
    waiting = operator_client.get(f"/providers/openai/login/{session.id}/", headers=HX)
    assert "Waiting for approval" in waiting.content.decode()
    fake.device_set(session.user_code, "approved")
    LoginSession.objects.filter(pk=session.pk).update(next_poll_at=None)
    done = operator_client.get(f"/providers/openai/login/{session.id}/", headers=HX)
    assert done["HX-Retarget"] == "#wizard"
    assert "gpt-5-codex" in done.content.decode()


def test_without_javascript_the_sign_in_works_with_whole_pages(operator_client, fake):  # noqa: F811
    page = operator_client.post("/providers/openai/login/start").content.decode()
    assert "<html" in page and "Check now" in page
    session = LoginSession.objects.get(status="pending")
    fake.device_set(session.user_code, "approved")
    LoginSession.objects.filter(pk=session.pk).update(next_poll_at=None)
    answer = operator_client.get(f"/providers/openai/login/{session.id}/")
    assert answer.status_code == 302 and answer["Location"] == "/providers/openai/"
    assert Connection.objects.get(provider_id="openai").status == "verified"


def test_sign_in_routes_refuse_providers_without_one_and_strangers(operator_client, fake):  # noqa: F811
    assert operator_client.post("/providers/groq/login/start").status_code == 404
    assert Client().post("/providers/anthropic/login/start").status_code == 302  # to log in
    assert not LoginSession.objects.exists()


def test_admin_lists_sign_ins_without_their_secrets(operator_client, fake):  # noqa: F811
    operator_client.post("/providers/anthropic/login/start")
    session = LoginSession.objects.get()
    listing = operator_client.get("/admin/connections/loginsession/").content.decode()
    detail = operator_client.get(f"/admin/connections/loginsession/{session.pk}/change/")
    html = listing + detail.content.decode()
    assert "anthropic" in listing and detail.status_code == 200
    for value in session.secrets.values():
        assert value not in html
