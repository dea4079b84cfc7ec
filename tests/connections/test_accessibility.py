"""Every form control on every dashboard page has a label a screen reader can read, and status
is said in words (pills carry text), not only in colour."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.utils import timezone

from agents.services import agent_create
from connections.models import Status
from koda.context import Context
from koda.models import AuditEvent
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
PAGES = [
    "/",
    "/providers/openai/",
    "/providers/openai/?method=login",
    "/providers/groq/",
    "/providers/ollama/",
    "/providers/whispercpp/",
    "/providers/kokoro/",
    "/providers/llamacpp/?method=local_runtime",
    "/providers/new/",
    "/operations/",
    "/agents/",
    "/agents/support-bot/",
    "/downloads/",
    "/tokens/",
]
SKIP_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels_for: set[str] = set()
        self.open_labels = 0
        self.controls: list[tuple[dict, bool]] = []  # (attributes, inside a <label>)
        self.badges: list[str] = []
        self._badge = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.labels_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in SKIP_TYPES:
            self.controls.append((attrs, self.open_labels > 0))
        if tag == "span" and "badge" in (attrs.get("class") or "").split():
            self._badge = True
            self.badges.append("")

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1
        if tag == "span":
            self._badge = False

    def handle_data(self, data):
        if self._badge:
            self.badges[-1] += data.strip()

    def unlabelled(self) -> list[str]:
        return [
            a.get("name") or a.get("id") or str(a)
            for a, wrapped in self.controls
            if not wrapped
            and a.get("id") not in self.labels_for
            and not a.get("aria-label")
            and not a.get("aria-labelledby")
        ]


def test_every_control_is_labelled_and_every_pill_says_its_status(operator_client):
    make_connection(
        "groq",
        api_key="gsk_" + "g" * 40,
        status=Status.FAILING,
        last_message="refused",
        last_checked_at=timezone.now(),
        discovered_models=[{"id": "llama-3.1-8b-instant"}],
    )
    make_connection("ollama", auth_method="local_endpoint", status=Status.VERIFIED)
    agent_create(slug="support-bot", name="Support bot", ctx=Context.command("tests"))
    problems = {}
    for path in PAGES:
        response = operator_client.get(path)
        assert response.status_code == 200, path
        parser = Controls()
        parser.feed(response.content.decode())
        if parser.unlabelled():
            problems[path] = parser.unlabelled()
        assert all(parser.badges), f"{path}: a status pill without words"
    assert not problems, problems


def test_dashboard_writes_record_the_client_address(operator_client):
    operator_client.post("/tokens/", {"name": "deploy-bot"}, REMOTE_ADDR="10.9.8.7")
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.client_address == "10.9.8.7"


def test_the_label_check_finds_an_unlabelled_control():
    parser = Controls()
    parser.feed(
        '<label for="a">A</label><input id="a"><label>B <input name="b"></label><input name="c">'
    )
    assert parser.unlabelled() == ["c"]
