"""The notification channels API: shapes (validated against the OpenAPI document by the client),
validation, the signing secret shown once, audit rows, and the secrets scan over channels and
their delivery log."""

from __future__ import annotations

import logging

import pytest

from koda.models import AuditEvent
from notifications.models import Channel, Delivery
from tests.conftest import assert_error
from tests.leaks import leaks, raw_rows

pytestmark = pytest.mark.django_db
SLACK = "https://hooks.slack.com/services/T0001/B0002/Sl4ckT0kenNeverSh0wn"


def create(api, **body):
    return api.call("POST", "/notification-channels", body)


def test_a_webhook_is_made_with_a_secret_shown_once(api, receiver):
    response = create(api, kind="webhook", name="on-call", url=receiver.url())
    assert response.status_code == 201
    answer = response.json()
    secret, channel = answer["secret"], answer["channel"]
    assert len(secret) >= 40
    assert channel["kind"] == "webhook" and channel["status"] == "ok"
    assert channel["events"] == [
        "failing",
        "degraded",
        "recovered",
        "rotation_refused",
        "low_credit",
        "key_age",
        "model_drift",
        "no_candidate",
    ]
    assert channel["url_hint"].startswith("http://127.0.0.1/…") and channel["to"] == []
    again = api.get(f"/notification-channels/{channel['id']}").json()
    assert "secret" not in again and again["channel"]["deliveries"] == []
    listed = api.get("/notification-channels").json()["channels"]
    assert [c["id"] for c in listed] == [channel["id"]]
    assert not leaks(str(again) + str(listed), [secret, receiver.url()])


def test_bad_channels_are_refused_field_by_field(api, settings):
    settings.KODA_ALLOW_PRIVATE_BASE_URLS = False
    cases = [
        ({"kind": "pager", "name": "x"}, "kind"),
        ({"kind": "webhook", "name": "x", "url": "http://hooks.example.com/k"}, "url"),
        ({"kind": "webhook", "name": "x", "url": "https://user:pw@hooks.example.com/"}, "url"),
        ({"kind": "slack", "name": "x"}, "url"),
        ({"kind": "email", "name": "x", "to": ["not an address"]}, "to"),
        ({"kind": "email", "name": "x", "to": [f"a{i}@example.com" for i in range(11)]}, "to"),
        ({"kind": "email", "name": "x", "to": ["a@example.com"], "events": ["sunrise"]}, "events"),
        ({"kind": "email", "name": "x", "to": ["a@example.com"], "events": []}, "events"),
        ({"kind": "email", "name": " ", "to": ["a@example.com"]}, "name"),
    ]
    for body, field in cases:
        error = assert_error(create(api, **body), 400, "invalid_input")
        assert field in error["details"]["fields"], (body, error)
    assert not Channel.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="notification").exists()
    assert_error(create(api, kind="email", name="x", extra=1), 400, "unknown_fields")
    assert_error(api.get("/notification-channels/999"), 404, "unknown_channel")


def test_a_channel_changes_and_goes_with_audit_rows_that_name_no_secret(api, caplog):
    caplog.set_level(logging.DEBUG)
    made = create(api, kind="slack", name="ops", url=SLACK, events=["failing"]).json()
    assert "secret" not in made  # Slack's URL is its credential; there is no signing secret
    path = f"/notification-channels/{made['channel']['id']}"
    changed = api.call("PUT", path, {"events": ["failing", "recovered"], "name": "ops room"})
    assert changed.json()["channel"]["events"] == ["failing", "recovered"]
    assert changed.json()["channel"]["name"] == "ops room"
    assert_error(api.call("PUT", path, {"kind": "email"}), 400, "invalid_input")
    assert api.call("DELETE", path).status_code == 204
    assert_error(api.get(path), 404, "unknown_channel")
    actions = list(
        AuditEvent.objects.filter(action__startswith="notification")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "notification_channel.create",
        "notification_channel.update",
        "notification_channel.delete",
    ]
    audit = str(list(AuditEvent.objects.values()))
    assert "ops room" in audit and "hooks.slack.com/…h0wn" in audit
    assert not leaks(audit + caplog.text + raw_rows(), [SLACK, "Sl4ckT0kenNeverSh0wn"])


def test_rotating_a_webhook_secret_answers_the_new_one_once(api, receiver):
    made = create(api, kind="webhook", name="hook", url=receiver.url()).json()
    path = f"/notification-channels/{made['channel']['id']}"
    rotated = api.call("PUT", path, {"rotate_secret": True}).json()
    assert rotated["secret"] != made["secret"]
    assert "secret" not in api.call("PUT", path, {"name": "hook 2"}).json()
    assert api.call("POST", f"{path}/test").json()["delivery"]["ok"]
    assert receiver.received[0].signed_by(rotated["secret"])
    assert not receiver.received[0].signed_by(made["secret"])


def test_a_test_notification_is_logged_audited_and_never_leaks(api, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    made = create(api, kind="webhook", name="hook", url=receiver.url("/hook/Hid3MePlease")).json()
    secret = made["secret"]
    receiver.statuses = [502]
    path = f"/notification-channels/{made['channel']['id']}"
    failed = api.call("POST", f"{path}/test").json()
    assert failed["delivery"]["ok"] is False and failed["delivery"]["status_code"] == 502
    assert failed["channel"]["status"] == "ok"  # one failed test does not mark a channel
    worked = api.call("POST", f"{path}/test").json()
    assert worked["delivery"]["ok"] and worked["channel"]["last_delivered_at"]
    body = receiver.received[-1].json
    assert body["event"] == "test" and receiver.received[-1].signed_by(secret)
    log = api.get(path).json()["channel"]["deliveries"]
    assert [(d["event"], d["ok"]) for d in log] == [("test", True), ("test", False)]
    assert Delivery.objects.count() == 2
    assert AuditEvent.objects.filter(action="notification_channel.test").count() == 2
    shown = str(log) + str(worked) + str(failed) + caplog.text
    shown += str(list(AuditEvent.objects.values())) + raw_rows()
    assert not leaks(shown, [secret, "Hid3MePlease"])
