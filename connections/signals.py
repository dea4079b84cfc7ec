"""What connections tells and asks the apps above it, without importing them (the house runs
one way).

`check_recorded` is sent after each check is recorded (notifications listen).

`dependents` is sent before a change that agents may rely on (a disconnect, a new default model);
each receiver answers a list of `{"agent", "name", "role", "now", "then", "effect"}` (`now` and
`then`: `{"provider", "model"}` the role uses before and after, `then` null when nothing is left;
`effect`: the same in words), which the dashboard shows for confirmation and the API answers with.
"""

from __future__ import annotations

from django.dispatch import Signal

from connections.models import Connection
from providers.base import Provider

dependents = Signal()
# Sent when a check has been recorded, inside its transaction and under the connection's row
# lock: `snapshot`; `incident`, the run of failed checks it opened, continued or ended (None for
# an ok check outside one); `refused`, true when the check was of a new credential that was
# refused while another is stored; `models_before`, the model ids the connection offered
# before the check (None where the check cannot change them).
check_recorded = Signal()
# Sent before a provider is removed: each receiver answers `{"agent", "name", "where"}` for every
# policy that names the provider (`where`: "roles.triage", "allowed_providers", "fallback_order").
references = Signal()


def dependents_of(provider: Provider, *, change: str, model: str = "") -> list[dict]:
    """Everything that would be affected if `provider` were disconnected (`change="disconnect"`)
    or its default model changed to `model` (`change="default_model"`)."""
    found: list[dict] = []
    for _receiver, answer in dependents.send(
        sender=Connection, provider_id=provider.id, change=change, model=model
    ):
        found.extend(answer or [])
    return found


def affected_key(affected: list[dict]) -> str:
    """Names exactly these dependents, so a form confirms what it showed, not whatever depends
    on the provider by the time it is posted."""
    return ",".join(sorted(f"{a['agent']}/{a['role']}" for a in affected))


def references_to(provider_id: str) -> list[dict]:
    """Everything that names `provider_id` (agents' policies), whether or not it is connected."""
    found: list[dict] = []
    for _receiver, answer in references.send(sender=Connection, provider_id=provider_id):
        found.extend(answer or [])
    return found
