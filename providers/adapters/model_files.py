"""Providers that are model files on disk: Kokoro TTS and whisper.cpp speech recognition."""

from providers.base import AuthMethod, Capability, CredentialField, Provider


class Kokoro(Provider):
    id = "kokoro"
    name = "Kokoro"
    kind = "local"
    docs_url = "https://github.com/thewh1teagle/kokoro-onnx"
    auth_methods = {AuthMethod.MODEL_DOWNLOAD: ()}
    capabilities = frozenset({Capability.TTS})
    good_for = "Offline text to speech with a small ONNX model and many voices."


class WhisperCpp(Provider):
    id = "whispercpp"
    name = "Whisper (whisper.cpp)"
    kind = "local"
    docs_url = "https://github.com/ggml-org/whisper.cpp"
    auth_methods = {
        AuthMethod.MODEL_DOWNLOAD: (
            CredentialField("runtime_path", "whisper-cli path (optional)", kind="path"),
        )
    }
    capabilities = frozenset({Capability.STT})
    good_for = "Offline transcription with ggml Whisper models."
