"""Sending an event to a channel, as a background job (the task worker): one attempt per job,
each written to the delivery log; a failed attempt schedules the next with a doubling delay,
and a channel whose last event failed every attempt is marked failing until one succeeds.

Webhooks and Slack go through the HTTP seam (`providers.http.probe`): its egress policy, pinned
connection, deadline and redaction. A webhook is signed: `X-Koda-Signature: sha256=<hex>` is the
HMAC-SHA256 of the raw body under the channel's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from koda.redaction import redact
from notifications.models import Channel, Delivery, Event, Kind
from providers.http import EgressRefused, TransportFailed, probe

log = logging.getLogger("koda.notifications")


@dataclass
class Sent:
    ok: bool
    status_code: int | None = None
    error: str = ""
    retry: bool = True  # worth another attempt (a refused destination is not)


def signature(secret: str, body: bytes) -> str:
    """The X-Koda-Signature value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def channel_secrets(channel: Channel) -> tuple[str, ...]:
    """Everything about a channel that must never be shown: its URL, the URL's path (a Slack
    token) and its signing secret."""
    values = dict(channel.secrets or {})
    url = values.get("url", "")
    parts = (url, urlsplit(url).path if url else "", values.get("signing_secret", ""))
    return tuple(p for p in parts if len(p) > 1)


def send(channel: Channel, payload: dict) -> Sent:
    """One attempt to send `payload` (an event body with its id) to `channel`."""
    if channel.kind == Kind.EMAIL:
        return _send_email(channel, payload)
    values = dict(channel.secrets or {})
    secrets = channel_secrets(channel)
    if channel.kind == Kind.WEBHOOK:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Koda-Event": payload["event"],
            "X-Koda-Signature": signature(values["signing_secret"], body),
        }
    else:
        body = json.dumps({"text": slack_text(payload)}).encode()
        headers = {"Content-Type": "application/json"}
    try:
        answer = probe("POST", values["url"], headers=headers, raw_body=body, secrets=secrets)
    except EgressRefused as exc:
        error = redact(f"refused by the egress policy: {exc}", *secrets)[:500]
        return Sent(False, error=error, retry=False)  # the policy will refuse it again
    except TransportFailed as exc:
        return Sent(False, error=redact(f"{exc.kind}: {exc.detail}", *secrets)[:500])
    if 200 <= answer.status < 300:
        return Sent(True, answer.status)
    return Sent(False, answer.status, f"answered {answer.status}: {answer.text[:200]}")


def _lines(payload: dict) -> list[str]:
    lines = []
    if payload.get("message"):
        lines.append(
            f"{payload['outcome']}: {payload['message']}"
            if payload["outcome"]
            else payload["message"]
        )
    if payload.get("remedy"):
        lines.append(f"What to do: {payload['remedy']}")
    return lines


def slack_text(payload: dict) -> str:
    """Slack's mrkdwn: the title in bold, the details, a link to the provider's page."""
    link = f"<{payload['url']}|Open {payload['provider']['name']} in Koda>"
    return "\n".join([f"*{payload['title']}*", *_lines(payload), link])


def email_text(payload: dict) -> str:
    link = f"Open {payload['provider']['name']} in Koda: {payload['url']}"
    return "\n\n".join([payload["title"], *_lines(payload), link]) + "\n"


def _send_email(channel: Channel, payload: dict) -> Sent:
    try:
        send_mail(f"[Koda] {payload['title']}", email_text(payload), None, channel.addresses)
    except (smtplib.SMTPException, OSError) as exc:
        secrets = (settings.EMAIL_HOST_PASSWORD,) if settings.EMAIL_HOST_PASSWORD else ()
        return Sent(False, error=redact(f"{type(exc).__name__}: {exc}", *secrets)[:500])
    return Sent(True)


def channel_note(channel: Channel, sent: Sent) -> None:
    """A channel's delivery health after a final attempt: a success clears it; a failure marks
    it failing (since the first such failure) with the error."""
    now = timezone.now()
    if sent.ok:
        Channel.objects.filter(pk=channel.pk).update(
            failing_since=None, last_error="", last_delivered_at=now
        )
    else:
        Channel.objects.filter(pk=channel.pk, failing_since=None).update(failing_since=now)
        error = sent.error or f"answered {sent.status_code}"
        Channel.objects.filter(pk=channel.pk).update(last_error=error)


def payload_of(event: Event) -> dict:
    return {"id": event.pk, **event.body}


def retry_delay(attempt: int) -> timedelta:
    """The wait before attempt `attempt + 1`."""
    seconds = settings.KODA_NOTIFY_RETRY_SECONDS * 2 ** (attempt - 1)
    return timedelta(seconds=min(seconds, 3600))


def deliver(event_id: int, channel_id: int, attempt: int) -> Delivery | None:
    """Attempt `attempt` of sending event `event_id` to channel `channel_id`: log it, update the
    channel's health, schedule the next attempt if this one failed. None if either is gone."""
    channel = Channel.objects.filter(pk=channel_id).first()
    event = Event.objects.filter(pk=event_id).first()
    if channel is None or event is None:
        return None
    sent = send(channel, payload_of(event))
    more = not sent.ok and sent.retry and attempt <= settings.KODA_NOTIFY_RETRIES
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.create(
            channel=channel,
            event=event,
            event_kind=event.kind,
            attempt=attempt,
            ok=sent.ok,
            status_code=sent.status_code,
            error=sent.error,
            retry_at=now + retry_delay(attempt) if more else None,
        )
        if sent.ok or not more:
            channel_note(channel, sent)
        if more:
            transaction.on_commit(
                lambda: deliver_later(event_id, channel_id, attempt + 1, delivery.retry_at)
            )
    if not sent.ok:
        log.warning(
            "notification %s to channel %s failed (attempt %s): %s",
            event.kind,
            channel.pk,
            attempt,
            sent.error or sent.status_code,
        )
    return delivery


@task()
def deliver_task(event_id: int, channel_id: int, attempt: int) -> None:
    """The Django Task the worker runs: one attempt."""
    deliver(event_id, channel_id, attempt)


def deliver_later(event_id: int, channel_id: int, attempt: int, run_after=None) -> None:
    job = deliver_task if run_after is None else deliver_task.using(run_after=run_after)
    job.enqueue(event_id, channel_id, attempt)
