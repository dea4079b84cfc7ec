"""Agents on stored connections: verified (or degraded, failing) providers with discovered models,
an agent with a policy, and its runtime token."""

from __future__ import annotations

import pytest

from agents.models import Agent
from agents.services import agent_create, policy_set
from agents.tokens import agent_token_create
from connections.models import Status
from koda.context import Context
from tests.conftest import make_connection

GROQ_KEY = "gsk_GroqAgentKey0123456789abcdefABCDEFGHIJ"
ANTHROPIC_KEY = "sk-ant-api03-AgentKey0123456789abcdefABCDEFGHIJKLMNOP"
OPENAI_KEY = "sk-proj-AgentKey0123456789abcdefABCDEFGHIJKLMNOPQRST"

GROQ_MODELS = ["llama-3.1-8b-instant", "llama-3.3-70b-versatile"]
ANTHROPIC_MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5"]
OPENAI_MODELS = ["gpt-4.1-mini", "text-embedding-3-small"]


def connect(provider_id: str, models: list[str], *, status=Status.VERIFIED, **fields):
    """A stored connection in `status`, its models discovered (embedding models so marked)."""
    discovered = [
        {
            "id": m,
            "capabilities": ["embedding"] if "embedding" in m else ["chat"],
        }
        for m in models
    ]
    return make_connection(
        provider_id,
        status=status,
        discovered_models=discovered,
        default_model=fields.pop("default_model", models[0]),
        **fields,
    )


@pytest.fixture
def providers(db):
    """Groq, Anthropic and OpenAI (with an organization and project), all verified."""
    return {
        "groq": connect("groq", GROQ_MODELS, api_key=GROQ_KEY),
        "anthropic": connect("anthropic", ANTHROPIC_MODELS, api_key=ANTHROPIC_KEY),
        "openai": connect(
            "openai",
            OPENAI_MODELS,
            api_key=OPENAI_KEY,
            organization="org-AgentTests",
            project="proj_AgentTests",
        ),
    }


POLICY = {
    "roles": {
        "triage": {"provider": "groq", "model": "llama-3.1-8b-instant"},
        "final": {"provider": "anthropic", "model": "claude-sonnet-4-5"},
    },
    "allowed_providers": ["groq", "anthropic", "openai"],
    "fallback_order": ["anthropic", "openai"],
}


@pytest.fixture
def agent(providers, operator) -> Agent:
    """support-bot with POLICY (version 2: version 1 is the empty policy it was created with)."""
    ctx = Context.command("tests", operator)
    made = agent_create(slug="support-bot", name="Support bot", ctx=ctx)
    policy_set(agent=made, data=POLICY, ctx=ctx)
    return made


@pytest.fixture
def agent_token(agent) -> str:
    _, plaintext = agent_token_create(agent=agent, name="tests", ctx=Context.command("tests"))
    return plaintext


@pytest.fixture
def koda(transactional_db, settings):
    """Koda over real HTTP on localhost, for programs a test runs (the example runtime)."""
    from tests.live_server import LiveServer

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    server = LiveServer()
    yield server
    server.stop()
