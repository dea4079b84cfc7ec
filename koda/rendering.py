"""Full page or fragment, decided in one place (the netbox pattern).

An HTMX request gets only the named partial `template#partial`; any other request gets the page.
Each swappable region's element id equals its partial name.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict, status: int = 200
) -> HttpResponse:
    target = request.headers.get("HX-Target") if request.htmx else None
    name = f"{template}#{partial}" if target == partial else template
    return render(request, name, context, status=status)


def render_swap(request: HttpRequest, template: str, partial: str, context: dict) -> HttpResponse:
    """After a write: an HTMX request gets the named partial it will swap in, any other request
    the whole page."""
    name = f"{template}#{partial}" if request.htmx else template
    return render(request, name, context)
