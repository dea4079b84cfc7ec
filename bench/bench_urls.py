"""Koda's URLs plus a bare JsonResponse view under /api/ (so it passes the same middleware):
the baseline bench/resolve.py measures runtime/resolve against."""

from django.http import JsonResponse
from django.urls import include, path


def bare(request):
    return JsonResponse({"role": "triage", "candidates": []})


urlpatterns = [
    path("api/bench/bare", bare),
    path("", include("koda.urls")),
]
