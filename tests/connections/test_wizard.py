"""The wizard's server side: full pages without JavaScript, fragments for HTMX."""

from __future__ import annotations

import pytest
import responses
from django.utils import timezone

from connections.models import Connection
from providers.registry import BUILTINS, PROVIDERS
from tests.conftest import make_connection
from tests.fake_provider import FakeProvider

HTMX = {"HX-Request": "true"}


@pytest.fixture
def fake(settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    provider = FakeProvider()
    yield provider
    provider.close()


def configure(client, key, base_url, htmx=False, **extra):
    return client.post(
        "/providers/groq/configure",
        {"api_key": key, "base_url": base_url, **extra},
        headers=HTMX if htmx else {},
    )


def test_it_shows_exactly_the_provider_fields_with_the_key_masked(operator_client):
    html = operator_client.get("/providers/openai/").content.decode()
    for name in ("api_key", "base_url", "organization", "project"):
        assert f'name="{name}"' in html
    assert 'type="password" name="api_key"' in html
    assert 'value="https://api.openai.com/v1"' in html
    groq = operator_client.get("/providers/groq/").content.decode()
    assert 'name="organization"' not in groq


def test_it_explains_a_refused_key_in_place_and_keeps_nothing(operator_client, fake):
    response = configure(operator_client, "gsk_wrong_key_0123456789", fake.base_url, htmx=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="verify-result"')  # only the result panel
    assert 'data-outcome="invalid_credentials"' in html
    assert "Invalid API Key" in html and "What to do:" in html and "401" in html
    assert f"GET {fake.base_url}/models" in html
    assert "gsk_wrong_key_0123456789" not in html
    assert not Connection.objects.exists()


def test_it_moves_to_defaults_after_a_good_key(operator_client, fake):
    response = configure(operator_client, "gsk_good_0123456789abcdef", fake.base_url, htmx=True)
    assert response["HX-Retarget"] == "#wizard" and response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert 'id="wizard"' in html and 'data-step="2"' in html
    assert 'list="model-options"' in html and "llama-3.3-70b-versatile" in html
    assert "gsk_good_0123456789abcdef" not in html and "gsk_…cdef" in html
    response = operator_client.post(
        "/providers/groq/default-model", {"model": "llama-3.3-70b-versatile"}, headers=HTMX
    )
    assert 'data-step="3"' in response.content.decode()
    assert Connection.objects.get().default_model == "llama-3.3-70b-versatile"


def test_it_works_without_javascript(operator_client, fake):
    refused = configure(operator_client, "gsk_nope_0123456789", fake.base_url)
    assert refused.status_code == 200 and b"<html" in refused.content
    assert b'data-outcome="invalid_credentials"' in refused.content
    assert fake.base_url.encode() in refused.content  # the non-secret fields stay filled
    saved = configure(operator_client, "gsk_good_0123456789abcdef", fake.base_url)
    assert saved.status_code == 302 and saved["Location"] == "/providers/groq/"
    bad_model = operator_client.post("/providers/groq/default-model", {"model": "gpt-4o"})
    assert b"Pick one of the models" in bad_model.content
    assert Connection.objects.get().default_model == ""


def test_it_shows_field_errors_without_calling_the_provider(operator_client, fake):
    response = configure(operator_client, "has a space", "ftp://x", htmx=True)
    html = response.content.decode()
    assert "spaces or invisible characters" in html and "http(s) URL" in html


def test_it_reverifies_and_disconnects(operator_client, fake):
    configure(operator_client, "gsk_good_0123456789abcdef", fake.base_url)
    page = operator_client.post("/providers/groq/verify", headers=HTMX).content.decode()
    assert 'data-outcome="ok"' in page and "Verify now" in page and "Replace key" in page
    response = operator_client.post("/providers/groq/disconnect", headers=HTMX)
    assert response["HX-Redirect"] == "/providers/groq/"
    assert not Connection.objects.exists()


def test_it_keeps_the_old_key_when_a_replacement_is_refused(operator_client, fake):
    configure(operator_client, "gsk_good_0123456789abcdef", fake.base_url)
    page = operator_client.get("/providers/groq/?replace=1").content.decode()
    assert "stays in use until the new one verifies" in page
    response = configure(
        operator_client, "gsk_broke_0123456789", fake.base_url, htmx=True, replacing="1"
    )
    html = response.content.decode()
    assert 'data-outcome="billing"' in html and "gsk_…cdef" in html
    assert Connection.objects.get().secrets["api_key"] == "gsk_good_0123456789abcdef"


def test_it_says_how_many_seconds_ago_a_key_was_checked_and_verified_only_once(
    operator_client, fake
):
    configure(operator_client, "gsk_good_0123456789abcdef", fake.base_url)
    html = operator_client.get("/providers/groq/").content.decode()
    assert "checked 0 seconds ago" in html or "checked 1 second ago" in html
    summary = html[html.index('data-testid="summary"') : html.index("Set defaults")]
    assert summary.lower().count("verified") <= 1, summary


def test_verify_now_says_what_changed_and_a_failing_page_shows_the_remedy(operator_client, fake):
    configure(operator_client, "gsk_good_0123456789abcdef", fake.base_url)
    page = operator_client.post("/providers/groq/verify", headers=HTMX).content.decode()
    assert "Checked just now: still verified." in page
    Connection.objects.update(
        status="failing",
        last_outcome="invalid_credentials",
        last_message="Groq does not recognise this key: Invalid API Key",
        last_remedy="Copy a current key from https://console.groq.com/keys.",
        failing_since=timezone.now(),
    )
    html = operator_client.get("/providers/groq/").content.decode()
    assert 'data-testid="last-error"' in html and "What to do:" in html
    assert "console.groq.com/keys" in html and "checked" not in html.split("Connection")[0]
    fresh = operator_client.post("/providers/groq/verify", headers=HTMX).content.decode()
    assert "Checked just now: failing → verified." in fresh


def test_an_unknown_default_model_keeps_what_was_typed_and_a_known_one_says_so(
    operator_client, fake
):
    configure(operator_client, "gsk_good_0123456789abcdef", fake.base_url)
    typo = operator_client.post(
        "/providers/groq/default-model", {"model": "llama-3.1-8b-instnat"}, headers=HTMX
    ).content.decode()
    assert 'value="llama-3.1-8b-instnat"' in typo and 'aria-invalid="true"' in typo
    saved = operator_client.post(
        "/providers/groq/default-model", {"model": "llama-3.1-8b-instant"}, headers=HTMX
    ).content.decode()
    assert "Default model set to llama-3.1-8b-instant." in saved


def test_an_odd_answer_in_debug_mode_is_a_verdict_not_an_error_page(
    operator_client, settings, monkeypatch
):
    """Under KODA_DEBUG an exception would render Django's debug page, locals and all, with the
    decrypted key in them. Whatever the provider answers, the page is the wizard's verdict."""
    settings.DEBUG = True
    key = "gsk_DebugPageKey0123456789abcdefABCDEF"
    make_connection("groq", api_key=key)

    def crash(body):
        raise LookupError(f"unknown encoding while reading {key}")

    monkeypatch.setattr(type(PROVIDERS["groq"]), "_models", staticmethod(crash))
    with responses.RequestsMock() as rsps:
        rsps.add(
            "GET",
            "https://api.groq.com/openai/v1/models",
            body=b'{"data": []}',
            headers={"Content-Type": "application/json; charset=bogus"},
        )
        response = operator_client.post("/providers/groq/verify")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-outcome="unexpected_response"' in html
    assert key not in html and key[4:16] not in html


@pytest.mark.parametrize("provider_id", [p for p in BUILTINS if p not in ("kokoro", "whispercpp")])
def test_every_provider_page_offers_a_way_to_connect(operator_client, provider_id):
    html = operator_client.get(f"/providers/{provider_id}/").content.decode()
    assert 'name="auth_method"' in html and "Verify and save" in html
    for method in PROVIDERS[provider_id].methods:
        if method.id.takes_input:
            assert method.label in html.replace("&#x27;", "'")


@pytest.mark.parametrize(("provider_id", "rows"), [("kokoro", 4), ("whispercpp", 30)])
def test_the_model_download_providers_show_their_catalog(operator_client, provider_id, rows):
    html = operator_client.get(f"/providers/{provider_id}/").content.decode()
    assert 'data-testid="model-files"' in html and 'data-testid="not-built"' not in html
    assert html.count('data-state="available"') == rows
    assert 'name="auth_method"' not in html
