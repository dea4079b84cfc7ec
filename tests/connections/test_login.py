"""Sign-ins end to end over real HTTP: Claude login (paste-back, PKCE) and ChatGPT sign-in
(device code) against the fake of tests/fake_oauth.py, through the API as an automation would
drive them, then the tokens' life: refresh before expiry, once on a 401, rotation, failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connections import services
from connections.models import Connection, HealthSnapshot, LoginSession
from koda.context import Context
from koda.models import AuditEvent
from providers.registry import PROVIDERS
from tests.conftest import assert_error, make_connection

pytestmark = pytest.mark.django_db

START = "/providers/{}/connection/login/start"


@pytest.fixture
def fake(fake_oauth):
    return fake_oauth


def paste(api, session: dict, code: str):
    """Send what Claude's page showed to a paste-back sign-in."""
    return api.call(
        "POST",
        f"/providers/anthropic/connection/login/{session['session_id']}/code",
        {"code": code},
    )


def attempt(api, fake):
    """A whole Claude sign-in attempt: start, approve at the fake, paste the code."""
    started = api.call("POST", START.format("anthropic")).json()
    return paste(api, started, fake.paste_approve(started["authorize_url"]))


def claude_sign_in(api, fake) -> dict:
    started = api.call("POST", START.format("anthropic"))
    assert started.status_code == 201, started.content
    session = started.json()
    pasted = fake.paste_approve(session["authorize_url"])
    answer = paste(api, session, pasted)
    assert answer.status_code == 200, answer.content
    return answer.json()


def chatgpt_start(api) -> dict:
    started = api.call("POST", START.format("openai"))
    assert started.status_code == 201, started.content
    return started.json()


def poll(api, session: dict, *, due: bool = True):
    if due:  # the test does not wait out the provider's interval
        LoginSession.objects.filter(pk=session["session_id"]).update(next_poll_at=timezone.now())
    return api.get(f"/providers/openai/connection/login/{session['session_id']}")


def actions() -> list[str]:
    events = AuditEvent.objects.exclude(action="api_token.create").order_by("id")
    return list(events.values_list("action", flat=True))


# --- Claude login: paste-back ---------------------------------------------------------------


def test_claude_login_start_gives_an_authorize_url_with_pkce_s256_and_keeps_the_verifier(api, fake):
    session = api.call("POST", START.format("anthropic")).json()
    assert session["flow"] == "paste" and session["status"] == "pending"
    url = session["authorize_url"]
    assert url.startswith(fake.url + "/claude-ai/oauth/authorize?")
    assert "code_challenge_method=S256" in url and "code=true" in url
    assert "9d1c250a-e61b-44d9-88ed-5944d1962f5e" in url  # the public client id
    stored = LoginSession.objects.get(pk=session["session_id"])
    assert stored.secrets["verifier"] not in url  # only its challenge travels
    assert timedelta(minutes=14) < stored.expires_at - timezone.now() <= timedelta(minutes=15)
    assert actions() == ["login.start"]


def test_claude_login_happy_path_stores_verified_tokens_and_shows_the_account(api, fake):
    body = claude_sign_in(api, fake)
    assert body["status"] == "completed"
    assert body["verification"]["ok"] is True
    assert body["connection"]["status"] == "verified"
    assert body["connection"]["auth_method"] == "login"
    assert body["verification"]["models"] == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    connection = Connection.objects.get(provider_id="anthropic")
    assert connection.details["account"] == "ops@example.com"
    assert connection.details["plan"] == "claude_max"
    assert connection.credential.get("access_token").startswith("sk-ant-oat01-")
    assert connection.credential.get("refresh_token").startswith("sk-ant-ort01-")
    assert connection.credential_expires_at > timezone.now() + timedelta(minutes=50)
    # The probes were sent as a sign-in's are: Bearer with the OAuth beta, never x-api-key.
    probes = [r for r in fake.requests if r[1] == "/claude/api/oauth/profile"]
    assert probes and probes[0][2]["anthropic-beta"] == "oauth-2025-04-20"
    assert "x-api-key" not in {k.lower() for k in probes[0][2]}
    assert actions() == ["login.start", "connection.configure", "login.success"]
    success = AuditEvent.objects.get(action="login.success")
    assert success.diff["account"] == "ops@example.com"


def test_a_code_from_another_sign_in_is_refused_and_the_right_one_still_works(api, fake):
    session = api.call("POST", START.format("anthropic")).json()
    code = fake.paste_approve(session["authorize_url"]).split("#")[0]
    path = f"/providers/anthropic/connection/login/{session['session_id']}/code"
    wrong = api.call("POST", path, {"code": f"{code}#not-this-sessions-state"})
    error = assert_error(wrong, 400, "login_state_mismatch")
    assert error["details"]["session"]["status"] == "pending"
    assert not Connection.objects.exists()
    right = fake.paste_approve(session["authorize_url"])
    assert api.call("POST", path, {"code": right}).status_code == 200


def test_a_reused_code_and_state_is_refused_once_the_sign_in_ended(api, fake):
    started = api.call("POST", START.format("anthropic")).json()
    pasted = fake.paste_approve(started["authorize_url"])
    path = f"/providers/anthropic/connection/login/{started['session_id']}/code"
    assert api.call("POST", path, {"code": pasted}).status_code == 200
    again = api.call("POST", path, {"code": pasted})
    error = assert_error(again, 409, "login_already_used")
    assert error["details"]["session"]["status"] == "completed"
    assert LoginSession.objects.get(pk=started["session_id"]).secrets is None  # verifier gone


def test_a_code_pasted_after_15_minutes_is_refused_as_expired(api, fake):
    started = api.call("POST", START.format("anthropic")).json()
    pasted = fake.paste_approve(started["authorize_url"])
    LoginSession.objects.filter(pk=started["session_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    answer = paste(api, started, pasted)
    assert_error(answer, 410, "login_expired")
    assert LoginSession.objects.get(pk=started["session_id"]).status == "expired"
    assert "login.failure" in actions()


def test_denied_consent_pasted_as_the_callback_url_reads_as_denied(api, fake):
    started = api.call("POST", START.format("anthropic")).json()
    callback = (
        "https://platform.claude.com/oauth/code/callback?error=access_denied"
        "&error_description=The+user+denied+the+request&state=whatever"
    )
    answer = paste(api, started, callback)
    error = assert_error(answer, 422, "login_denied")
    assert "denied the request" in error["message"]
    assert LoginSession.objects.get(pk=started["session_id"]).status == "denied"


def test_a_code_the_provider_refuses_stores_nothing_and_says_so(api, fake):
    started = api.call("POST", START.format("anthropic")).json()
    state = started["authorize_url"].split("state=")[1].split("&")[0]
    answer = api.call(
        "POST",
        f"/providers/anthropic/connection/login/{started['session_id']}/code",
        {"code": f"made-up-code#{state}"},
    )
    error = assert_error(answer, 422, "login_invalid_code")
    assert "Invalid 'code'" in error["message"]
    assert "invalid_grant" in error["details"]["raw_error"]
    assert not Connection.objects.exists()


def test_pasting_only_the_part_before_the_hash_asks_for_the_whole_code(api, fake):
    started = api.call("POST", START.format("anthropic")).json()
    answer = paste(api, started, "abc123")
    assert "after the #" in assert_error(answer, 400, "login_invalid_input")["message"]


def test_tokens_that_exchange_but_fail_the_probe_store_nothing(api, fake):
    fake.fail_probe = True
    answer = attempt(api, fake)
    error = assert_error(answer, 422, "verification_failed")
    assert error["details"]["verification"]["outcome"] == "invalid_credentials"
    assert error["details"]["session"]["status"] == "failed"
    assert not Connection.objects.exists()
    assert HealthSnapshot.objects.get().candidate is True


def test_a_token_anthropic_restricts_to_claude_code_reads_as_insufficient_scope(api, fake):
    fake.claude_code_only = True
    answer = attempt(api, fake)
    verification = assert_error(answer, 422, "verification_failed")["details"]["verification"]
    assert verification["outcome"] == "insufficient_scope"
    assert "only authorized for use with Claude Code" in verification["message"]
    assert not Connection.objects.exists()


def test_a_new_sign_in_replaces_the_active_one(api, fake):
    first = api.call("POST", START.format("anthropic")).json()
    second = api.call("POST", START.format("anthropic")).json()
    assert LoginSession.objects.get(pk=first["session_id"]).status == "cancelled"
    pasted = fake.paste_approve(first["authorize_url"])
    answer = paste(api, first, pasted)
    assert_error(answer, 409, "login_already_used")
    assert LoginSession.objects.get(pk=second["session_id"]).status == "pending"


def test_providers_without_a_sign_in_and_unknown_sessions_answer_clearly(api, fake):
    assert_error(api.call("POST", START.format("groq")), 400, "unsupported_auth_method")
    missing = api.get("/providers/anthropic/connection/login/not-a-uuid")
    assert_error(missing, 404, "login_unknown_session")
    unknown = api.get("/providers/anthropic/connection/login/00000000-0000-0000-0000-000000000000")
    assert_error(unknown, 404, "login_unknown_session")


# --- ChatGPT sign-in: device code -----------------------------------------------------------


def test_chatgpt_device_sign_in_pending_then_approved(api, fake):
    session = chatgpt_start(api)
    assert session["flow"] == "device" and session["user_code"]
    assert session["verification_url"] == f"{fake.url}/auth/codex/device"
    assert session["interval"] == 1
    asked = len(fake.requests)
    early = poll(api, session, due=False).json()  # sooner than the interval: nothing is asked
    assert early["status"] == "pending" and len(fake.requests) == asked
    assert poll(api, session).json()["status"] == "pending"
    assert len(fake.requests) == asked + 1
    fake.device_set(session["user_code"], "approved")
    body = poll(api, session).json()
    assert body["status"] == "completed", body
    assert body["connection"]["status"] == "verified"
    assert body["verification"]["models"] == ["gpt-5-codex"]
    connection = Connection.objects.get(provider_id="openai")
    assert connection.auth_method == "login"
    assert connection.credential.get("account_id") == "acct-3333"
    assert connection.details["plan"] == "pro"
    assert connection.details["account"] == "ops@example.com"
    usage = next(r for r in fake.requests if r[1] == "/chatgpt/wham/usage")
    assert usage[2]["chatgpt-account-id"] == "acct-3333"
    # The code exchange went form-encoded with the server-given verifier.
    assert any("grant_type=authorization_code" in b for b in fake.bodies)


def test_chatgpt_device_sign_in_that_expires_or_is_denied(api, fake):
    expired = chatgpt_start(api)
    fake.device_set(expired["user_code"], "expired")
    body = poll(api, expired).json()
    assert body["status"] == "expired" and body["reason"] == "expired"
    denied = chatgpt_start(api)
    fake.device_set(denied["user_code"], "denied")
    assert poll(api, denied).json()["status"] == "denied"
    assert not Connection.objects.exists()
    assert actions().count("login.failure") == 2


def test_a_device_code_not_approved_within_the_session_expires_without_asking(api, fake):
    session = chatgpt_start(api)
    LoginSession.objects.filter(pk=session["session_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    asked = len(fake.requests)
    assert poll(api, session).json()["status"] == "expired"
    assert len(fake.requests) == asked


def test_slow_down_lengthens_the_polling_interval(api, fake):
    session = chatgpt_start(api)
    fake.device_set(session["user_code"], "slow_down")
    body = poll(api, session).json()
    assert body["status"] == "pending" and body["interval"] == 6


def test_a_device_sign_in_cannot_take_a_pasted_code(api, fake):
    session = chatgpt_start(api)
    answer = api.call(
        "POST", f"/providers/openai/connection/login/{session['session_id']}/code", {"code": "a#b"}
    )
    assert_error(answer, 409, "login_wrong_flow")


# --- the tokens' life ---------------------------------------------------------------------------


def expiring(provider_id: str) -> None:
    Connection.objects.filter(provider_id=provider_id).update(
        credential_expires_at=timezone.now() + timedelta(seconds=30)
    )


def test_checks_are_scheduled_to_refresh_before_the_token_expires(api, fake, settings):
    settings.KODA_HEALTH_INTERVAL_SECONDS = 86400
    claude_sign_in(api, fake)
    connection = Connection.objects.get(provider_id="anthropic")
    due = connection.credential_expires_at - timedelta(
        seconds=settings.KODA_TOKEN_REFRESH_MARGIN_SECONDS
    )
    assert connection.next_check_at <= due


def test_a_due_token_is_refreshed_and_the_rotated_refresh_token_replaces_the_old(api, fake):
    claude_sign_in(api, fake)
    before = Connection.objects.get(provider_id="anthropic").credential
    expiring("anthropic")
    services.connection_verify(provider=PROVIDERS["anthropic"], ctx=Context.sweep())
    after = Connection.objects.get(provider_id="anthropic")
    assert fake.refreshes == 1
    assert after.credential.get("refresh_token") != before.get("refresh_token")
    assert after.credential.get("access_token") != before.get("access_token")
    assert after.credential_expires_at > timezone.now() + timedelta(minutes=50)
    assert after.status == "verified"
    assert after.refresh_claimed_until is None


def test_a_401_refreshes_once_and_verifies_again(api, fake):
    claude_sign_in(api, fake)
    fake.revoke_access()  # the access token dies early; the refresh token still works
    _, result = services.connection_verify(provider=PROVIDERS["anthropic"], ctx=Context.sweep())
    assert result.ok and fake.refreshes == 1


def test_a_refused_refresh_turns_the_connection_failing_with_sign_in_again(api, fake):
    claude_sign_in(api, fake)
    fake.revoke_refresh()
    expiring("anthropic")
    _, result = services.connection_verify(provider=PROVIDERS["anthropic"], ctx=Context.sweep())
    connection = Connection.objects.get(provider_id="anthropic")
    assert connection.status == "failing"
    assert result.outcome == "revoked_credentials"
    assert "Sign in again" in result.remedy and "Claude login" in result.remedy
    event = AuditEvent.objects.get(action="login.refresh_failed")
    assert event.diff["permanent"] is True and event.diff["reason"] == "invalid_code"


def test_a_reused_chatgpt_refresh_token_reads_as_revoked(api, fake):
    session = chatgpt_start(api)
    fake.device_set(session["user_code"], "approved")
    poll(api, session)
    token = Connection.objects.get(provider_id="openai").credential.get("refresh_token")
    fake.refresh.pop(token)
    fake.spent.add(token)  # someone else (a copied auth.json) spent it
    expiring("openai")
    _, result = services.connection_verify(provider=PROVIDERS["openai"], ctx=Context.sweep())
    assert result.outcome == "revoked_credentials"
    assert "already been used" in result.message
    assert Connection.objects.get(provider_id="openai").status == "failing"


def test_a_refresh_the_provider_cannot_answer_only_degrades(api, fake):
    claude_sign_in(api, fake)
    expiring("anthropic")
    fake.down = True
    _, result = services.connection_verify(provider=PROVIDERS["anthropic"], ctx=Context.sweep())
    assert result.outcome == "provider_unavailable"
    assert Connection.objects.get(provider_id="anthropic").status == "degraded"


def test_signing_out_deletes_the_tokens_and_is_audited_as_such(api, fake):
    claude_sign_in(api, fake)
    assert api.call("DELETE", "/providers/anthropic/connection").status_code == 200
    assert not Connection.objects.exists()
    assert actions()[-1] == "login.sign_out"


def test_an_agent_runtime_gets_the_access_token_never_the_refresh_token(api, fake):
    claude_sign_in(api, fake)
    connection = Connection.objects.get(provider_id="anthropic")
    anthropic = PROVIDERS["anthropic"]
    given = anthropic.runtime_credential(connection.credential)
    assert given == {"access_token": connection.credential.get("access_token")}
    access = anthropic.runtime_access(connection.credential)
    assert access.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert access.base_url == f"{fake.url}/claude"


def test_a_sign_in_replaces_a_key_only_once_it_verifies(api, fake):
    make_connection("anthropic", api_key="sk-ant-api03-" + "k" * 40, status="verified")
    fake.fail_probe = True
    refused = attempt(api, fake)
    assert_error(refused, 422, "verification_failed")
    kept = Connection.objects.get(provider_id="anthropic")
    assert kept.auth_method == "api_key" and kept.credential.get("api_key").endswith("k" * 4)
    fake.fail_probe = False
    claude_sign_in(api, fake)
    replaced = Connection.objects.get(provider_id="anthropic")
    assert replaced.auth_method == "login" and not replaced.credential.get("api_key")
