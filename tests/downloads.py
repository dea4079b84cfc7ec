"""Generated model files served by a local mirror, standing in for the catalog's real files
(which are hundreds of MB): each replaces its catalog entry with the generated file's exact size
and SHA-256, under the same file name. Used by the download tests, the worker tests (whose
worker process reads them through KODA_MODEL_CATALOG_FILE) and the benchmark."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import replace
from pathlib import Path

from providers import model_catalog
from providers.model_catalog import ModelFile
from tests.worker import TaskWorker

VOICES = ("af_heart", "am_michael", "bf_emma")


def voices_archive(voices=VOICES) -> bytes:
    """A Kokoro voices file: an .npz (zip) of `<voice>.npy` members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for voice in voices:
            archive.writestr(f"{voice}.npy", os.urandom(2048))
    return buffer.getvalue()


def generated_catalog(mirror_root: Path, sizes: dict[str, int] | None = None) -> dict[str, dict]:
    """Write files into `mirror_root` for whisper.cpp `tiny` and `base.en` and every Kokoro
    file; return {catalog name: {"provider", "size", "sha256"}} describing them."""
    sizes = sizes or {"tiny": 1_500_000, "base.en": 900_000}
    made: dict[str, dict] = {}
    for variant, size in sizes.items():
        entry = model_catalog.WHISPER_VARIANTS[variant]
        made[variant] = _write(mirror_root, entry, "whispercpp", os.urandom(size))
    for name, entry in model_catalog.KOKORO_FILES.items():
        data = voices_archive() if name == model_catalog.VOICES_FILE else os.urandom(700_000)
        made[name] = _write(mirror_root, entry, "kokoro", data)
    return made


def _write(root: Path, entry: ModelFile, provider: str, data: bytes) -> dict:
    (root / entry.filename).write_bytes(data)
    return {"provider": provider, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def install(made: dict[str, dict], setitem) -> None:
    """Point the catalog at the generated files (`setitem` is monkeypatch.setitem or dict's)."""
    for name, facts in made.items():
        table = (
            model_catalog.WHISPER_VARIANTS
            if facts["provider"] == "whispercpp"
            else model_catalog.KOKORO_FILES
        )
        setitem(table, name, replace(table[name], size=facts["size"], sha256=facts["sha256"]))


def save(made: dict[str, dict], path: Path) -> None:
    """As a KODA_MODEL_CATALOG_FILE: {name: {"size", "sha256"}}."""
    path.write_text(
        json.dumps({n: {"size": f["size"], "sha256": f["sha256"]} for n, f in made.items()})
    )


def load(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text())


class Worker(TaskWorker):
    """The worker, sharing this test's models dir, mirror and generated catalog."""

    def __init__(self, catalog: Path, settings, log: Path) -> None:
        super().__init__(
            log,
            KODA_MODELS_DIR=str(settings.KODA_MODELS_DIR),
            KODA_MODEL_MIRROR_URL=settings.KODA_MODEL_MIRROR_URL,
            # The generated files' sizes and checksums, as an operator states a mirror's.
            KODA_MODEL_CATALOG_FILE=str(catalog),
        )
