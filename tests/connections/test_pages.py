"""The Providers page and provider pages."""

from __future__ import annotations

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
