"""The sign-ins' secrets: two workers refreshing at once spend a rotating refresh token once, and
after a whole sign-in lifecycle no token, code, verifier or device id is anywhere it must not be
(raw database rows, audit rows, snapshots, API answers, log lines, pages)."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import connections
from django.test import Client

from connections.models import Connection, HealthSnapshot, LoginSession
from connections.refresh import credential_refresh
from connections.services import connection_verify
from koda.context import Context
from koda.models import AuditEvent
from providers.registry import PROVIDERS
from tests.conftest import ApiClient
from tests.connections.test_login import (
    START,
    chatgpt_start,
    claude_sign_in,
    expiring,
    fake,  # noqa: F401  (the fixture)
    poll,
)
from tests.leaks import leaks, raw_rows


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(fake, api):  # noqa: F811
    claude_sign_in(api, fake)
    expiring("anthropic")
    fake.refresh_delay = 0.5  # the first refresh is still running when the second begins
    anthropic = PROVIDERS["anthropic"]
    barrier = threading.Barrier(2)
    got: list[tuple[str, object]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            connection = Connection.objects.get(provider_id="anthropic")
            barrier.wait(timeout=10)
            credential, failure = credential_refresh(
                provider=anthropic,
                connection=connection,
                credential=connection.credential,
                ctx=Context.sweep(),
            )
            got.append((credential.get("access_token"), failure))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert fake.refreshes == 1
    assert len(got) == 2 and got[0] == got[1] and got[0][1] is None
    stored = Connection.objects.get(provider_id="anthropic").credential
    assert stored.get("access_token") == got[0][0]
    assert stored.get("refresh_token") in fake.refresh  # the live one, not the spent one


@pytest.mark.django_db
def test_no_sign_in_secret_anywhere_after_a_full_lifecycle(
    fake,  # noqa: F811
    api,
    operator_client,
    caplog,
):
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    recording = ApiClient(api.client, None)
    recording.headers = api.headers

    def call(method, path, body=None):
        response = recording.call(method, path, body)
        answers.append(response.content.decode())
        return response

    # Claude: a refused code, a sign-in, a refresh, a 401 refresh, a failed refresh, sign-out.
    session = call("POST", START.format("anthropic")).json()
    call(
        "POST",
        f"/providers/anthropic/connection/login/{session['session_id']}/code",
        {"code": "wrong#" + session["authorize_url"].split("state=")[1].split("&")[0]},
    )
    answers.append(str(claude_sign_in(api, fake)))
    expiring("anthropic")
    connection_verify(provider=PROVIDERS["anthropic"], ctx=Context.sweep())
    fake.revoke_access()
    answers.append(call("POST", "/providers/anthropic/connection/verify").content.decode())
    answers.append(call("GET", "/providers/anthropic/connection").content.decode())
    answers.append(operator_client.get("/providers/anthropic/").content.decode())
    answers.append(operator_client.get("/admin/connections/connection/").content.decode())
    fake.revoke_refresh()
    expiring("anthropic")
    connection_verify(provider=PROVIDERS["anthropic"], ctx=Context.sweep())
    # ChatGPT: a device sign-in, approved, refreshed.
    device = chatgpt_start(api)
    answers.append(str(device))
    fake.device_set(device["user_code"], "approved")
    answers.append(poll(api, device).content.decode())
    expiring("openai")
    connection_verify(provider=PROVIDERS["openai"], ctx=Context.sweep())
    answers.append(operator_client.get("/providers/openai/").content.decode())
    answers.append(Client().get("/api/control-plane/openapi.json").content.decode())
    call("DELETE", "/providers/anthropic/connection")

    secrets = [s for s in fake.issued if len(s) >= 12]
    assert len(secrets) >= 10 and fake.refreshes >= 3
    assert leaks(f"x {secrets[0]} y", secrets)  # the scan finds what it looks for
    assert not leaks(raw_rows(), secrets), "in the database"
    assert not leaks("\n".join(answers), secrets), "in an answer or a page"
    assert not leaks(caplog.text, secrets), "in the log"
    audit = "\n".join(repr(e.diff) for e in AuditEvent.objects.all())
    assert not leaks(audit, secrets), "in the audit trail"
    snapshots = "\n".join(
        f"{s.message} {s.remedy} {s.raw_error} {s.probe}" for s in HealthSnapshot.objects.all()
    )
    assert not leaks(snapshots, secrets), "in a snapshot"
    ended = LoginSession.objects.exclude(status="pending")
    assert ended.exists() and all(s.secrets is None for s in ended)  # verifiers dropped at the end
    assert {
        "login.start",
        "login.success",
        "login.failure",
        "login.refresh_failed",
        "login.sign_out",
    } <= set(AuditEvent.objects.values_list("action", flat=True))
