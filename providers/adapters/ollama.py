"""Ollama: a local server (no credentials) or Ollama cloud (ollama.com API keys).
Facts: providers.md §4."""

from providers.base import (
    API_KEY_FIELD,
    AuthMethod,
    Capability,
    Credential,
    CredentialField,
)
from providers.http import ProbeResponse
from providers.verification import ErrorFields, HttpProvider, Probe, Verdict, model_entry

LOCAL_DEFAULT = "http://127.0.0.1:11434"
CLOUD_DEFAULT = "https://ollama.com"


def _tags(body) -> list[dict]:
    return [
        model_entry(
            m.get("model") or m["name"],
            m.get("name"),
            ["embedding"] if "embed" in (m.get("model") or m["name"]) else ["chat"],
        )
        for m in body["models"]
    ]


class Ollama(HttpProvider):
    id = "ollama"
    name = "Ollama"
    kind = "local"
    docs_url = "https://docs.ollama.com/api/balance"
    keys_url = "https://ollama.com/settings/keys"
    billing_url = "https://ollama.com/settings"
    default_base_url = LOCAL_DEFAULT
    auth_methods = {
        AuthMethod.LOCAL_ENDPOINT: (
            CredentialField("endpoint_url", "Endpoint URL", kind="url", help=LOCAL_DEFAULT),
        ),
        AuthMethod.API_KEY: (API_KEY_FIELD,),
    }
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING, Capability.VISION})
    good_for = "Open-weight models on your own hardware, or Ollama's hosted cloud models."
    needs_default_model = True

    def is_cloud(self, credential: Credential) -> bool:
        return credential.auth_method == AuthMethod.API_KEY

    def base_url(self, credential: Credential) -> str:
        if self.is_cloud(credential):
            return (credential.base_url or CLOUD_DEFAULT).rstrip("/")
        return (credential.endpoint_url or LOCAL_DEFAULT).rstrip("/")

    def probes_for(self, credential: Credential) -> list[Probe]:
        if self.is_cloud(credential):
            # /api/tags on ollama.com is public: it lists models but proves nothing about a key.
            return [
                Probe("GET", "/api/balance", check=self._balance),
                Probe("GET", "/api/tags", models=_tags, send_credentials=False),
            ]
        return [Probe("GET", "/api/version"), Probe("GET", "/api/tags", models=_tags)]

    def is_local(self, credential: Credential) -> bool:
        # Ollama cloud is a cloud provider: https and public addresses, like the others.
        return not self.is_cloud(credential)

    def _balance(self, response: ProbeResponse, notes: list[str]) -> Verdict | None:
        body = response.json if isinstance(response.json, dict) else {}
        included, purchased = body.get("included") or {}, body.get("purchased") or {}
        if "balance_usd" in included or "balance_usd" in purchased:
            total = float(included.get("balance_usd") or 0) + float(
                purchased.get("balance_usd") or 0
            )
            if total <= 0:
                return self.billing("no balance left (included and purchased are 0)")
            notes.append(f"Balance: ${total:.2f}.")
            return None
        windows = [
            w for w in (included.get("session"), included.get("weekly")) if isinstance(w, dict)
        ]
        if windows:  # legacy plans: usage windows instead of money
            if any(float(w.get("remaining_percent", 100)) <= 0 for w in windows):
                return self.billing("a usage window is exhausted (0% remaining)")
            return None
        return self.unreadable("balance")

    def classify(self, response: ProbeResponse, fields: ErrorFields) -> Verdict | None:
        # A bad key gets 401 with `{"error":"unauthorized"}` or the bare text "unauthorized".
        if response.status == 401:
            return self.invalid(fields.message or response.text.strip()[:100] or "unauthorized")
        return None
