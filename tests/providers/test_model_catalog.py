"""The model-file catalog: what providers.md lists, where files come from, and overrides."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from providers import model_catalog


def test_it_lists_every_whisper_variant_with_its_size_and_checksum():
    variants = model_catalog.WHISPER_VARIANTS
    assert len(variants) == 30
    assert variants["large-v3-turbo"].size == 1624555275
    assert variants["large-v3-turbo"].notes == ("the usual speed/quality default",)
    assert variants["base.en-q5_1"].notes[0] == "English only"
    assert "quantized (q5_1)" in variants["base.en-q5_1"].notes[1]
    assert all(len(v.sha256) == 64 for v in variants.values())
    # large-v1 and large-v2 have the same size but not the same bytes (providers.md §16).
    assert variants["large-v1"].size == variants["large-v2"].size
    assert variants["large-v1"].sha256 != variants["large-v2"].sha256


def test_it_fetches_upstream_or_from_the_mirror(settings):
    tdrz = model_catalog.WHISPER_VARIANTS["small.en-tdrz"]
    settings.KODA_MODEL_MIRROR_URL = ""
    assert tdrz.url.startswith("https://huggingface.co/akashmjn/tinydiarize-whisper.cpp/")
    assert model_catalog.kokoro_voices_file().url.startswith(
        "https://github.com/thewh1teagle/kokoro-onnx/releases/download/model-files-v1.0/"
    )
    settings.KODA_MODEL_MIRROR_URL = "http://mirror.internal/models"
    assert tdrz.url == "http://mirror.internal/models/ggml-small.en-tdrz.bin"


def test_it_takes_sizes_and_checksums_from_an_override_file(tmp_path, monkeypatch):
    monkeypatch.setattr(model_catalog, "WHISPER_VARIANTS", dict(model_catalog.WHISPER_VARIANTS))
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"tiny": {"size": 123, "sha256": "A" * 64}}))
    model_catalog.apply_overrides(str(path))
    assert (
        model_catalog.WHISPER_VARIANTS["tiny"].size,
        model_catalog.WHISPER_VARIANTS["tiny"].sha256,
    ) == (123, "a" * 64)


@pytest.mark.parametrize(
    "content",
    [
        '{"nope": {"size": 1, "sha256": "' + "a" * 64 + '"}}',
        '{"tiny": {"size": -1}}',
        '{"tiny": {"size": 5, "sha256": "xyz"}}',
        "[1]",
        "{",
    ],
)
def test_it_refuses_a_bad_override_file_at_start_up(tmp_path, content):
    path = tmp_path / "catalog.json"
    path.write_text(content)
    with pytest.raises(ImproperlyConfigured, match="KODA_MODEL_CATALOG_FILE"):
        model_catalog.apply_overrides(str(path))
