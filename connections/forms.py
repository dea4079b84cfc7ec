"""Input validation shared by the wizard and the JSON API (the services run the same form)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from providers.fields import InvalidField, Method


class CredentialForm(forms.Form):
    """One auth method of one provider: exactly the fields the adapter declares for it, each
    cleaned by its declaration (`CredentialField.clean`)."""

    def __init__(self, *args, method: Method, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.method = method
        for spec in method.fields:
            self.fields[spec.name] = forms.CharField(
                label=spec.label,
                required=False,  # the declaration decides, in clean_field below
                max_length=None,
                help_text=spec.help,
                initial=spec.default or None,
                widget=forms.PasswordInput(render_value=False) if spec.secret else None,
                strip=False,
            )
            self.fields[spec.name].spec = spec

    def clean(self) -> dict:
        cleaned = super().clean()
        for spec in self.method.fields:
            if spec.name in self.errors:
                continue
            try:
                cleaned[spec.name] = spec.clean(self.data.get(spec.name) or "")
            except InvalidField as exc:
                self.add_error(spec.name, str(exc))
        return cleaned

    def split(self) -> tuple[dict[str, str], dict[str, str]]:
        """(public values, secret values) of a valid form, without blanks."""
        public, secret = {}, {}
        for spec in self.method.fields:
            value = self.cleaned_data.get(spec.name, "")
            if value:
                (secret if spec.secret else public)[spec.name] = value
        return public, secret


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
