"""The OpenAPI document is valid and lists every API route with every method it takes."""

from __future__ import annotations

import re

from django.urls import get_resolver
from openapi_spec_validator import validate

from koda import openapi


def api_routes() -> dict[str, set[str]]:
    """Every route under /api/control-plane/ with the methods its view declares."""
    routes: dict[str, set[str]] = {}
    api = next(p for p in get_resolver().url_patterns if getattr(p, "app_name", "") == "api")
    for pattern in api.url_patterns:
        if pattern.name == "not-found":
            continue
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        methods = {m.lower() for m in pattern.callback.api_methods if m != "HEAD"}
        routes[path] = methods
    return routes


def test_it_is_a_valid_openapi_3_document():
    validate(openapi.build())


def test_it_documents_every_api_route_and_method():
    documented = {
        path: {m for m in ops if m != "parameters"}
        for path, ops in openapi.build()["paths"].items()
    }
    routes = api_routes()
    assert routes, "no API routes found"
    assert routes == documented


def test_it_serves_the_document_to_an_operator(api):
    response = api.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
