"""Fetching a model file from a real local HTTP server: resume, checksum, size, cancel, disk,
redirects, mirror credentials, bounded memory."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections import namedtuple

import pytest

from providers import transfer
from providers.transfer import Expected, TransferFailed
from tests.file_server import FileServer

Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def mirror(tmp_path):
    root = tmp_path / "mirror"
    root.mkdir()
    server = FileServer(root).start()
    yield server
    server.close()


def put(mirror, name: str, size: int) -> Expected:
    data = os.urandom(size)
    (mirror.root / name).write_bytes(data)
    return Expected(size, hashlib.sha256(data).hexdigest())


def fetch(url, dest, expected, **kw):
    seen = []
    kw.setdefault("should_stop", lambda: False)
    transfer.fetch(
        url,
        dest,
        expected,
        on_progress=lambda done, total, stage: seen.append((done, total, stage)),
        local=True,
        wait_multiplier=0.01,
        **kw,
    )
    return seen


def test_it_fetches_verifies_and_moves_the_file_into_place(mirror, tmp_path):
    expected = put(mirror, "ggml-tiny.bin", 3 * 1024 * 1024 + 17)
    dest = tmp_path / "models" / "ggml-tiny.bin"
    seen = fetch(f"{mirror.url}/ggml-tiny.bin", dest, expected)
    assert transfer.file_sha256(dest) == expected.sha256
    assert not transfer.partial_path(dest).exists()
    assert seen[-1] == (expected.size, expected.size, "done")
    assert "verifying sha256" in [stage for _, _, stage in seen]
    done = [d for d, _, stage in seen if stage == "downloading"]
    assert done == sorted(done) and done[-1] == expected.size


def test_it_resumes_with_range_after_a_dropped_connection(mirror, tmp_path):
    expected = put(mirror, "ggml-base.bin", 2 * 1024 * 1024)
    mirror.drop_after["ggml-base.bin"] = 700_000
    dest = tmp_path / "ggml-base.bin"
    fetch(f"{mirror.url}/ggml-base.bin", dest, expected)
    assert transfer.file_sha256(dest) == expected.sha256
    ranges = [r for _, r, _ in mirror.requests]
    assert ranges[0] is None and ranges[1] == "bytes=700000-"  # only the rest was fetched


def test_it_resumes_a_partial_file_left_by_an_earlier_attempt(mirror, tmp_path):
    expected = put(mirror, "f.bin", 1_000_000)
    dest = tmp_path / "f.bin"
    transfer.partial_path(dest).write_bytes((mirror.root / "f.bin").read_bytes()[:400_000])
    fetch(f"{mirror.url}/f.bin", dest, expected)
    assert transfer.file_sha256(dest) == expected.sha256
    assert [r for _, r, _ in mirror.requests] == ["bytes=400000-"]


def test_it_starts_over_when_the_server_ignores_range(mirror, tmp_path):
    expected = put(mirror, "f.bin", 1_000_000)
    dest = tmp_path / "f.bin"
    transfer.partial_path(dest).write_bytes(b"x" * 300_000)  # and not even the right bytes
    mirror.ignore_range = True
    fetch(f"{mirror.url}/f.bin", dest, expected)
    assert transfer.file_sha256(dest) == expected.sha256


def test_it_deletes_a_file_whose_checksum_is_wrong_and_names_both(mirror, tmp_path):
    expected = put(mirror, "f.bin", 500_000)
    wrong = Expected(expected.size, "0" * 64)
    dest = tmp_path / "f.bin"
    with pytest.raises(TransferFailed) as excinfo:
        fetch(f"{mirror.url}/f.bin", dest, wrong)
    assert excinfo.value.kind == "checksum"
    assert "0" * 64 in excinfo.value.message and expected.sha256 in excinfo.value.message
    assert not dest.exists() and not transfer.partial_path(dest).exists()


def test_it_refuses_a_file_of_the_wrong_size(mirror, tmp_path):
    expected = put(mirror, "f.bin", 500_000)
    dest = tmp_path / "f.bin"
    with pytest.raises(TransferFailed) as excinfo:
        fetch(f"{mirror.url}/f.bin", dest, Expected(400_000, expected.sha256))
    assert excinfo.value.kind == "size" and not dest.exists()


def test_it_stops_and_removes_the_partial_file_when_cancelled(mirror, tmp_path):
    expected = put(mirror, "f.bin", 2_000_000)
    mirror.delay = 0.01
    dest = tmp_path / "f.bin"
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 1  # after the first chunk

    with pytest.raises(transfer.Cancelled):
        fetch(f"{mirror.url}/f.bin", dest, expected, should_stop=should_stop)
    assert not dest.exists() and not transfer.partial_path(dest).exists()


def test_it_checks_the_free_disk_space_before_starting(mirror, tmp_path, monkeypatch):
    expected = put(mirror, "f.bin", 100_000)
    monkeypatch.setattr(transfer.shutil, "disk_usage", lambda path: Usage(10**9, 10**9, 10**6))
    with pytest.raises(TransferFailed) as excinfo:
        fetch(f"{mirror.url}/f.bin", tmp_path / "f.bin", expected)
    assert excinfo.value.kind == "disk" and "Not enough disk space" in excinfo.value.message
    assert mirror.requests == []  # nothing was fetched


def test_it_reports_a_full_disk_while_writing(mirror, tmp_path, monkeypatch):
    expected = put(mirror, "f.bin", 300_000)
    real_open = transfer.Path.open

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            raise OSError(28, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def open_(path, mode="r", *args, **kw):
        fh = real_open(path, mode, *args, **kw)
        return Full(fh) if "a" in mode else fh

    monkeypatch.setattr(transfer.Path, "open", open_)
    dest = tmp_path / "f.bin"
    with pytest.raises(TransferFailed) as excinfo:
        fetch(f"{mirror.url}/f.bin", dest, expected)
    assert excinfo.value.kind == "disk" and "No space left on device" in excinfo.value.message
    assert not transfer.partial_path(dest).exists()


def test_it_follows_a_redirect_to_the_cdn(mirror, tmp_path):
    expected = put(mirror, "kokoro-v1.0.int8.onnx", 200_000)
    dest = tmp_path / "kokoro-v1.0.int8.onnx"
    fetch(f"{mirror.url}/redirect/kokoro-v1.0.int8.onnx", dest, expected)
    assert transfer.file_sha256(dest) == expected.sha256


def test_it_sends_mirror_credentials_as_a_header_never_in_the_url(mirror, tmp_path):
    expected = put(mirror, "f.bin", 100_000)
    mirror.auth = ("koda", "mirror-Password-0123")
    host = mirror.url.removeprefix("http://")
    fetch(f"http://koda:mirror-Password-0123@{host}/f.bin", tmp_path / "f.bin", expected)
    path, _, authorization = mirror.requests[0]
    assert path == "/f.bin" and authorization.startswith("Basic ")


def test_it_says_which_url_refused_the_file(mirror, tmp_path):
    with pytest.raises(TransferFailed) as excinfo:
        fetch(f"{mirror.url}/missing.bin", tmp_path / "m.bin", Expected(10, "0" * 64))
    assert excinfo.value.kind == "http" and "/missing.bin answered 404" in excinfo.value.message


def test_it_gives_up_after_repeated_drops_and_keeps_what_it_has(mirror, tmp_path, monkeypatch):
    expected = put(mirror, "f.bin", 1_000_000)
    monkeypatch.setattr(transfer, "ATTEMPTS", 2)

    def drop_every_time(*args, **kwargs):
        mirror.drop_after["f.bin"] = 200_000 + len(mirror.requests) * 100_000
        return real(*args, **kwargs)

    real = transfer._fetch_from
    monkeypatch.setattr(transfer, "_fetch_from", drop_every_time)
    dest = tmp_path / "f.bin"
    with pytest.raises(TransferFailed) as excinfo:
        fetch(f"{mirror.url}/f.bin", dest, expected)
    assert excinfo.value.kind == "network" and excinfo.value.keep_partial
    assert transfer.partial_path(dest).stat().st_size >= 200_000


def test_it_streams_in_bounded_memory(mirror, tmp_path):
    expected = put(mirror, "big.bin", 48 * 1024 * 1024)
    tracemalloc.start()
    try:
        fetch(f"{mirror.url}/big.bin", tmp_path / "big.bin", expected)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a 48 MB file"
