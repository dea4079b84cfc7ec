"""What the connection services share: their errors, the row lock, what an audit diff may show
of a connection, and the check for agents that depend on a change."""

from __future__ import annotations

from connections.forms import CredentialForm
from connections.models import Connection
from connections.signals import affected_key, dependents_of
from providers.base import Provider


class NotConfigured(Exception):
    """The provider has no stored connection."""


class UnknownModel(ValueError):
    """The model is not one the connection discovered."""


class ConfirmationRequired(Exception):
    """Agents depend on what is about to change: `affected` lists them (agent, role, effect).
    Callers show the list and call again with `confirmed=True`."""

    def __init__(self, affected: list[dict]) -> None:
        super().__init__(f"{len(affected)} agent role(s) depend on this")
        self.affected = affected

    @property
    def key(self) -> str:
        return affected_key(self.affected)


class UnsupportedAuthMethod(Exception):
    """The provider does not take this auth method (or not through a form)."""

    def __init__(self, provider: Provider, method: str) -> None:
        super().__init__(f"{provider.name} does not take {method!r} here")
        self.provider, self.method = provider, method


class InvalidCredentialInput(Exception):
    """Some fields of the credential are not acceptable; `form` holds the errors per field."""

    def __init__(self, form: CredentialForm) -> None:
        super().__init__("invalid credential input")
        self.form = form

    @property
    def errors(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.form.errors.items()}


def _check_dependents(
    provider: Provider, change: str, model: str = "", *, confirmed: bool
) -> list[dict]:
    affected = dependents_of(provider, change=change, model=model)
    if affected and not confirmed:
        raise ConfirmationRequired(affected)
    return affected


def locked_connection(provider: Provider) -> Connection | None:
    """The provider's connection, row-locked until the transaction ends, its secrets unread."""
    return (
        Connection.objects.select_for_update()
        .defer("secrets")
        .filter(provider_id=provider.id)
        .first()
    )


def _public(connection: Connection) -> dict:
    """What an audit diff may show of a connection: everything but its secret parts."""
    return {
        "auth_method": connection.auth_method,
        "config": dict(connection.config),
        "secret_hint": connection.secret_hint,
        "default_model": connection.default_model,
        "status": connection.status,
    }
