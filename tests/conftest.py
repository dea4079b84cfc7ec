"""Shared fixtures: operators, API clients, collected static files."""

from __future__ import annotations

import errno
import ipaddress
import json
import socket

import pytest
from django.core.management import call_command
from django.test import Client

from koda.operators import operator_create
from koda.tokens import api_token_create

API = "/api/control-plane"


@pytest.fixture(scope="session", autouse=True)
def _collected_static(tmp_path_factory, django_db_blocker):
    """Production static storage (whitenoise manifest) needs collectstatic, as `make run` does."""
    from django.conf import settings

    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")
    call_command("collectstatic", interactive=False, verbosity=0)


# Provider hosts resolve to a public address here; `responses` answers their requests. Any other
# name fails to resolve, so no test can reach the internet by accident (design: no test does).
FAKE_PUBLIC_ADDRESS = "104.16.0.1"


@pytest.fixture(autouse=True)
def _offline_dns(monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in ("localhost", "127.0.0.1", "::1") or _is_ip(host):
            return real(host, port, *args, **kwargs)
        if host.endswith(FAKE_DNS_SUFFIXES):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (FAKE_PUBLIC_ADDRESS, port or 443))]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """Refuse any connection from this process to a non-loopback address: a test that forgot
    to fake a provider fails as unreachable instead of reaching out."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(address) -> None:
        if (
            isinstance(address, tuple)
            and not ipaddress.ip_address(address[0].split("%")[0]).is_loopback
        ):
            raise OSError(errno.ENETUNREACH, f"tests may not connect to {address[0]}")

    def connect(self, address):
        guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        guard(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


FAKE_DNS_SUFFIXES = (
    "anthropic.com",
    "openai.com",
    "googleapis.com",
    "ollama.com",
    "elevenlabs.io",
    "perplexity.ai",
    "mistral.ai",
    "aliyuncs.com",
    "moonshot.ai",
    "moonshot.cn",
    "groq.com",
    "deepseek.com",
    "x.ai",
    "openrouter.ai",
    "gateway.example",
)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@pytest.fixture
def operator(db):
    return operator_create(username="ada", password="correct horse battery staple")


@pytest.fixture
def operator_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def api_token(operator) -> str:
    _, plaintext = api_token_create(operator=operator, name="tests", via="command")
    return plaintext


class ApiClient:
    """A thin JSON client for the API: bearer-authenticated unless `cookie_client` is given."""

    def __init__(self, client: Client, token: str | None = None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(
        self,
        method: str,
        path: str,
        body=None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        headers: dict | None = None,
    ):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        # Django's client drops Content-Type when there is no body; curl -H keeps it.
        return getattr(self.client, method.lower())(
            API + path,
            data=data,
            content_type=content_type,
            headers={**self.headers, **(headers or {})},
            CONTENT_TYPE=content_type,
        )

    def get(self, path: str, **kw):
        return self.client.get(API + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)


@pytest.fixture
def api(api_token) -> ApiClient:
    return ApiClient(Client(), api_token)


@pytest.fixture
def cookie_api(operator_client) -> ApiClient:
    return ApiClient(operator_client)


def assert_error(response, status: int, code: str) -> dict:
    """The single error shape (design §7)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]
