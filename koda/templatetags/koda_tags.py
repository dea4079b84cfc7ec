"""Small template helpers for the dashboard."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """`12 seconds ago` under a minute (Django's timesince says `0 minutes`), else timesince."""
    if not value:
        return ""
    seconds = int((timezone.now() - value).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} second{'' if seconds == 1 else 's'} ago"
    return f"{timesince(value)} ago"


@register.filter
def installed(files: list[dict]) -> list[dict]:
    """The catalog entries that are downloaded (what can be selected)."""
    return [f for f in files if f.get("state") == "installed"]


@register.filter
def any_active(jobs: list[dict]) -> bool:
    return any(job.get("status") in ("queued", "running") for job in jobs)
