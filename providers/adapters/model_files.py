"""Providers that are model files on disk: Kokoro TTS and whisper.cpp speech recognition.
Their lifecycle is a model download, built with the download jobs (issue 9)."""

from providers.base import Provider
from providers.fields import AuthMethod, Method, runtime_path_field
from providers.values import Capability


class Kokoro(Provider):
    id = "kokoro"
    name = "Kokoro"
    kind = "local"
    docs_url = "https://github.com/thewh1teagle/kokoro-onnx"
    methods = (Method(AuthMethod.MODEL_DOWNLOAD, "Model download"),)
    capabilities = frozenset({Capability.TTS})
    good_for = "Offline text to speech with a small ONNX model and many voices."


class WhisperCpp(Provider):
    id = "whispercpp"
    name = "Whisper (whisper.cpp)"
    kind = "local"
    docs_url = "https://github.com/ggml-org/whisper.cpp"
    methods = (
        Method(
            AuthMethod.MODEL_DOWNLOAD,
            "Model download",
            (
                runtime_path_field(
                    "whisper-cli path (optional)",
                    "The whisper-cli binary, if Koda should check it too.",
                    required=False,
                ),
            ),
        ),
    )
    capabilities = frozenset({Capability.STT})
    good_for = "Offline transcription with ggml Whisper models."
