"""The Providers page and provider pages."""

from __future__ import annotations

import re

from connections.models import Status
from providers.registry import PROVIDERS
from tests.conftest import make_connection


def test_it_shows_every_provider_as_a_card_with_its_badge(operator_client):
    make_connection(
        "mistral",
        api_key="m" * 32,
        status=Status.DEGRADED,
    )
    response = operator_client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="card provider-card"') == len(PROVIDERS)
    assert 'data-provider="mistral"' in html and 'data-status="degraded"' in html
    assert html.count('data-status="not_configured"') == len(PROVIDERS) - 1
    assert "1 of 17 connected" in html
    assert "m" * 32 not in html


def test_it_wires_htmx_and_the_csrf_header(operator_client):
    html = operator_client.get("/").content.decode()
    assert "js/htmx.min" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_it_shows_a_provider_page_and_404s_an_unknown_one(operator_client):
    response = operator_client.get("/providers/openai/")
    assert response.status_code == 200 and b"OpenAI" in response.content
    alias = operator_client.get("/providers/gemini/")
    assert alias.status_code == 302 and alias["Location"] == "/providers/google/"
    assert operator_client.get("/providers/nope/").status_code == 404


def test_connected_providers_come_first_with_their_default_model_and_last_check(operator_client):
    from django.utils import timezone

    make_connection(
        "mistral",
        api_key="m" * 32,
        status=Status.VERIFIED,
        default_model="mistral-large-latest",
        last_outcome="ok",
        last_checked_at=timezone.now(),
    )
    make_connection("groq", api_key="short-key", status=Status.FAILING)
    html = operator_client.get("/").content.decode()
    order = list(re.findall(r'data-provider="([a-z-]+)"', html))
    assert order[:2] == ["mistral", "groq"]  # connected first, registry order among them
    assert "mistral-large-latest" in html and "ok · <time" in html and "seconds ago</time>" in html
    assert "… (9 characters)" in html  # a short key still gets a hint that says something


def test_the_capability_filter_works_with_and_without_htmx(operator_client):
    html = operator_client.get("/?capability=tts").content.decode()
    shown = set(re.findall(r'class="card provider-card" data-provider="([a-z-]+)"', html))
    assert shown == {p.id for p in PROVIDERS.values() if "tts" in p.capabilities}
    assert "<html" in html
    part = operator_client.get(
        "/?capability=stt", headers={"HX-Request": "true", "HX-Target": "provider-cards"}
    )
    fragment = part.content.decode()
    assert "<html" not in fragment and 'data-capability="stt"' in fragment
    assert 'data-provider="whispercpp"' in fragment and 'data-provider="anthropic"' not in fragment
