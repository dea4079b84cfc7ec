"""The one module that runs local programs (a runtime's `--version`), as `http` is for HTTP.

`run()`:
- never uses a shell: the program and its arguments are a list, so a path cannot inject words;
- gives the program a clean environment (PATH and LANG only): Koda's own variables, keys among
  them, never reach it;
- bounds it: a few seconds in all, and at most `max_output` bytes of output are read; past
  either the whole process group is killed, so a program that forks cannot linger;
- runs it from a scratch directory with no stdin.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

CLEAN_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
DEFAULT_TIMEOUT = 5.0
MAX_OUTPUT = 64 * 1024


class ProcessFailed(Exception):
    """The program could not be run or did not finish: `kind` says which, for a person."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind  # missing | not_a_file | not_executable | timeout | failed
        self.detail = detail


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    output: str  # stdout and stderr together, at most MAX_OUTPUT bytes, decoded
    truncated: bool
    seconds: float


def check_executable(path: str) -> None:
    """Raise ProcessFailed unless `path` is an executable regular file."""
    if not os.path.lexists(path):
        raise ProcessFailed("missing", f"there is no file at {path}")
    if not os.path.exists(path):
        raise ProcessFailed("missing", f"{path} is a broken symbolic link")
    if not os.path.isfile(path):
        raise ProcessFailed("not_a_file", f"{path} is not a file (a directory?)")
    if not os.access(path, os.X_OK):
        raise ProcessFailed("not_executable", f"{path} is not executable")


def run(
    argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, max_output: int = MAX_OUTPUT
) -> ProcessResult:
    """Run `argv` (no shell) and return its exit status and bounded output."""
    check_executable(argv[0])
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="koda-run-") as scratch:
        try:
            process = subprocess.Popen(  # noqa: S603  (a list, no shell; see the module doc)
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=CLEAN_ENVIRONMENT,
                cwd=scratch,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:  # not a program this machine can run (wrong architecture, …)
            raise ProcessFailed(
                "failed", f"{argv[0]} could not be started: {exc.strerror}"
            ) from None
        output, truncated, timed_out = _read(process, started + timeout, max_output)
        if timed_out or truncated:
            _kill(process)
        returncode = process.wait()
        process.stdout.close()
    if timed_out:
        raise ProcessFailed("timeout", f"{argv[0]} did not finish within {timeout:g} s")
    return ProcessResult(
        returncode=returncode,
        output=output.decode("utf-8", errors="replace"),
        truncated=truncated,
        seconds=time.monotonic() - started,
    )


def _read(process: subprocess.Popen, deadline: float, limit: int) -> tuple[bytes, bool, bool]:
    """Read the output until EOF, the deadline or the limit: (output, truncated, timed out)."""
    assert process.stdout is not None
    output = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(output), False, True
            if not selector.select(remaining):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:  # EOF: the program closed its output (it has, or is about to, exit)
                break
            output += chunk
            if len(output) > limit:
                return bytes(output[:limit]), True, False
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return bytes(output), False, True
    return bytes(output), False, False


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
