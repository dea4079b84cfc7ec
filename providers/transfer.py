"""Fetching one model file to disk, the way a careful person would (no database: the caller
reports progress where it likes).

- streams to `<name>.part` beside the destination in 1 MiB chunks (memory stays flat), hashing
  as it writes;
- after a dropped connection, resumes with `Range: bytes=<done>-` (a server that ignores Range
  starts over), a few times with backoff;
- checks the free disk space first, the size then the SHA-256 at the end, and only then moves
  the file into place atomically; a wrong checksum deletes the file and says which was expected
  and which was found;
- stops when `should_stop()` says so, removing the partial file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from providers import http

CHUNK = 1024 * 1024
# Kept free beyond the file itself, so a download never fills the disk to the last byte.
DISK_MARGIN = 64 * 1024 * 1024
ATTEMPTS = 6


class TransferFailed(Exception):
    """The file could not be fetched; `message` says why, for a person."""

    def __init__(self, message: str, *, kind: str, keep_partial: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # disk | http | network | size | checksum | egress
        self.keep_partial = keep_partial


class Cancelled(Exception):
    """`should_stop()` asked the transfer to stop."""


class _Dropped(Exception):
    """The connection broke off: worth resuming."""


@dataclass(frozen=True)
class Expected:
    size: int
    sha256: str


def partial_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def fetch(
    url: str,
    dest: Path,
    expected: Expected,
    *,
    on_progress: Callable[[int, int, str], None],
    should_stop: Callable[[], bool],
    local: bool = False,
    wait_multiplier: float = 0.5,
) -> None:
    """Fetch `url` into `dest`, or raise TransferFailed / Cancelled (the partial file is then
    removed, unless the failure is worth resuming later: a dropped connection)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(dest)
    _check_space(dest.parent, expected.size - (part.stat().st_size if part.exists() else 0))
    state = _Partial(part, expected.size)
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(ATTEMPTS),
            wait=wait_exponential(multiplier=wait_multiplier, max=8),
            retry=retry_if_exception_type(_Dropped),
            reraise=True,
        ):
            with attempt:
                _fetch_from(url, state, on_progress, should_stop, local)
    except _Dropped as exc:
        raise TransferFailed(
            f"The connection kept breaking off ({exc}); {human_bytes(state.done)} are kept and "
            "the next attempt resumes from there.",
            kind="network",
            keep_partial=True,
        ) from None
    except (TransferFailed, Cancelled) as exc:
        if not getattr(exc, "keep_partial", False):
            part.unlink(missing_ok=True)
        raise
    except OSError as exc:  # writing: a full disk, a read-only directory
        part.unlink(missing_ok=True)
        raise TransferFailed(f"Could not write {dest.name}: {exc.strerror}.", kind="disk") from None
    on_progress(state.done, expected.size, "verifying sha256")
    if should_stop():  # a cancel that came with the last bytes
        part.unlink(missing_ok=True)
        raise Cancelled()
    _verify(part, state, expected)
    os.replace(part, dest)
    on_progress(state.done, expected.size, "done")


class _Partial:
    """The `.part` file and the hash of what it holds so far."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.expected_size = size
        self.hash = hashlib.sha256()
        self.done = 0
        if path.exists() and path.stat().st_size <= size:
            with path.open("rb") as fh:  # resume: hash what an earlier attempt wrote
                while chunk := fh.read(CHUNK):
                    self.hash.update(chunk)
                    self.done += len(chunk)
        else:
            path.unlink(missing_ok=True)

    def restart(self) -> None:
        self.path.unlink(missing_ok=True)
        self.hash, self.done = hashlib.sha256(), 0


def _fetch_from(url, state: _Partial, on_progress, should_stop, local: bool) -> None:
    headers = {"Range": f"bytes={state.done}-"} if state.done else {}
    try:
        with http.stream("GET", url, headers=headers, local=local, follow_redirects=True) as answer:
            if answer.status == 416 and state.done == state.expected_size:
                return  # everything was already here
            if answer.status == 206:
                if not answer.headers.get("content-range", "").startswith(f"bytes {state.done}-"):
                    state.restart()  # a range we did not ask for: start over
                    raise _Dropped("the server answered another range")
            elif answer.status == 200:
                if state.done:
                    state.restart()  # the server ignores Range: start over
            else:
                raise TransferFailed(
                    f"{answer.url} answered {answer.status}.",
                    kind="http",
                    keep_partial=answer.status >= 500,
                )
            with state.path.open("ab") as out:
                for chunk in answer.chunks(CHUNK):
                    if should_stop():
                        raise Cancelled()
                    out.write(chunk)
                    state.hash.update(chunk)
                    state.done += len(chunk)
                    on_progress(state.done, state.expected_size, "downloading")
                    if state.done > state.expected_size:
                        raise TransferFailed(
                            f"{answer.url} sent more than the expected "
                            f"{state.expected_size} bytes.",
                            kind="size",
                        )
    except http.EgressRefused as exc:
        raise TransferFailed(f"Refused by the egress policy: {exc}.", kind="egress") from None
    except http.TransportFailed as exc:
        raise _Dropped(exc.detail) from None
    if state.done < state.expected_size:
        raise _Dropped(f"the answer ended at {state.done} of {state.expected_size} bytes")


def _check_space(directory: Path, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed + DISK_MARGIN:
        raise TransferFailed(
            f"Not enough disk space in {directory}: {human_bytes(needed)} needed "
            f"(+{human_bytes(DISK_MARGIN)} kept free), {human_bytes(free)} free.",
            kind="disk",
        )


def _verify(part: Path, state: _Partial, expected: Expected) -> None:
    if state.done != expected.size:
        part.unlink(missing_ok=True)
        raise TransferFailed(
            f"The file is {state.done} bytes, not the expected {expected.size}.", kind="size"
        )
    found = state.hash.hexdigest()
    if found != expected.sha256:
        part.unlink(missing_ok=True)
        raise TransferFailed(
            f"Checksum mismatch: expected SHA-256 {expected.sha256}, found {found}. The file "
            "was deleted; check the mirror.",
            kind="checksum",
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
