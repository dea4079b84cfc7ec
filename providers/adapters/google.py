"""Google Gemini API (AI Studio keys). Facts: providers.md §3; cloud.google.com/apis/design/errors.

The key goes in the `x-goog-api-key` header, never `?key=` (a URL ends up in logs)."""

from django.views.decorators.debug import sensitive_variables

from providers.fields import api_key_method
from providers.http import ProbeResponse
from providers.values import Capability, Credential, Model, Outcome, Verdict
from providers.verification import ErrorFields, HttpProvider, Probe

_METHOD_CAPABILITIES = {
    "generateContent": "chat",
    "embedContent": "embedding",
    "batchEmbedContents": "embedding",
}


def _models(body) -> list[Model]:
    return [
        Model.of(
            m["name"].removeprefix("models/"),
            m.get("displayName"),
            [
                _METHOD_CAPABILITIES[x]
                for x in m.get("supportedGenerationMethods") or []
                if x in _METHOD_CAPABILITIES
            ],
            context_length=m.get("inputTokenLimit")
            if isinstance(m.get("inputTokenLimit"), int)
            else None,
        )
        for m in body["models"]
    ]


def _quota_ids(response: ProbeResponse) -> list[str]:
    error = response.json.get("error", {}) if isinstance(response.json, dict) else {}
    return [
        v.get("quotaId", "")
        for d in error.get("details") or []
        if isinstance(d, dict)
        for v in d.get("violations") or []
        if isinstance(v, dict)
    ]


class Google(HttpProvider):
    id = "google"
    name = "Google"
    docs_url = "https://ai.google.dev/api/models#method:-models.list"
    keys_url = "https://aistudio.google.com/app/apikey"
    billing_url = "https://aistudio.google.com/usage"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    methods = (api_key_method(default_base_url),)
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "Long context, multimodal input and embeddings (Gemini)."
    needs_default_model = True
    unchecked_note = "Generation quota not checked: listing models works even with zero quota."

    @sensitive_variables()
    def auth_headers(self, credential: Credential) -> dict[str, str]:
        return {"x-goog-api-key": credential.get("api_key")}

    protocol = "google"

    def probes_for(self, credential: Credential) -> list[Probe]:
        return [Probe("GET", "/models?pageSize=1000", models=_models)]

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        reasons = set(fields.reasons)
        if "API_KEY_INVALID" in reasons:
            if fields.has("expired"):
                return self.revoked(fields.message)
            return self.invalid(fields.message)
        if fields.status == "FAILED_PRECONDITION" and fields.has("location is not supported"):
            return self.region(fields.message)
        if fields.status == "PERMISSION_DENIED":
            if fields.has("reported as leaked"):
                return self.revoked(fields.message)
            if fields.has("unregistered callers"):
                return self.invalid("no key reached Google")
            if reasons & {"SERVICE_DISABLED"}:
                return Verdict(
                    Outcome.INSUFFICIENT_SCOPE,
                    "The Generative Language API is not enabled for this key's project.",
                    "Enable it with the link in the raw error, wait a "
                    "few minutes, then verify again.",
                )
            return self.scope(fields.message)
        if fields.status == "RESOURCE_EXHAUSTED":
            # One status for both; the quotaId tells a daily/plan limit from a per-minute one.
            if any("PerDay" in q for q in _quota_ids(response)):
                return self.billing(fields.message)
            return self.rate_limited(fields.message, response.retry_after)
        return None
