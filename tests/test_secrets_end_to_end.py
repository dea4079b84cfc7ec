"""Secrets, end to end (issue 14): every API-key provider connected with a distinctive key, then
verified, swept, rotated (a refused replacement first: the old key stays), issued to an agent's
runtime, shown in pages and admin, and one disconnected. Afterwards no key is anywhere it must
not be: the raw database rows, every log line, every page and answer (but the one runtime
issuance, the designed exit), audit rows and snapshots, in plain, base64, hex and URL-encoded
spellings."""

from __future__ import annotations

import logging

import pytest
import responses

from agents.services import agent_create, policy_set
from agents.tokens import agent_token_create
from connections.models import Connection, HealthSnapshot
from connections.services import connection_verify
from koda.context import Context
from koda.models import AuditEvent
from providers.registry import PROVIDERS
from providers.values import Outcome
from tests.conftest import ApiClient
from tests.leaks import leaks, raw_rows
from tests.providers import test_adapters
from tests.providers.contract import ProviderContract

CONTRACTS = [
    cls()
    for cls in vars(test_adapters).values()
    if isinstance(cls, type)
    and issubclass(cls, ProviderContract)
    and cls is not ProviderContract
    and cls.auth_method == "api_key"
    and cls.key
]


def variants(key: str, count: int) -> list[str]:
    """Keys of the same shape (prefix, length, characters), each distinct from the others."""
    tail = key[-6:]
    found = []
    for shift in range(1, len(tail) + 1):
        candidate = key[:-6] + tail[shift:] + tail[:shift]
        if candidate != key and candidate not in found:
            found.append(candidate)
    found.append(key)
    assert len(found) >= count, key
    return found[:count]


def refusal(contract: ProviderContract) -> dict:
    """The provider's own refusal of a key (a wrong key if its fixtures have one, else any
    failure that is not transient: billing, scope)."""
    found = [
        (outcome not in (Outcome.INVALID_CREDENTIALS, Outcome.REVOKED_CREDENTIALS), path, rest)
        for path, *rest in contract.FAILURES.values()
        for outcome in [rest[2]]
        if not outcome.is_transient
    ]
    assert found, f"{contract.provider_id} has no refusal fixture"
    _, path, (status, body, _outcome, *headers) = min(found, key=lambda f: f[0])
    return {path: (status, body, headers[0] if headers else {})}


@pytest.mark.django_db
def test_no_key_anywhere_after_the_whole_api_key_lifecycle(api, operator_client, caplog):
    caplog.set_level(logging.DEBUG)
    assert len(CONTRACTS) >= 12
    answers: list[str] = []
    recording = ApiClient(api.client, None)
    recording.headers = api.headers
    secrets: list[str] = []
    current: dict[str, str] = {}

    def call(method, path, body=None, *, expect=None):
        response = recording.call(method, path, body)
        if expect is not None:
            assert response.status_code == expect, (path, response.content[:500])
        answers.append(response.content.decode())
        return response

    for contract in CONTRACTS:
        pid = contract.provider_id
        first, refused, rotated = variants(contract.key, 3)
        secrets += [first, refused, rotated]
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            contract.register(rsps)
            call("PUT", f"/providers/{pid}/connection/api-key", {"api_key": first}, expect=200)
            call("POST", f"/providers/{pid}/connection/verify", expect=200)
            connection_verify(provider=PROVIDERS[pid], ctx=Context.sweep())  # a sweep's check
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            contract.register(rsps, refusal(contract))
            call("PUT", f"/providers/{pid}/connection/api-key", {"api_key": refused}, expect=422)
        assert Connection.objects.get(provider_id=pid).secrets["api_key"] == first
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            contract.register(rsps)
            call("PUT", f"/providers/{pid}/connection/api-key", {"api_key": rotated}, expect=200)
        assert Connection.objects.get(provider_id=pid).secrets["api_key"] == rotated
        current[pid] = rotated
        answers.append(operator_client.get(f"/providers/{pid}/").content.decode())

    # The one exit: an agent's runtime token gets the current keys, audited by hint.
    ctx = Context.command("tests")
    agent = agent_create(slug="e2e-bot", name="E2E bot", ctx=ctx)
    policy_set(agent=agent, data={"fallback_order": sorted(current)}, ctx=ctx)
    _, agent_token = agent_token_create(agent=agent, name="e2e", ctx=ctx)
    runtime = ApiClient(api.client.__class__(), agent_token)
    issued = runtime.get("/agents/e2e-bot/runtime/resolve?role=chat")
    assert issued.status_code == 200 and issued["Cache-Control"] == "no-store"
    handed = {c["provider"]: c["credential"].get("api_key") for c in issued.json()["candidates"]}
    assert handed and all(current[p] == key for p, key in handed.items())
    assert not leaks(issued.content.decode(), [k for k in secrets if k not in current.values()])

    for path in (
        "/",
        "/operations/",
        "/agents/e2e-bot/",
        "/admin/connections/connection/",
        "/admin/connections/healthsnapshot/",
        "/admin/koda/auditevent/",
        "/admin/agents/agenttoken/",
    ):
        response = operator_client.get(path)
        assert response.status_code == 200, path
        answers.append(response.content.decode())
    for connection in Connection.objects.all():
        page = operator_client.get(f"/admin/connections/connection/{connection.pk}/change/")
        answers.append(page.content.decode())
    call("GET", "/connections/catalog", expect=200)
    for pid in current:
        call("GET", f"/providers/{pid}/connection", expect=200)
        call("GET", f"/integrations/{pid}/health", expect=200)
    call("DELETE", f"/providers/{CONTRACTS[0].provider_id}/connection?confirm=true", expect=200)

    assert leaks(f"x {secrets[0]} y", secrets)  # the scan finds what it looks for
    assert not leaks(raw_rows(), secrets), "in the database"
    assert not leaks("\n".join(answers), secrets), "in an answer or a page"
    assert caplog.records and not leaks(caplog.text, secrets), "in the log"
    audit = "\n".join(f"{e.actor_label} {e.target} {e.diff!r}" for e in AuditEvent.objects.all())
    assert not leaks(audit, secrets), "in the audit trail"
    assert AuditEvent.objects.filter(action="agent.runtime_resolve").exists()
    snapshots = "\n".join(
        f"{s.message} {s.remedy} {s.raw_error} {s.probe}" for s in HealthSnapshot.objects.all()
    )
    assert HealthSnapshot.objects.count() >= 3 * len(CONTRACTS)
    assert not leaks(snapshots, secrets), "in a snapshot"
