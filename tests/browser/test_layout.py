"""Every page fits a phone (390 px) and a laptop (1280 px): no horizontal overflow, and status
pills stay inside their cards. Screenshots of failures go to test-artifacts/."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.services import agent_create, policy_set
from connections.models import HealthSnapshot, Status
from connections.rollups import summaries_rebuild
from koda.context import Context
from notifications.models import Channel, Delivery
from providers.models import CustomProvider
from providers.registry import PROVIDERS
from tests.browser.conftest import log_in
from tests.conftest import make_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PAGES = [
    "/",
    "/?capability=embedding",
    "/providers/openai/",
    "/providers/elevenlabs/",
    "/providers/openrouter/",
    "/providers/deepseek/",
    "/providers/whispercpp/",
    "/providers/kokoro/",
    "/providers/ollama/",
    "/providers/anthropic/?method=login",
    "/providers/lab-vllm/",
    "/providers/new/",
    "/operations/",
    "/agents/",
    "/agents/support-bot/",
    "/downloads/",
    "/tokens/",
    "/notifications/",
    "/notifications/7/",
    "/admin/",
    "/admin/koda/auditevent/",
]


@pytest.fixture
def house(operator):
    now = timezone.now()
    openai = make_connection(
        "openai",
        api_key="sk-proj-" + "a" * 40,
        status=Status.FAILING,
        last_outcome="invalid_credentials",
        last_message="OpenAI does not recognise this key: Incorrect API key provided: "
        "sk-proj-****aaaa. You can find your API key at https://platform.openai.com/account/"
        "api-keys.",
        last_remedy="Copy a current key from https://platform.openai.com/api-keys.",
        last_checked_at=now,
        failing_since=now,
        discovered_models=[{"id": "gpt-4.1-mini-2025-04-14-with-a-very-long-model-name"}],
    )
    make_connection("elevenlabs", api_key="sk_" + "e" * 48, status=Status.DEGRADED)
    make_connection("openrouter", api_key="sk-or-v1-" + "o" * 40, status=Status.VERIFIED)
    for i in range(20):
        HealthSnapshot.objects.create(
            provider_id="openai",
            connection=openai,
            ok=i % 3 != 0,
            outcome="ok" if i % 3 else "invalid_credentials",
            message="checked",
            trigger="sweep",
            latency_ms=100 + i * 17,
        )
    # A balance under its threshold: the provider page's credit figure, sparkline and form.
    deepseek = make_connection(
        "deepseek",
        api_key="sk-" + "d" * 32,
        status=Status.VERIFIED,
        last_outcome="ok",
        last_message="DeepSeek accepted the key and listed 2 models.",
        last_checked_at=now,
        credit_amount=1.25,
        credit_unit="USD",
        credit_checked_at=now,
        credit_threshold=5,
        credit_threshold_unit="amount",
    )
    for day, amount in enumerate((9.5, 6.0, 3.2, 1.25)):
        snapshot = HealthSnapshot.objects.create(
            provider_id="deepseek",
            connection=deepseek,
            ok=True,
            outcome="ok",
            message="checked",
            trigger="sweep",
            latency_ms=220,
            credit_amount=amount,
            credit_unit="USD",
        )
        HealthSnapshot.objects.filter(pk=snapshot.pk).update(
            created_at=now - timedelta(days=3 - day)
        )
    summaries_rebuild([openai.pk, deepseek.pk])  # written directly: as checks keep them
    CustomProvider.objects.create(
        id="lab-vllm", name="Lab vLLM", preset="vllm", base_url="http://127.0.0.1:8000/v1"
    )
    PROVIDERS.reload()
    hook = Channel.objects.create(
        pk=7,
        kind="webhook",
        name="On-call webhook with a rather long name for a phone",
        url_hint="https://hooks.example.com/…k0da",
        events=["failing", "degraded", "recovered", "rotation_refused", "key_age"],
        failing_since=now,
        last_error="answered 503: the receiver is down for maintenance until further notice",
    )
    Channel.objects.create(kind="email", name="Ops", to="ops@example.com, oncall@example.com")
    for attempt in (1, 2, 3):
        Delivery.objects.create(
            channel=hook,
            event_kind="failing",
            attempt=attempt,
            ok=False,
            status_code=503,
            error="answered 503: the receiver is down for maintenance until further notice",
            retry_at=now if attempt < 3 else None,
        )
    ctx = Context.command("tests")
    agent = agent_create(slug="support-bot", name="Support bot", ctx=ctx)
    policy_set(agent=agent, data={"fallback_order": ["openrouter", "openai"]}, ctx=ctx)


@pytest.mark.parametrize("width", [390, 800, 1024, 1280])
def test_every_page_fits_the_screen(page, koda_server, house, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, koda_server, "ada", "correct horse battery staple")
    os.makedirs("test-artifacts", exist_ok=True)
    too_wide, spilling = [], []
    for path in PAGES:
        response = page.goto(koda_server.url + path)
        assert response.status == 200, path
        if path == "/providers/deepseek/":  # the credit block is laid out, not missing
            assert page.get_by_test_id("credit").is_visible()
            assert page.locator("svg.credit-trend").count() == 1
            assert page.get_by_test_id("low-credit").count() >= 1
        if path == "/operations/":  # a provider's message gets the table's width, not a column's
            share = page.evaluate(
                "document.querySelector('[data-testid=operations-error]').offsetWidth"
                " / document.querySelector('table.operations').offsetWidth"
            )
            assert share > 0.6, f"the last error has {share:.0%} of the table at {width} px"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        name = f"test-artifacts/layout-{width}{path.replace('/', '_').replace('?', '-')}.png"
        if overflow > 0:
            too_wide.append(f"{path}: {overflow}px")
            page.screenshot(path=name, full_page=True)
        spill = page.evaluate(
            """() => [...document.querySelectorAll('.card .badge')].filter(b => {
                 const card = b.closest('.card').getBoundingClientRect();
                 const r = b.getBoundingClientRect();
                 return r.right > card.right + 0.5 || r.left < card.left - 0.5;
               }).map(b => b.textContent.trim())"""
        )
        if spill:
            spilling.append(f"{path}: {spill}")
            page.screenshot(path=name, full_page=True)
    assert not too_wide, f"wider than {width}px: {too_wide}"
    assert not spilling, f"status pills outside their card: {spilling}"
