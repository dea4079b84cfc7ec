"""Delivery: retries by the real task worker against a receiver that fails twice, a channel
marked failing when every attempt failed, the egress policy, Slack's and email's shape, email
through Django's locmem backend and through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest
import responses
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connections

from connections import services
from connections.models import Status
from koda.context import Context
from notifications import services as channels
from notifications.delivery import deliver
from notifications.models import Channel, Delivery, Event
from providers.registry import PROVIDERS
from tests.conftest import make_connection
from tests.fake_provider import INVALID
from tests.worker import TaskWorker

pytestmark = pytest.mark.django_db(transaction=True)
GROQ = "https://api.groq.com/openai/v1/models"
KEY = "gsk_" + "D3l1very" * 6


def channel(kind: str, events=None, **destination) -> Channel:
    return channels.channel_save(
        data={"kind": kind, "name": f"{kind} channel", "events": events, **destination},
        ctx=Context.command("tests"),
    ).channel


def failing_check(receiver) -> None:
    """A sweep that finds Groq's key revoked: raises `failing`."""
    with responses.RequestsMock() as mock:
        mock.add_passthru(receiver.url("") if receiver else "http://127.0.0.1")
        mock.add("GET", GROQ, json=INVALID, status=401)
        services.connection_verify(provider=PROVIDERS["groq"], ctx=Context.sweep())


@pytest.fixture
def groq():
    return make_connection("groq", api_key=KEY, status=Status.VERIFIED)


def test_the_worker_retries_a_failed_delivery_until_the_receiver_answers(
    groq, receiver, settings, tmp_path
):
    receiver.statuses = [500, 503]
    channel("webhook", url=receiver.url())
    log = tmp_path / "worker.log"
    worker = TaskWorker(log, KODA_ALLOW_PRIVATE_BASE_URLS="true", KODA_NOTIFY_RETRY_SECONDS="0.2")
    try:
        failing_check(receiver)
        deadline = time.monotonic() + 60
        while Delivery.objects.filter(ok=True).count() < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
        connections.close_all()
    attempts = list(
        Delivery.objects.order_by("attempt").values_list("attempt", "ok", "status_code")
    )
    assert attempts == [(1, False, 500), (2, False, 503), (3, True, 200)], log.read_text()
    first = Delivery.objects.get(attempt=1)
    assert first.retry_at is not None and "answered 500" in first.error
    assert receiver.events() == ["failing"] * 3  # the same event, each attempt
    assert len({r.json["id"] for r in receiver.received}) == 1
    assert Channel.objects.get().failing_since is None


def test_a_channel_whose_every_attempt_failed_is_marked_failing_until_one_works(
    groq, receiver, immediate
):
    receiver.statuses = [500]
    made = channel("webhook", url=receiver.url())
    failing_check(receiver)
    made.refresh_from_db()
    assert made.failing_since is not None and "answered 500" in made.last_error
    delivery = channels.channel_test(channel=made, ctx=Context.command("tests"))
    assert delivery.ok and delivery.event_kind == "test"
    made.refresh_from_db()
    assert made.failing_since is None and made.last_delivered_at is not None


def test_the_egress_policy_holds_for_channels_and_a_refusal_is_not_retried(
    groq, settings, immediate
):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = True
    settings.KODA_NOTIFY_RETRIES = 3
    made = channel("webhook", url="http://169.254.169.254/latest/meta-data/hook")
    failing_check(None)
    delivery = Delivery.objects.get()
    assert not delivery.ok and delivery.retry_at is None
    assert "refused by the egress policy" in delivery.error and "metadata" in delivery.error
    made.refresh_from_db()
    assert made.failing_since is not None


def test_slack_gets_its_text_with_the_display_name_and_a_link(groq, receiver, immediate):
    channel("slack", url=receiver.url("/services/T000/B000/s3cr3tT0k3n"))
    failing_check(receiver)
    (received,) = receiver.received
    assert set(received.json) == {"text"} and "x-koda-signature" not in received.headers
    text = received.json["text"]
    assert text.startswith("*Groq is failing: invalid_credentials*")
    assert "<http://localhost:8000/providers/groq/|Open Groq in Koda>" in text
    assert "What to do:" in text


def test_email_goes_through_djangos_backend(groq, settings, immediate):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    channel("email", to=["oncall@example.com", "ops@example.com"])
    failing_check(None)
    (message,) = mail.outbox
    assert message.subject == "[Koda] Groq is failing: invalid_credentials"
    assert message.to == ["oncall@example.com", "ops@example.com"]
    assert "Open Groq in Koda: http://localhost:8000/providers/groq/" in message.body
    assert KEY not in message.body
    assert Delivery.objects.get().ok


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def test_email_reaches_a_real_smtp_server_and_a_dead_one_is_logged(groq, settings, immediate):
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its own start on the port)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        made = channel("email", to=["oncall@example.com"])
        failing_check(None)
    finally:
        smtp.stop()
    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == ["oncall@example.com"]
    assert b"Subject: [Koda] Groq is failing: invalid_credentials" in envelope.content
    # The server is gone: the attempt is logged with the error, the channel marked failing.
    settings.EMAIL_HOST_PASSWORD = "smtp-pa55word-never-shown"
    event = Event.objects.get()
    delivery = deliver(event.pk, made.pk, 1)
    assert not delivery.ok and "Error" in delivery.error
    assert "pa55word" not in delivery.error
    made.refresh_from_db()
    assert made.failing_since is not None
