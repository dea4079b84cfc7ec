"""Providers that are model files on disk: Kokoro TTS and whisper.cpp speech recognition.

They are configured by downloading files (see `providers.model_catalog`) and selecting them;
verification checks that the selected files are present and checksum-valid (runtime_missing
otherwise) and, for whisper.cpp, that an optional whisper-cli binary runs."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

from django.conf import settings

from providers.base import Provider
from providers.fields import AuthMethod, CredentialField, Method, runtime_path_field
from providers.model_catalog import (
    WHISPER_VARIANTS,
    kokoro_models,
    kokoro_voices_file,
    path_of,
    problem_with,
    voices_in,
)
from providers.runtime import check_binary
from providers.values import (
    Capability,
    Credential,
    Model,
    Outcome,
    RuntimeAccess,
    Verdict,
    VerificationResult,
)


class _ModelFiles(Provider):
    kind = "local"

    @property
    def probe(self) -> str:
        return f"read {settings.KODA_MODELS_DIR / self.id}"

    def missing(self, detail: str, remedy: str) -> VerificationResult:
        return self.result(
            Verdict(Outcome.RUNTIME_MISSING, f"{self.name}: {detail}."[:300], remedy),
            started=datetime.now(UTC),
            probe=self.probe,
        )

    def files_ok(self, model: Model, message: str, **details: str) -> VerificationResult:
        result = self.result(
            Verdict(Outcome.OK, message), started=datetime.now(UTC), probe=self.probe
        )
        result.models, result.details = [model], details
        return result


class Kokoro(_ModelFiles):
    id = "kokoro"
    name = "Kokoro"
    docs_url = "https://github.com/thewh1teagle/kokoro-onnx"
    methods = (
        Method(
            AuthMethod.MODEL_DOWNLOAD,
            "Model download",
            (
                CredentialField("model_file", "Model file", required=True),
                CredentialField("voice", "Voice", required=True),
            ),
            help="Download the ONNX model and the voices file, then pick a voice.",
        ),
    )
    capabilities = frozenset({Capability.TTS})
    good_for = "Offline text to speech with a small ONNX model and many voices."

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        model_file = kokoro_models().get(credential.get("model_file"))
        paths = {"voices": str(path_of(self.id, kokoro_voices_file()))}
        if model_file is not None:
            paths["model"] = str(path_of(self.id, model_file))
        return RuntimeAccess("kokoro-onnx", paths=paths)

    def check(self, credential: Credential) -> VerificationResult:
        model_file, voices_file = (
            kokoro_models().get(credential.get("model_file")),
            kokoro_voices_file(),
        )
        if model_file is None:
            return self.missing(
                f"{credential.get('model_file')!r} is not a Kokoro v1.0 model",
                f"Pick one of {', '.join(kokoro_models())}.",
            )
        for wanted in (model_file, voices_file):
            problem = problem_with(self.id, wanted)
            if problem:
                return self.missing(problem, f"Download {wanted.filename} again.")
        try:
            voices = voices_in(path_of(self.id, voices_file))
        except (OSError, zipfile.BadZipFile) as exc:
            return self.missing(f"the voices file cannot be read ({exc})", "Download it again.")
        voice = credential.get("voice")
        if voice not in voices:
            return self.missing(
                f"the voices file has no voice {voice!r}",
                f"Pick one of its {len(voices)} voices (e.g. {', '.join(voices[:3])}).",
            )
        model = Model.of(model_file.name, capabilities=["tts"], size_bytes=model_file.size)
        return self.files_ok(
            model,
            f"Kokoro {model_file.filename} with voice {voice} is ready.",
            voices=str(len(voices)),
        )


class WhisperCpp(_ModelFiles):
    id = "whispercpp"
    name = "Whisper (whisper.cpp)"
    docs_url = "https://github.com/ggml-org/whisper.cpp"
    methods = (
        Method(
            AuthMethod.MODEL_DOWNLOAD,
            "Model download",
            (
                CredentialField("variant", "Model variant", required=True),
                runtime_path_field(
                    "whisper-cli path (optional)",
                    "The whisper-cli binary, if Koda should check it too.",
                    required=False,
                ),
            ),
            help="Download a ggml model variant and select it.",
        ),
    )
    capabilities = frozenset({Capability.STT})
    good_for = "Offline transcription with ggml Whisper models."

    def runtime_access(self, credential: Credential) -> RuntimeAccess:
        variant = WHISPER_VARIANTS.get(credential.get("variant"))
        paths = {"model": str(path_of(self.id, variant))} if variant else {}
        if credential.get("runtime_path"):
            paths["binary"] = credential.get("runtime_path")
        return RuntimeAccess("whisper.cpp", paths=paths)

    def check(self, credential: Credential) -> VerificationResult:
        variant = WHISPER_VARIANTS.get(credential.get("variant"))
        if variant is None:
            return self.missing(
                f"{credential.get('variant')!r} is not a whisper.cpp model variant",
                "Pick a variant from the catalog (e.g. base.en, large-v3-turbo).",
            )
        problem = problem_with(self.id, variant)
        if problem:
            return self.missing(problem, f"Download the {variant.name} variant again.")
        if credential.get("runtime_path"):
            binary = check_binary(
                self,
                credential.get("runtime_path"),
                args=["--help"],
                recognise=lambda out: {} if "usage" in out.lower() else None,
                program="whisper-cli",
            )
            if not binary.ok:
                return binary
        model = Model.of(variant.name, capabilities=["stt"], size_bytes=variant.size)
        return self.files_ok(model, f"whisper.cpp {variant.name} is ready.", file=variant.filename)
