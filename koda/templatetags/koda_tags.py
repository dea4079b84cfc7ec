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


@register.filter
def iso_ago(value: str | None) -> str:
    """`ago` of an ISO 8601 timestamp as the API shapes carry them."""
    if not value:
        return ""
    try:
        return ago(datetime.fromisoformat(value))
    except ValueError:
        return ""


@register.filter
def duration(value) -> str:
    """A timedelta for people: `15 minutes`, `1 hour 30 minutes`, `45 seconds`."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((hours, "hour"), (minutes, "minute"))
        if n
    ]
    if not parts:
        return f"{secs} second{'' if secs == 1 else 's'}"
    return " ".join(parts)
