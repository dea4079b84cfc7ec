"""The OpenAPI document is valid and lists every API route with every method it takes."""

from __future__ import annotations

import re

from django.urls import get_resolver
from openapi_spec_validator import validate

from koda import openapi


def api_routes() -> dict[str, set[str]]:
    """Every route under /api/control-plane/ (whichever app's URL module holds it) with the
    methods its view declares."""
    routes: dict[str, set[str]] = {}
    for include in get_resolver().url_patterns:
        if str(include.pattern) != "api/control-plane/":
            continue
        for pattern in include.url_patterns:
            if pattern.name == "api-not-found":
                continue
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
            routes[path] = {m.lower() for m in pattern.callback.api_methods if m != "HEAD"}
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
