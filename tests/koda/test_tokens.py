"""API tokens: shown once, stored as a hash, revocable, accepted as Authorization: Bearer."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from koda.context import Context
from koda.models import ApiToken, AuditEvent
from tests.conftest import API, assert_error


def test_it_prints_the_token_alone_and_stores_only_its_hash(operator):
    out = StringIO()
    call_command("create_api_token", "--operator", "ada", stdout=out)
    plaintext = out.getvalue().strip()
    assert plaintext.startswith("koda_") and "\n" not in plaintext and len(plaintext) > 40
    token = ApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM koda_apitoken")
        rows = cursor.fetchall()
        cursor.execute("SELECT diff, actor_label, target FROM koda_auditevent")
        rows += cursor.fetchall()
    assert plaintext not in repr(rows)
    assert AuditEvent.objects.filter(action="api_token.create").count() == 1


def test_it_refuses_a_token_for_an_unknown_operator(db):
    with pytest.raises(CommandError, match="no active operator named 'nobody'"):
        call_command("create_api_token", "--operator", "nobody")


# The catalog and the state read the token with the routing stamp; the agents list does not.
@pytest.mark.parametrize("path", ["/connections/catalog", "/providers/groq/connection", "/agents"])
def test_it_accepts_a_bearer_token_and_rejects_it_once_revoked(operator, api_token, path):
    client = Client()
    headers = {"Authorization": f"Bearer {api_token}"}
    assert client.get(API + path, headers=headers).status_code == 200
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    client_op = Client()
    client_op.force_login(operator)
    client_op.post(f"/tokens/{token.pk}/revoke")
    response = client.get(API + path, headers=headers)
    assert_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == "Bearer"


def test_it_rejects_a_token_whose_operator_was_deactivated(operator, api_token):
    operator.is_active = False
    operator.save()
    response = Client().get(
        API + "/connections/catalog", headers={"Authorization": f"Bearer {api_token}"}
    )
    assert_error(response, 401, "invalid_token")


def test_it_shows_a_dashboard_token_once(operator_client):
    response = operator_client.post("/tokens/", {"name": "deploy-bot"})
    assert response.status_code == 200
    plaintext = response.context["created_token"]
    assert plaintext.encode() in response.content
    listing = operator_client.get("/tokens/")
    assert b"deploy-bot" in listing.content
    assert plaintext.encode() not in listing.content
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert Client().get(API + "/connections/catalog", headers=headers).status_code == 200


def test_it_renders_only_the_list_for_htmx(operator_client):
    response = operator_client.post(
        "/tokens/", {"name": "x"}, headers={"HX-Request": "true", "HX-Target": "token-list"}
    )
    assert response.content.lstrip().startswith(b'<section id="token-list">')
    assert b"<html" not in response.content


@pytest.mark.parametrize("name", ["", "   ", "n" * 101])
def test_it_explains_a_bad_token_name_and_creates_nothing(operator_client, name):
    response = operator_client.post("/tokens/", {"name": name})
    assert response.status_code == 200
    assert b"1 to 100 characters" in response.content
    assert not ApiToken.objects.exists()


def test_it_lets_an_operator_revoke_only_their_own_tokens(operator_client, db):
    from koda.operators import operator_create
    from koda.tokens import api_token_create

    other = operator_create(username="grace", password="another long password")
    token, _ = api_token_create(operator=other, name="theirs", ctx=Context.command("tests", other))
    assert operator_client.post(f"/tokens/{token.pk}/revoke").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
