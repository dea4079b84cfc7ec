"""ElevenLabs. Facts: providers.md §5; elevenlabs/elevenlabs-python.

Keys can be scoped per endpoint group. `/v1/user/subscription` needs `user_read` and shows the
credit left; a key without it may still be a good TTS key, so Koda then checks `/v1/models`."""

from django.views.decorators.debug import sensitive_variables

from providers.fields import api_key_method
from providers.http import ProbeResponse
from providers.values import Capability, Credential, Credit, Model, Outcome, Verdict
from providers.verification import ErrorFields, HttpProvider, Probe, error_fields


def _models(body) -> list[Model]:
    return [
        Model.of(m["model_id"], m.get("name"), ["tts"] if m.get("can_do_text_to_speech") else [])
        for m in body
    ]


class ElevenLabs(HttpProvider):
    id = "elevenlabs"
    name = "ElevenLabs"
    docs_url = "https://elevenlabs.io/docs/api-reference/user/subscription/get"
    keys_url = "https://elevenlabs.io/app/settings/api-keys"
    billing_url = "https://elevenlabs.io/app/subscription"
    default_base_url = "https://api.elevenlabs.io"
    # Data-residency hosts (api.eu.residency.elevenlabs.io, …), gateways and proxies.
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.TTS, Capability.STT})
    good_for = "Natural-sounding voices for agents that speak; transcription."

    @sensitive_variables()
    def auth_headers(self, credential: Credential) -> dict[str, str]:
        return {"xi-api-key": credential.get("api_key")}

    protocol = "elevenlabs"

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [
            Probe(
                "GET",
                "/v1/user/subscription",
                check=self._credit_left,
                credit=self._credit,
                expect=self._subscription_or_scoped,
            ),
            Probe("GET", "/v1/models", models=_models),
            Probe("GET", "/v1/voices", check=self._voices, expect=self._voices_optional),
        ]

    def _subscription_or_scoped(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        if response.status == 401 and error_fields(response.json).status == "missing_permissions":
            # A scoped key: fine for TTS, just not for reading the subscription.
            notes.append("Credit not checked: the key lacks the user_read permission.")
            return None
        return self.expect_success(response, notes)

    def _credit_left(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        body = response.json
        if not isinstance(body, dict) or "character_limit" not in body:
            return None  # a scoped key's 401 body, already accepted above
        remaining = (body.get("character_limit") or 0) - (body.get("character_count") or 0)
        if remaining <= 0:
            return self.billing(
                f"no characters left this period ({body.get('character_count')} of "
                f"{body.get('character_limit')} used, tier {body.get('tier')})"
            )
        notes.append(f"{remaining} characters left on the {body.get('tier')} tier.")
        return None

    @staticmethod
    def _credit(body) -> Credit | None:
        """Characters left this period, of the plan's limit (a scoped key's 401 has none)."""
        if not isinstance(body, dict) or "character_limit" not in body:
            return None
        limit, used = body.get("character_limit") or 0, body.get("character_count") or 0
        left = max(0, limit - used)
        return Credit(float(left), "characters", left / limit if limit > 0 else None)

    def _voices_optional(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        if response.status in (401, 403):
            notes.append("Voices not listed: the key lacks the voices_read permission.")
            return None
        return self.expect_success(response, notes)

    def _voices(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        if isinstance(response.json, dict) and isinstance(response.json.get("voices"), list):
            notes.append(f"{len(response.json['voices'])} voices available.")
        return None

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        status = fields.status
        if status in ("invalid_api_key", "needs_authorization"):
            return self.invalid(fields.message)
        if status == "missing_permissions":
            return self.scope(fields.message)
        if status in ("quota_exceeded", "detected_unusual_activity"):
            # Both are fixed by paying: credits, or a paid plan for a flagged free tier.
            return self.billing(fields.message)
        if status == "too_many_concurrent_requests":
            return self.rate_limited(fields.message, response.retry_after)
        if status == "system_busy":
            return Verdict(Outcome.PROVIDER_UNAVAILABLE, "ElevenLabs is busy.", "Try again later.")
        return None
