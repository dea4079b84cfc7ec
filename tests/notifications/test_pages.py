"""The Notifications pages: add a channel (its secret shown once), field errors beside the
still-filled form, change one, send a test, remove one; the delivery log on both pages."""

from __future__ import annotations

import pytest

from koda.models import AuditEvent
from notifications.models import Channel, Delivery

pytestmark = pytest.mark.django_db


def test_a_webhook_is_added_and_its_secret_shown_once(operator_client, receiver):
    page = operator_client.post(
        "/notifications/",
        {"kind": "webhook", "name": "On-call", "url": receiver.url(), "events": ["failing"]},
    )
    assert page.status_code == 200
    html = page.content.decode()
    channel = Channel.objects.get()
    secret = channel.secrets["signing_secret"]
    assert 'data-testid="signing-secret"' in html and secret in html
    assert channel.events == ["failing"] and channel.kind == "webhook"
    again = operator_client.get("/notifications/").content.decode()
    assert secret not in again and receiver.url() not in again
    assert "On-call" in again and channel.url_hint in again
    detail = operator_client.get(f"/notifications/{channel.pk}/").content.decode()
    assert secret not in detail and receiver.url() not in detail


def test_field_errors_show_beside_the_form_and_nothing_is_saved(operator_client, settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = False
    page = operator_client.post(
        "/notifications/",
        {"kind": "email", "name": "Ops", "to": "ops@example.com, nobody", "events": ["failing"]},
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert "Not an email address: nobody." in html
    assert 'value="ops@example.com, nobody"' in html and 'value="Ops"' in html
    assert not Channel.objects.exists()


def test_a_channel_is_changed_tested_and_removed(operator_client, receiver):
    operator_client.post(
        "/notifications/",
        {"kind": "webhook", "name": "Hook", "url": receiver.url(), "events": ["failing"]},
    )
    channel = Channel.objects.get()
    secret = channel.secrets["signing_secret"]
    page = operator_client.post(
        f"/notifications/{channel.pk}/",
        {"name": "Hook 2", "events": ["failing", "recovered"], "url": ""},
    )
    assert page.status_code == 200 and "Saved." in page.content.decode()
    channel.refresh_from_db()
    assert channel.name == "Hook 2" and channel.events == ["failing", "recovered"]
    assert channel.secrets["signing_secret"] == secret  # an empty URL field keeps the URL
    tested = operator_client.post(f"/notifications/{channel.pk}/test", follow=True)
    html = tested.content.decode()
    assert "Test notification sent to “Hook 2”." in html
    assert 'data-testid="delivery-log"' in html and "delivered" in html
    assert receiver.received[0].signed_by(secret)
    rotated = operator_client.post(
        f"/notifications/{channel.pk}/",
        {"name": "Hook 2", "events": ["failing"], "rotate_secret": "on"},
    ).content.decode()
    channel.refresh_from_db()
    assert channel.secrets["signing_secret"] != secret
    assert channel.secrets["signing_secret"] in rotated
    gone = operator_client.post(f"/notifications/{channel.pk}/delete", follow=True)
    assert "Channel “Hook 2” removed." in gone.content.decode()
    assert not Channel.objects.exists() and not Delivery.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="notification_channel")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "notification_channel.create",
        "notification_channel.update",
        "notification_channel.test",
        "notification_channel.update",
        "notification_channel.delete",
    ]
