"""Schemathesis over the OpenAPI document, every operation, as an authenticated operator: no
5xx, every status and body as documented (errors in the one error shape), every content type as
declared. Path parameters are drawn from real values (provider ids, agent slugs), so generated
cases get past the 404 and exercise the handlers behind it."""

from __future__ import annotations

import copy
import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agents.services import agent_create
from koda import openapi
from koda.context import Context
from koda.tokens import api_token_create
from providers.registry import BUILTINS
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)

# CI's budget: a few thousand cases across the operations (KODA_FUZZ_EXAMPLES per operation).
EXAMPLES = int(os.environ.get("KODA_FUZZ_EXAMPLES", "60"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
REAL = {
    "provider_id": sorted(BUILTINS),
    "integration_id": sorted(BUILTINS),
    "agent_id": ["support-bot", "nonesuch"],
}


def realistic(document: dict) -> dict:
    """The document with its path parameters narrowed to real values (for generation only).
    A value that makes a templated path one the document lists on its own (/providers/
    {provider_id}/models with whispercpp is /providers/whispercpp/models, a different operation)
    is left out of that template: the concrete path wins, as OpenAPI says."""
    doc = copy.deepcopy(document)
    for path, item in doc["paths"].items():
        for operation in [item, *(v for v in item.values() if isinstance(v, dict))]:
            parameters = operation.get("parameters", [])
            for i, parameter in enumerate(parameters):
                name = parameter["name"]
                if parameter.get("in") == "path" and name in REAL:
                    values = [
                        v for v in REAL[name] if path.replace(f"{{{name}}}", v) not in doc["paths"]
                    ]
                    # A new dict: the document shares one parameter object between its paths.
                    parameters[i] = {**parameter, "schema": {"type": "string", "enum": values}}
    return doc


SCHEMA = schemathesis.openapi.from_dict(realistic(openapi.build()))
SCHEMA.app = WSGIHandler()


@pytest.fixture
def operator_token(operator, fake_oauth) -> str:
    """An operator token, a connection, an agent, and the sign-in providers on a local fake."""
    make_connection("groq", api_key="gsk_" + "f" * 48, discovered_models=[{"id": "llama"}])
    agent_create(slug="support-bot", name="Support bot", ctx=Context.command("fuzz"))
    _, token = api_token_create(operator=operator, name="fuzz", ctx=Context.command("fuzz"))
    return token


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_holds_to_the_document(case, operator_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {operator_token}"},
        checks=CHECKS,
    )
