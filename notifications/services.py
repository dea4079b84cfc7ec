"""Writes to notification channels. The dashboard, the JSON API and admin all call these; each
change and each test is audited, with the channel's URL as a hint and never its secret."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from koda.audit import audit_record
from koda.context import Context
from notifications.delivery import channel_note, send
from notifications.models import Channel, Delivery, EventKind, Kind

MAX_ADDRESSES = 10


class InvalidChannel(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid channel")
        self.errors = errors


@dataclass
class Saved:
    channel: Channel
    signing_secret: str | None = None  # a webhook's, only when it was just made


def _clean_url(value: object, errors: dict) -> str:
    if not isinstance(value, str) or not value.strip():
        errors["url"] = ["Required: the URL to post to."]
        return ""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _port_ok(parts):
        errors["url"] = ["Enter an http(s) URL, e.g. https://hooks.example.com/koda."]
    elif parts.username or parts.password:
        errors["url"] = ["Leave credentials out of the URL."]
    elif parts.scheme != "https" and not settings.KODA_ALLOW_PRIVATE_BASE_URLS:
        errors["url"] = ["Use https (http only with KODA_ALLOW_PRIVATE_BASE_URLS=true)."]
    elif len(value) > 2000:
        errors["url"] = ["At most 2000 characters."]
    return value


def _port_ok(parts) -> bool:
    try:
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return False
    return True


def _clean_to(value: object, errors: dict) -> str:
    if not isinstance(value, list) or not value:
        errors["to"] = ["Required: a list of email addresses."]
        return ""
    if len(value) > MAX_ADDRESSES:
        errors["to"] = [f"At most {MAX_ADDRESSES} addresses."]
        return ""
    bad = []
    for address in value:
        try:
            validate_email(address)
        except (ValidationError, TypeError):
            bad.append(str(address)[:80])
    if bad:
        errors["to"] = [f"Not an email address: {', '.join(bad)}."]
    return ", ".join(str(a).strip() for a in value)


def _clean_events(value: object, errors: dict) -> list[str]:
    known = [k.value for k in EventKind]
    if value is None:
        return known
    if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
        errors["events"] = [f"A non-empty list of: {', '.join(known)}."]
        return []
    unknown = [e for e in value if e not in known]
    if unknown:
        errors["events"] = [f"Unknown event(s): {', '.join(unknown)}. Known: {', '.join(known)}."]
    return [k for k in known if k in value]


def url_hint(url: str) -> str:
    """What is shown of a channel's URL: scheme, host and the last 4 characters."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…{url[-4:]}"


def channel_public(channel: Channel) -> dict:
    """The audited, shown values of a channel (never its URL or secret)."""
    return {
        "kind": channel.kind,
        "name": channel.name,
        "url_hint": channel.url_hint,
        "to": channel.to,
        "events": list(channel.events),
    }


def _target(channel: Channel) -> str:
    return f"notification-channel:{channel.pk}"


def channel_save(
    *, data: Mapping, ctx: Context, channel: Channel | None = None, rotate_secret: bool = False
) -> Saved:
    """Create a channel (`channel` None) or change one. A new webhook gets a signing secret,
    returned once; `rotate_secret` makes a webhook a new one."""
    creating = channel is None
    channel = channel or Channel()
    errors: dict[str, list[str]] = {}
    kind = data.get("kind", channel.kind)
    if kind not in Kind.values:
        errors["kind"] = [f"One of: {', '.join(Kind.values)}."]
    elif not creating and kind != channel.kind:
        errors["kind"] = ["A channel's kind cannot change; add a new channel instead."]
    name = data.get("name", channel.name)
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        errors["name"] = ["Required, at most 120 characters."]
    values = dict(channel.secrets or {})
    if kind in (Kind.WEBHOOK, Kind.SLACK) and (creating or "url" in data):
        values["url"] = _clean_url(data.get("url"), errors)
    if kind == Kind.EMAIL and (creating or "to" in data):
        channel.to = _clean_to(data.get("to"), errors)
    events = _clean_events(data.get("events", None if creating else channel.events), errors)
    if errors:
        raise InvalidChannel(errors)
    new_secret = None
    if kind == Kind.WEBHOOK and (creating or rotate_secret):
        new_secret = values["signing_secret"] = secrets.token_urlsafe(32)
    before = {} if creating else channel_public(Channel.objects.get(pk=channel.pk))
    channel.kind, channel.name, channel.events = kind, name.strip(), events
    if kind != Kind.EMAIL:
        channel.secrets = values
        channel.url_hint = url_hint(values["url"])
    with transaction.atomic():
        channel.save()
        diff = {"before": before, "after": channel_public(channel)}
        if new_secret and not creating:
            diff["signature_key"] = "replaced"
        audit_record(
            ctx=ctx,
            action="notification_channel.create" if creating else "notification_channel.update",
            target=_target(channel),
            diff=diff,
        )
    return Saved(channel, new_secret)


def channel_delete(*, channel: Channel, ctx: Context) -> None:
    with transaction.atomic():
        audit_record(
            ctx=ctx,
            action="notification_channel.delete",
            target=_target(channel),
            diff={"before": channel_public(channel)},
        )
        channel.delete()


def channel_test(*, channel: Channel, ctx: Context) -> Delivery:
    """Send a test notification now (one attempt, no retry), log it, audit it."""
    payload = {
        "id": None,
        "event": "test",
        "title": f"Test notification from Koda to {channel.name}",
        "provider": {"id": "", "name": "Koda"},
        "outcome": "",
        "message": "If you can read this, the channel works.",
        "remedy": "",
        "url": f"{settings.KODA_PUBLIC_URL}/notifications/",
        "at": timezone.now().isoformat(),
        "incident": None,
    }
    sent = send(channel, payload)
    with transaction.atomic():
        delivery = Delivery.objects.create(
            channel=channel,
            event=None,
            event_kind="test",
            attempt=1,
            ok=sent.ok,
            status_code=sent.status_code,
            error=sent.error,
        )
        if sent.ok:  # a failed test is one attempt: it shows, but does not mark the channel
            channel_note(channel, sent)
        audit_record(
            ctx=ctx,
            action="notification_channel.test",
            target=_target(channel),
            diff={"ok": sent.ok, "status_code": sent.status_code, "error": sent.error},
        )
    return delivery
