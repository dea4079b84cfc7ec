"""Operators log in through the dashboard; every page needs one; log-in attempts are throttled."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from koda.models import AuditEvent

PASSWORD = "correct horse battery staple"
PAGES = ["/", "/providers/openai/", "/tokens/"]


def login(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_it_serves_the_login_page(db):
    response = Client().get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'type="password"' in response.content


def test_it_logs_an_operator_in_with_a_hardened_session_cookie(operator):
    client = Client()
    response = login(client, "ada", PASSWORD, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302 and response["Location"] == "/"
    cookie = response.cookies["koda_operator_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] is True  # tests run with KODA_DEBUG unset, as production does
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.get(action="operator.login")
    assert (event.actor, event.client_address) == (operator, "10.1.2.3")


def test_it_rejects_a_wrong_password_and_audits_the_attempt(operator):
    response = login(Client(), "ada", "wrong password")
    assert response.status_code == 200
    assert b"do not match" in response.content
    event = AuditEvent.objects.get(action="operator.login_failed")
    assert event.actor is None and "ada" in event.actor_label
    assert "wrong password" not in str(event.diff) + event.actor_label


def test_it_locks_out_after_five_failures_even_with_the_right_password(operator):
    client = Client()
    for _ in range(5):
        login(client, "ada", "nope", REMOTE_ADDR="10.9.9.9")
    response = login(client, "ada", PASSWORD, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
    assert b"paused for 15 minutes" in response.content  # in minutes, not "0:15:00"
    assert "_auth_user_id" not in client.session
    # Another address is not locked out by someone else's failures.
    assert login(Client(), "ada", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 302


def test_behind_a_proxy_one_attacker_cannot_lock_everyone_out(operator, settings):
    """Everyone arrives from the proxy's address; with KODA_TRUSTED_PROXY_HOPS=1 the lockout and
    the audit trail key on the address the proxy reports, not on the proxy."""
    settings.KODA_TRUSTED_PROXY_HOPS = 1
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    for _ in range(5):
        # What the client wrote itself (left of the proxy's entry) proves nothing.
        login(Client(), "ada", "nope", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9", **proxy)
    attacker = login(Client(), "ada", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    assert attacker.status_code == 429
    ada = login(Client(), "ada", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert ada.status_code == 302
    failed = AuditEvent.objects.filter(action="operator.login_failed")
    assert set(failed.values_list("client_address", flat=True)) == {"203.0.113.9"}
    assert AuditEvent.objects.get(action="operator.login").client_address == "198.51.100.7"


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(operator, settings):
    settings.KODA_TRUSTED_PROXY_HOPS = 0
    for _ in range(5):
        login(Client(), "ada", "nope", HTTP_X_FORWARDED_FOR="192.0.2.1", REMOTE_ADDR="10.9.9.8")
    # Claiming another address does not get round the lockout.
    spoofed = login(
        Client(), "ada", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.77", REMOTE_ADDR="10.9.9.8"
    )
    assert spoofed.status_code == 429
    failed = AuditEvent.objects.filter(action="operator.login_failed")
    assert set(failed.values_list("client_address", flat=True)) == {"10.9.9.8"}


@pytest.mark.parametrize("path", PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", PAGES)
def test_it_refuses_pages_to_a_user_who_is_not_an_operator(db, path):
    user = get_user_model().objects.create_user("guest", password=PASSWORD)
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 403
    assert b"Not an operator" in response.content


def test_it_logs_out_on_post_only(operator_client):
    assert operator_client.get("/logout/").status_code == 405
    response = operator_client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert operator_client.get("/").status_code == 302


def test_it_keeps_the_admin_behind_operator_login(db):
    response = Client().get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_answers_the_liveness_probe_without_login(db):
    assert Client().get("/healthz").json() == {"status": "ok"}
