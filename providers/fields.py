"""What an operator enters for a provider, declared once per auth method.

Each adapter lists its auth methods as `Method`s, each with its `CredentialField`s. Everything that
takes or shows a credential derives from these declarations: the wizard's form and the API's
input validation (`CredentialField.clean`), the connection-state serializer and the audit diff
(the public fields), admin, the catalog and the OpenAPI schemas. Adding a field to a provider is
one line in its adapter.
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit


class AuthMethod(enum.StrEnum):
    API_KEY = "api_key"
    LOGIN = "login"
    LOCAL_ENDPOINT = "local_endpoint"
    LOCAL_RUNTIME = "local_runtime"
    MODEL_DOWNLOAD = "model_download"

    @property
    def is_local(self) -> bool:
        """Local methods may reach loopback and private addresses (design §6)."""
        return self in (AuthMethod.LOCAL_ENDPOINT, AuthMethod.LOCAL_RUNTIME)

    @property
    def takes_input(self) -> bool:
        """Configured from a form of declared fields (login and downloads have their own flows)."""
        return self in (AuthMethod.API_KEY, AuthMethod.LOCAL_ENDPOINT, AuthMethod.LOCAL_RUNTIME)


class FieldKind(enum.StrEnum):
    TEXT = "text"
    KEY = "key"  # a pasted key or token: visible ASCII, no spaces
    URL = "url"  # an http(s) API root: no credentials, query or fragment
    PATH = "path"  # an absolute path on the Koda host
    IDENTIFIER = "identifier"  # letters, digits, '-' and '_' (OpenAI organization, project)


class InvalidField(ValueError):
    """A value an operator entered is not acceptable; the message says why, for a person."""


_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces or control characters
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_\-]+$")
_VISIBLE_TEXT = re.compile(r"^[^\x00-\x1f\x7f]+$")


def clean_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField("Enter an http(s) URL, e.g. https://api.example.com/v1.")
    if parts.username or parts.password:
        raise InvalidField("Leave credentials out of the URL; put the key in the key field.")
    if parts.query or parts.fragment:
        raise InvalidField("The URL takes no query string or fragment.")
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise InvalidField("The port is not a number between 0 and 65535.") from None
    return value.rstrip("/")


def _clean_path(value: str) -> str:
    if "\x00" in value or not os.path.isabs(value):
        raise InvalidField("Enter the absolute path of the file, e.g. /usr/local/bin/llama-server.")
    return os.path.normpath(value)


def _matching(pattern: re.Pattern, message: str):
    def clean(value: str) -> str:
        if not pattern.match(value):
            raise InvalidField(message)
        return value

    return clean


_CLEANERS = {
    FieldKind.KEY: _matching(
        _PRINTABLE, "The key has spaces or invisible characters; paste it again."
    ),
    FieldKind.URL: clean_url,
    FieldKind.PATH: _clean_path,
    FieldKind.IDENTIFIER: _matching(_IDENTIFIER, "Use only letters, digits, '-' and '_'."),
    FieldKind.TEXT: _matching(_VISIBLE_TEXT, "Remove the invisible characters from this value."),
}


@dataclass(frozen=True)
class CredentialField:
    """One input of an auth method; `secret` fields are encrypted and never shown again.

    `default` is what a blank value means (shown prefilled in the form); a value equal to it is
    stored blank, so a changed default reaches connections that never chose their own.
    """

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    secret: bool = False
    required: bool = False
    help: str = ""
    max_length: int = 2048
    default: str = ""

    def clean(self, value: str) -> str:
        """The value to store ("" for blank or the default), or InvalidField."""
        value = value.strip()
        if not value:
            if self.required:
                raise InvalidField("This field is required.")
            return ""
        if len(value) > self.max_length:
            raise InvalidField(f"At most {self.max_length} characters.")
        value = _CLEANERS[self.kind](value)
        return "" if self.default and value == self.default.rstrip("/") else value


@dataclass(frozen=True)
class Method:
    """One way to configure a provider: its label in the wizard and the fields it takes."""

    id: AuthMethod
    label: str
    fields: tuple[CredentialField, ...] = ()
    help: str = ""

    def field(self, name: str) -> CredentialField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def public_fields(self) -> tuple[CredentialField, ...]:
        return tuple(f for f in self.fields if not f.secret)

    @property
    def secret_fields(self) -> tuple[CredentialField, ...]:
        return tuple(f for f in self.fields if f.secret)

    def describe(self) -> dict:
        return {
            "id": str(self.id),
            "label": self.label,
            "help": self.help,
            "fields": [
                {
                    "name": f.name,
                    "label": f.label,
                    "kind": str(f.kind),
                    "secret": f.secret,
                    "required": f.required,
                    "help": f.help,
                    "max_length": f.max_length,
                    "default": f.default or None,
                }
                for f in self.fields
            ],
        }


# --- fields several providers share ----------------------------------------------------------


def api_key_field(
    *, required: bool = True, label: str = "API key", help: str = ""
) -> CredentialField:
    return CredentialField(
        "api_key",
        label,
        kind=FieldKind.KEY,
        secret=True,
        required=required,
        help=help,
        max_length=1024,
    )


def base_url_field(default: str) -> CredentialField:
    return CredentialField(
        "base_url",
        "Base URL",
        kind=FieldKind.URL,
        help=f"Leave as {default} unless you use a gateway or proxy.",
        default=default,
    )


def endpoint_url_field(default: str = "", help: str = "") -> CredentialField:
    return CredentialField(
        "endpoint_url",
        "Endpoint URL",
        kind=FieldKind.URL,
        help=help or f"Where the server listens; leave as {default} for this machine.",
        default=default,
    )


def runtime_path_field(label: str, help: str, *, required: bool = True) -> CredentialField:
    return CredentialField(
        "runtime_path", label, kind=FieldKind.PATH, required=required, help=help, max_length=4096
    )


def api_key_method(
    default_base_url: str, *extra: CredentialField, label: str = "API key"
) -> Method:
    """The usual API-key method: a key, the base URL it is verified against, and extras."""
    return Method(
        AuthMethod.API_KEY, label, (api_key_field(), base_url_field(default_base_url), *extra)
    )
