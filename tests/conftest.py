"""Shared fixtures: operators, API clients (every answer checked against the OpenAPI document),
stored connections, collected static files, and the guards that keep tests off the internet."""

from __future__ import annotations

import errno
import ipaddress
import json
import socket
from functools import cache

import pytest
from django.core.management import call_command
from django.test import Client
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from connections.models import Connection
from koda import openapi
from koda.context import Context
from koda.operators import operator_create
from koda.redaction import secret_hint
from koda.tokens import api_token_create
from providers.registry import PROVIDERS
from tests.fake_local import LLAMA_KEY, FakeLocal
from tests.fake_oauth import FakeOAuth

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
def _fresh_registry():
    """Each test reads the custom providers of its own database: a provider another test made
    (and rolled back) must not linger in the registry's copy for its 2 s."""
    yield
    PROVIDERS.invalidate()


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
    "together.xyz",
    "fireworks.ai",
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
    _, plaintext = api_token_create(
        operator=operator, name="tests", ctx=Context.command("tests", operator)
    )
    return plaintext


@pytest.fixture
def fake_ollama():
    """Ollama's API on 127.0.0.1 (tests/fake_local.py)."""
    server = FakeLocal("ollama")
    yield server
    server.close()


@pytest.fixture
def fake_llama():
    """llama-server on 127.0.0.1, started with --api-key LLAMA_KEY."""
    server = FakeLocal("llamacpp", api_key=LLAMA_KEY)
    yield server
    server.close()


@pytest.fixture
def fake_oauth(settings):
    """Both sign-ins' servers on 127.0.0.1 (tests/fake_oauth.py), with Koda pointed at them."""
    server = FakeOAuth().start()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server
    server.stop()


def make_connection(provider_id: str, *, auth_method: str = "api_key", **fields) -> Connection:
    """A stored connection, as the configure service leaves one: `api_key` (and any other secret
    part given as `secrets`) encrypted, every other field in the public config."""
    secrets = dict(fields.pop("secrets", {}))
    if "api_key" in fields:
        secrets["api_key"] = fields.pop("api_key")
    columns = {
        name: fields.pop(name)
        for name in list(fields)
        if name in {f.name for f in Connection._meta.concrete_fields}
    }
    return Connection.objects.create(
        provider_id=provider_id,
        auth_method=auth_method,
        config=fields,
        secrets=secrets or None,
        secret_hint=secret_hint(secrets["api_key"]) if secrets.get("api_key") else "",
        **columns,
    )


@cache
def openapi_spec() -> OpenAPI:
    return OpenAPI.from_dict(openapi.build())


def assert_documented(response) -> None:
    """The answer matches the OpenAPI document: its status is documented for that operation and
    its body matches that status's schema. The JSON 404 for undocumented paths is checked against
    the error schema alone."""
    request = response.wsgi_request
    if request.resolver_match is None or request.resolver_match.url_name == "api-not-found":
        assert_error(response, 404, "not_found")
        return
    if response.status_code == 405:  # a method the document does not list, by definition
        error = assert_error(response, 405, "method_not_allowed")
        assert response["Allow"] == ", ".join(error["details"]["allowed"])
        return
    openapi_spec().validate_response(DjangoOpenAPIRequest(request), DjangoOpenAPIResponse(response))


class ApiClient:
    """A thin JSON client for the API: bearer-authenticated unless built on a logged-in client.
    Every answer is validated against the OpenAPI document, so shapes cannot drift."""

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
        response = getattr(self.client, method.lower())(
            API + path,
            data=data,
            content_type=content_type,
            headers={**self.headers, **(headers or {})},
            CONTENT_TYPE=content_type,
        )
        assert_documented(response)
        return response

    def get(self, path: str, **kw):
        headers = {**self.headers, **kw.pop("headers", {})}
        response = self.client.get(API + path, headers=headers, **kw)
        assert_documented(response)
        return response


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
