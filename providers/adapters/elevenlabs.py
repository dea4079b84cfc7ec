"""ElevenLabs (text to speech, speech to text)."""

from providers.base import API_KEY_FIELD, AuthMethod, Capability, Provider


class ElevenLabs(Provider):
    id = "elevenlabs"
    name = "ElevenLabs"
    docs_url = "https://elevenlabs.io/docs/api-reference/user/subscription/get"
    keys_url = "https://elevenlabs.io/app/settings/api-keys"
    billing_url = "https://elevenlabs.io/app/subscription"
    default_base_url = "https://api.elevenlabs.io"
    auth_methods = {AuthMethod.API_KEY: (API_KEY_FIELD,)}
    capabilities = frozenset({Capability.TTS, Capability.STT})
    good_for = "Natural-sounding voices for agents that speak; transcription."
