"""Input validation shared by the wizard and the JSON API (the same form checks both)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError

from providers.base import AuthMethod, Provider

_PRINTABLE_KEY = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces or control characters
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_\-]+$")


def validate_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an http(s) URL, e.g. https://api.example.com/v1.")
    if parts.username or parts.password:
        raise ValidationError("Leave credentials out of the URL; put the key in the key field.")
    if parts.query or parts.fragment:
        raise ValidationError("The base URL takes no query string or fragment.")
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise ValidationError("The port is not a number between 0 and 65535.") from None
    return value.rstrip("/")


class ApiKeyForm(forms.Form):
    """The API-key method of one provider: exactly the fields that provider declares."""

    def __init__(self, *args, provider: Provider, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider
        for spec in provider.auth_methods.get(AuthMethod.API_KEY, ()):
            widget = forms.PasswordInput(render_value=False) if spec.secret else None
            field = forms.CharField(
                label=spec.label,
                required=spec.required,
                max_length=spec.max_length,
                help_text=spec.help,
                widget=widget,
                strip=True,
            )
            if spec.kind == "url":
                field.initial = provider.default_base_url
            self.fields[spec.name] = field

    def clean_api_key(self) -> str:
        key = self.cleaned_data["api_key"]
        if not _PRINTABLE_KEY.match(key):
            raise ValidationError("The key has spaces or invisible characters; paste it again.")
        return key

    def clean_base_url(self) -> str:
        value = self.cleaned_data.get("base_url", "")
        if not value:
            return ""
        value = validate_base_url(value)
        return "" if value == self.provider.default_base_url.rstrip("/") else value

    def _clean_identifier(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        if value and not _IDENTIFIER.match(value):
            raise ValidationError("Use only letters, digits, '-' and '_'.")
        return value

    def clean_organization(self) -> str:
        return self._clean_identifier("organization")

    def clean_project(self) -> str:
        return self._clean_identifier("project")


class DefaultModelForm(forms.Form):
    model = forms.CharField(max_length=256, strip=True)

    def __init__(self, *args, choices: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices

    def clean_model(self) -> str:
        model = self.cleaned_data["model"]
        if model not in self.choices:
            raise ValidationError("Pick one of the models this connection discovered.")
        return model
