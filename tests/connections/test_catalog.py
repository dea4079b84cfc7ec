"""The provider registry and the catalog endpoint (design §4, §7)."""

from __future__ import annotations

from django.utils import timezone

from connections.models import Connection, Status
from providers.registry import ALIASES, PROVIDERS, get_provider
from tests.conftest import make_connection

DESIGN_IDS = [
    "anthropic",
    "openai",
    "google",
    "ollama",
    "elevenlabs",
    "perplexity",
    "mistral",
    "qwen",
    "kimi",
    "groq",
    "deepseek",
    "xai",
    "openrouter",
    "llamacpp",
    "mlx",
    "kokoro",
    "whispercpp",
]


def test_it_registers_exactly_the_seventeen_design_providers():
    assert list(PROVIDERS) == DESIGN_IDS
    for provider_id, provider in PROVIDERS.items():
        assert provider.id == provider_id
        assert provider.name and provider.good_for and provider.docs_url.startswith("https://")
        assert provider.capabilities and provider.methods


def test_it_marks_every_api_key_field_secret():
    for provider in PROVIDERS.values():
        for method in provider.methods:
            for field in method.fields:
                assert field.secret == (field.name == "api_key"), (provider.id, field.name)


def test_it_resolves_aliases_to_stored_ids():
    assert {alias: get_provider(alias).id for alias in ALIASES} == {
        "claude": "anthropic",
        "codex": "openai",
        "gemini": "google",
    }
    assert get_provider("nope") is None


def test_it_lists_the_catalog_with_each_connection_status(api):
    make_connection(
        "groq",
        api_key="gsk_" + "s" * 40,
        status=Status.FAILING,
    )
    response = api.get("/connections/catalog")
    assert response.status_code == 200
    providers = response.json()["providers"]
    assert [p["id"] for p in providers] == DESIGN_IDS
    by_id = {p["id"]: p for p in providers}
    assert by_id["groq"]["connection"]["status"] == "failing"
    assert by_id["groq"]["connection"]["secret_hint"] == "gsk_…ssss"
    assert by_id["openai"]["connection"]["status"] == "not_configured"
    openai_fields = {f["name"]: f for f in by_id["openai"]["auth_methods"][0]["fields"]}
    assert set(openai_fields) == {"api_key", "base_url", "organization", "project"}
    assert openai_fields["api_key"]["secret"] is True
    assert "s" * 40 not in response.content.decode()
    assert set(by_id["elevenlabs"]["capabilities"]) == {"tts", "stt"}


def test_it_reads_the_catalog_in_constant_queries(api, django_assert_max_num_queries):
    for provider_id in DESIGN_IDS[:10]:
        make_connection(provider_id, api_key="k" * 30)
    PROVIDERS.reload()  # the custom providers, read every 2 s whatever the requests
    # auth (token and stamp, + touch) + one query for every connection, whatever their number
    with django_assert_max_num_queries(3):
        first = api.get("/connections/catalog").json()
    # Nothing changed: the token lookup alone, which reads the stamp in the same statement (the
    # answer is kept per process, encoded once).
    with django_assert_max_num_queries(1):
        assert api.get("/connections/catalog").json() == first


def test_the_kept_catalog_follows_every_change(api):
    groq = make_connection("groq", api_key="gsk_" + "c" * 48, status=Status.VERIFIED)

    def states() -> dict:
        answer = api.get("/connections/catalog").json()
        return {p["id"]: p["connection"] for p in answer["providers"]}

    assert states()["groq"]["status"] == "verified"
    Connection.objects.filter(pk=groq.pk).update(status="failing")  # bulk, not save()
    assert states()["groq"]["status"] == "failing"
    groq.refresh_from_db()
    groq.last_message, groq.last_checked_at = "new message", timezone.now()
    groq.save()
    assert states()["groq"]["last_check"]["message"] == "new message"
    api.call(
        "POST",
        "/providers",
        {
            "id": "lab-vllm",
            "name": "Lab vLLM",
            "preset": "vllm",
            "base_url": "http://127.0.0.1:8000/v1",
        },
    )
    assert "lab-vllm" in states()
    api.call("DELETE", "/providers/lab-vllm")
    assert "lab-vllm" not in states()
    Connection.objects.filter(pk=groq.pk).delete()
    assert states()["groq"]["status"] == "not_configured"


def test_a_connection_state_is_one_statement_and_follows_every_change(
    api, cookie_api, django_assert_num_queries
):
    """The state answers from the per-process copy of the connections, checked against the
    stamp that the token lookup reads in the same statement; any write shows at once."""
    groq = make_connection("groq", api_key="gsk_" + "t" * 48, status=Status.VERIFIED)
    api.get("/providers/groq/connection")  # the first read loads the copy (and touches the token)
    with django_assert_num_queries(1):
        state = api.get("/providers/groq/connection").json()["connection"]
    assert state["status"] == "verified" and state["secret_hint"] == groq.secret_hint
    assert "t" * 48 not in str(state)

    def status() -> str:
        return api.get("/providers/groq/connection").json()["connection"]["status"]

    Connection.objects.filter(pk=groq.pk).update(status="failing")  # bulk, not save()
    assert status() == "failing"
    groq.refresh_from_db()
    groq.last_message, groq.last_checked_at = "a new message", timezone.now()
    groq.save()
    state = api.get("/providers/groq/connection").json()["connection"]
    assert state["last_check"]["message"] == "a new message"
    # The dashboard's session reads the same (its stamp read in a statement of its own).
    assert cookie_api.get("/providers/groq/connection").json()["connection"] == state
    Connection.objects.filter(pk=groq.pk).delete()
    assert status() == "not_configured"
    assert cookie_api.get("/providers/groq/connection").json()["connection"]["status"] == (
        "not_configured"
    )
