"""The model files Koda can download: whisper.cpp's ggml models and Kokoro's ONNX model and voices
(providers.md §16, §17: names, exact sizes, SHA-256), where they come from and where they go.

Files come from the upstream hosts, or from KODA_MODEL_MIRROR_URL, which serves the same file
names flat (`<mirror>/ggml-base.en.bin`, `<mirror>/voices-v1.0.bin`). They are stored as
`KODA_MODELS_DIR/<provider id>/<file name>`. KODA_MODEL_CATALOG_FILE (JSON, `{"base.en": {"size":
…, "sha256": …}}`) states other sizes and checksums, for a mirror serving other revisions.
"""

from __future__ import annotations

import json
import re
import threading
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from providers.transfer import Expected, file_sha256, partial_path

WHISPER_HOST = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/"
TDRZ_HOST = "https://huggingface.co/akashmjn/tinydiarize-whisper.cpp/resolve/main/"
KOKORO_HOST = "https://github.com/thewh1teagle/kokoro-onnx/releases/download/model-files-v1.0/"


@dataclass(frozen=True)
class ModelFile:
    name: str  # the catalog's name: a whisper.cpp variant (`base.en`) or a file name
    filename: str
    size: int
    sha256: str
    upstream: str
    notes: tuple[str, ...] = ()

    @property
    def expected(self) -> Expected:
        return Expected(self.size, self.sha256)

    @property
    def url(self) -> str:
        mirror = settings.KODA_MODEL_MIRROR_URL
        return f"{mirror}/{self.filename}" if mirror else self.upstream


def _whisper(name: str, size: int, sha256: str) -> ModelFile:
    notes = []
    if ".en" in name:
        notes.append("English only")
    if "-q" in name:
        notes.append(f"quantized ({name.rsplit('-', 1)[1]}): smaller, a little less accurate")
    if name.endswith("tdrz"):
        notes.append("marks speaker turns (tinydiarize)")
    if name == "large-v3-turbo":
        notes.append("the usual speed/quality default")
    filename = f"ggml-{name}.bin"
    host = TDRZ_HOST if name.endswith("tdrz") else WHISPER_HOST
    return ModelFile(name, filename, size, sha256, host + filename, tuple(notes))


# providers.md §16 (sizes and SHA-256 from two pinned manifests that agree, HF revision 5359861).
WHISPER_VARIANTS: dict[str, ModelFile] = {
    f.name: f
    for f in (
        _whisper(
            "tiny", 77691713, "be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21"
        ),
        _whisper(
            "tiny.en", 77704715, "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f"
        ),
        _whisper(
            "tiny-q5_1",
            32152673,
            "818710568da3ca15689e31a743197b520007872ff9576237bda97bd1b469c3d7",
        ),
        _whisper(
            "tiny.en-q5_1",
            32166155,
            "c77c5766f1cef09b6b7d47f21b546cbddd4157886b3b5d6d4f709e91e66c7c2b",
        ),
        _whisper(
            "tiny-q8_0",
            43537433,
            "c2085835d3f50733e2ff6e4b41ae8a2b8d8110461e18821b09a15c40c42d1cca",
        ),
        _whisper(
            "base", 147951465, "60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe"
        ),
        _whisper(
            "base.en", 147964211, "a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002"
        ),
        _whisper(
            "base-q5_1",
            59707625,
            "422f1ae452ade6f30a004d7e5c6a43195e4433bc370bf23fac9cc591f01a8898",
        ),
        _whisper(
            "base.en-q5_1",
            59721011,
            "4baf70dd0d7c4247ba2b81fafd9c01005ac77c2f9ef064e00dcf195d0e2fdd2f",
        ),
        _whisper(
            "base-q8_0",
            81768585,
            "c577b9a86e7e048a0b7eada054f4dd79a56bbfa911fbdacf900ac5b567cbb7d9",
        ),
        _whisper(
            "small", 487601967, "1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b"
        ),
        _whisper(
            "small.en",
            487614201,
            "c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d",
        ),
        _whisper(
            "small.en-tdrz",
            487614184,
            "ceac3ec06d1d98ef71aec665283564631055fd6129b79d8e1be4f9cc33cc54b4",
        ),
        _whisper(
            "small-q5_1",
            190085487,
            "ae85e4a935d7a567bd102fe55afc16bb595bdb618e11b2fc7591bc08120411bb",
        ),
        _whisper(
            "small.en-q5_1",
            190098681,
            "bfdff4894dcb76bbf647d56263ea2a96645423f1669176f4844a1bf8e478ad30",
        ),
        _whisper(
            "small-q8_0",
            264464607,
            "49c8fb02b65e6049d5fa6c04f81f53b867b5ec9540406812c643f177317f779f",
        ),
        _whisper(
            "medium", 1533763059, "6c14d5adee5f86394037b4e4e8b59f1673b6cee10e3cf0b11bbdbee79c156208"
        ),
        _whisper(
            "medium.en",
            1533774781,
            "cc37e93478338ec7700281a7ac30a10128929eb8f427dda2e865faa8f6da4356",
        ),
        _whisper(
            "medium-q5_0",
            539212467,
            "19fea4b380c3a618ec4723c3eef2eb785ffba0d0538cf43f8f235e7b3b34220f",
        ),
        _whisper(
            "medium.en-q5_0",
            539225533,
            "76733e26ad8fe1c7a5bf7531a9d41917b2adc0f20f2e4f5531688a8c6cd88eb0",
        ),
        _whisper(
            "medium-q8_0",
            823369779,
            "42a1ffcbe4167d224232443396968db4d02d4e8e87e213d3ee2e03095dea6502",
        ),
        _whisper(
            "large-v1",
            3094623691,
            "7d99f41a10525d0206bddadd86760181fa920438b6b33237e3118ff6c83bb53d",
        ),
        _whisper(
            "large-v2",
            3094623691,
            "9a423fe4d40c82774b6af34115b8b935f34152246eb19e80e376071d3f999487",
        ),
        _whisper(
            "large-v2-q5_0",
            1080732091,
            "3a214837221e4530dbc1fe8d734f302af393eb30bd0ed046042ebf4baf70f6f2",
        ),
        _whisper(
            "large-v2-q8_0",
            1656129691,
            "fef54e6d898246a65c8285bfa83bd1807e27fadf54d5d4e81754c47634737e8c",
        ),
        _whisper(
            "large-v3",
            3095033483,
            "64d182b440b98d5203c4f9bd541544d84c605196c4f7b845dfa11fb23594d1e2",
        ),
        _whisper(
            "large-v3-q5_0",
            1081140203,
            "d75795ecff3f83b5faa89d1900604ad8c780abd5739fae406de19f23ecd98ad1",
        ),
        _whisper(
            "large-v3-turbo",
            1624555275,
            "1fc70f774d38eb169993ac391eea357ef47c88757ef72ee5943879b7e8e2bc69",
        ),
        _whisper(
            "large-v3-turbo-q5_0",
            574041195,
            "394221709cd5ad1f40c46e6031ca61bce88931e6e088c188294c6d5a55ffa7e2",
        ),
        _whisper(
            "large-v3-turbo-q8_0",
            874188075,
            "317eb69c11673c9de1e1f0d459b253999804ec71ac4c23c17ecf5fbe24e259a1",
        ),
    )
}


def _kokoro(filename: str, size: int, sha256: str, *notes: str) -> ModelFile:
    return ModelFile(filename, filename, size, sha256, KOKORO_HOST + filename, notes)


# providers.md §17 (v1.0 release; sizes and SHA-256 from third-party pinned manifests). The voices
# file holds every voice in one NumPy .npz archive (keys = voice names), despite its .bin name.
KOKORO_FILES: dict[str, ModelFile] = {
    f.name: f
    for f in (
        _kokoro(
            "kokoro-v1.0.onnx",
            325532387,
            "7d5df8ecf7d4b1878015a32686053fd0eebe2bc377234608764cc0ef3636a6c5",
            "full precision (fp32)",
        ),
        _kokoro(
            "kokoro-v1.0.fp16.onnx",
            177464787,
            "c1610a859f3bdea01107e73e50100685af38fff88f5cd8e5c56df109ec880204",
            "half precision: about half the size",
        ),
        _kokoro(
            "kokoro-v1.0.int8.onnx",
            92361271,
            "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
            "quantized (int8): smallest",
        ),
        _kokoro(
            "voices-v1.0.bin",
            28214398,
            "bca610b8308e8d99f32e6fe4197e7ec01679264efed0cac9140fe9c29f1fbf7d",
            "every voice, in one file",
        ),
    )
}
KOKORO_DEFAULT_MODEL = "kokoro-v1.0.onnx"
VOICES_FILE = "voices-v1.0.bin"


def apply_overrides(path: str) -> None:
    """Replace catalog sizes and checksums with those of a JSON file (start-up, strictly)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"KODA_MODEL_CATALOG_FILE {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ImproperlyConfigured(f"KODA_MODEL_CATALOG_FILE {path}: not a JSON object")
    for name, facts in data.items():
        table = next((t for t in (WHISPER_VARIANTS, KOKORO_FILES) if name in t), None)
        size = facts.get("size") if isinstance(facts, dict) else None
        sha256 = str(facts.get("sha256", "")).lower() if isinstance(facts, dict) else ""
        if table is None or not isinstance(size, int) or size <= 0:
            raise ImproperlyConfigured(f"KODA_MODEL_CATALOG_FILE {path}: bad entry {name!r}")
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ImproperlyConfigured(f"KODA_MODEL_CATALOG_FILE {path}: {name!r} needs a sha256")
        table[name] = replace(table[name], size=size, sha256=sha256)


def kokoro_models() -> dict[str, ModelFile]:
    return {name: f for name, f in KOKORO_FILES.items() if name != VOICES_FILE}


def kokoro_voices_file() -> ModelFile:
    return KOKORO_FILES[VOICES_FILE]


if settings.KODA_MODEL_CATALOG_FILE:
    apply_overrides(settings.KODA_MODEL_CATALOG_FILE)

# Voice name prefixes: language and gender (hexgrad/Kokoro-82M VOICES.md).
VOICE_LANGUAGES = {
    "a": "American English",
    "b": "British English",
    "e": "Spanish",
    "f": "French",
    "h": "Hindi",
    "i": "Italian",
    "j": "Japanese",
    "p": "Brazilian Portuguese",
    "z": "Mandarin",
}


def path_of(provider_id: str, model_file: ModelFile) -> Path:
    return settings.KODA_MODELS_DIR / provider_id / model_file.filename


def state_of(provider_id: str, model_file: ModelFile) -> str:
    """`installed` (the right size: the checksum is checked when selected and at verification),
    `partial` (a download stopped midway and can resume), or `available`."""
    path = path_of(provider_id, model_file)
    if path.exists() and path.stat().st_size == model_file.size:
        return "installed"
    if partial_path(path).exists():
        return "partial"
    return "available"


_checked: dict[tuple[str, int, int], str] = {}
_checked_lock = threading.Lock()


def problem_with(provider_id: str, model_file: ModelFile) -> str:
    """Why the stored file is not the expected one ("" when it is). The SHA-256 of a file is
    computed once per size and modification time, not on every health check."""
    path = path_of(provider_id, model_file)
    if not path.exists():
        return f"{model_file.filename} is not downloaded"
    stat = path.stat()
    if stat.st_size != model_file.size:
        return f"{model_file.filename} is {stat.st_size} bytes, not {model_file.size}"
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _checked_lock:
        digest = _checked.get(key)
    if digest is None:
        digest = file_sha256(path)
        with _checked_lock:
            _checked[key] = digest
    if digest != model_file.sha256:
        return f"{model_file.filename} has SHA-256 {digest}, not {model_file.sha256}"
    return ""


def voices_in(path: Path) -> list[str]:
    """The voice names in a Kokoro voices file (an .npz: a zip of `<voice>.npy` arrays)."""
    with zipfile.ZipFile(path) as archive:
        return sorted(n.removesuffix(".npy") for n in archive.namelist() if n.endswith(".npy"))


def describe_voice(name: str) -> dict:
    prefix = name.split("_", 1)[0]
    language = VOICE_LANGUAGES.get(prefix[:1], "")
    gender = {"f": "female", "m": "male"}.get(prefix[1:2], "")
    return {"id": name, "language": language, "gender": gender}
