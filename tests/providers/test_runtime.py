"""Local runtime binaries, checked through the process seam: real executables written to disk by
the tests (shell scripts standing in for llama-server and mlx_lm.server)."""

from __future__ import annotations

import os
import stat
import time

import pytest

from providers import process
from providers.registry import PROVIDERS
from providers.values import Credential
from providers.values import Outcome as O

OLD_BUILD = "version: 4589 (c6e8cc28)\nbuilt with cc (Debian 12.2.0-14) 12.2.0 for x86_64-linux-gnu"
NEW_BUILD = (
    "load_backend: loaded CPU backend from /usr/local/lib/libggml-cpu-haswell.so\n"
    "version: 0.4.1-dev (build 10991, commit 930e2fa59)\n"
    "built with AppleClang 21.0.0.21000334 for Darwin arm64"
)


@pytest.fixture
def script(tmp_path):
    """Write an executable shell script and return its path."""

    def write(body: str, *, name: str = "llama-server", mode: int = 0o755) -> str:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(mode)
        return str(path)

    return write


def check(provider_id: str, path: str):
    credential = Credential("local_runtime", {"runtime_path": path})
    return PROVIDERS[provider_id].verify(credential)


@pytest.mark.parametrize(
    ("output", "version", "built"),
    [
        (OLD_BUILD, "4589 (c6e8cc28)", "cc (Debian 12.2.0-14) 12.2.0 for x86_64-linux-gnu"),
        (
            NEW_BUILD,
            "0.4.1-dev (build 10991, commit 930e2fa59)",
            "AppleClang 21.0.0.21000334 for Darwin arm64",
        ),
    ],
)
def test_it_accepts_llama_server_and_shows_its_version(script, output, version, built):
    # llama-server prints its version to stderr, then exits 0.
    path = script(f"cat >&2 <<'EOF'\n{output}\nEOF")
    result = check("llamacpp", path)
    assert result.ok, result.message
    assert result.details == {"version": version, "built_with": built}
    assert version in result.message and path in result.message
    assert result.probe == f"run {path} --version"


def test_it_says_when_there_is_no_file(tmp_path):
    result = check("llamacpp", str(tmp_path / "nothing-here"))
    assert result.outcome == O.RUNTIME_MISSING and "no file" in result.message
    assert result.remedy


def test_it_refuses_a_directory(tmp_path):
    result = check("llamacpp", str(tmp_path))
    assert result.outcome == O.RUNTIME_MISSING and "not a file" in result.message


def test_it_says_when_the_file_is_not_executable(script):
    path = script("echo 'version: 1 (x)'", mode=0o644)
    result = check("llamacpp", path)
    assert result.outcome == O.RUNTIME_MISSING and "not executable" in result.message
    assert "chmod +x" in result.remedy


def test_it_reports_a_binary_that_fails_with_its_output(script):
    path = script("echo 'error while loading shared libraries: libcuda.so.1' >&2; exit 127")
    result = check("llamacpp", path)
    assert result.outcome == O.RUNTIME_MISSING and "status 127" in result.message
    assert "libcuda.so.1" in result.raw_error


def test_it_refuses_a_program_that_is_not_llama_server(script):
    path = script("echo 'ls (GNU coreutils) 9.1'")
    result = check("llamacpp", path)
    assert (
        result.outcome == O.UNEXPECTED_RESPONSE
        and "does not look like llama-server" in result.message
    )


def test_it_stops_waiting_for_a_binary_that_hangs(script, settings):
    settings.KODA_VERIFY_TIMEOUT_SECONDS = 0.5
    path = script("sleep 30")
    started = time.monotonic()
    result = check("llamacpp", path)
    assert result.outcome == O.TIMEOUT and result.outcome.is_transient
    assert time.monotonic() - started < 3


def test_it_says_mlx_needs_apple_silicon_on_another_host(script, monkeypatch):
    monkeypatch.setattr("providers.runtime.platform.system", lambda: "Linux")
    result = check("mlx", script("echo usage"))
    assert result.outcome == O.UNSUPPORTED_HOST
    assert "Apple silicon" in result.message and "endpoint" in result.remedy


def test_it_checks_mlx_server_on_apple_silicon(script, monkeypatch):
    monkeypatch.setattr("providers.runtime.platform.system", lambda: "Darwin")
    monkeypatch.setattr("providers.runtime.platform.machine", lambda: "arm64")
    path = script("echo 'usage: mlx_lm.server [-h] [--model MODEL] [--host HOST] [--port PORT]'")
    result = check("mlx", path)
    assert result.ok and result.probe == f"run {path} --help"


# --- the process seam itself -----------------------------------------------------------------


def test_it_gives_the_program_a_clean_environment(script, monkeypatch):
    monkeypatch.setenv("KODA_ENCRYPTION_KEY", "must-not-leak-0123456789")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-must-not-leak-0123456789")
    answer = process.run([script("env")])
    variables = dict(line.split("=", 1) for line in answer.output.splitlines() if "=" in line)
    assert set(variables) <= {"PATH", "LANG", "PWD", "SHLVL", "_"}  # the shell adds the last 3
    assert "must-not-leak" not in answer.output


def test_it_uses_no_shell_so_a_path_cannot_inject_a_command(script, tmp_path):
    path = script("echo 'version: 7 (abc)'", name="llama; touch injected")
    answer = process.run([path, "--version"])
    assert answer.returncode == 0 and "version: 7" in answer.output
    assert not (tmp_path / "injected").exists() and not os.path.exists("injected")


def test_it_reads_a_bounded_amount_of_output(script):
    answer = process.run([script("yes version: 1")], max_output=10_000)
    assert answer.truncated and len(answer.output) == 10_000


def test_it_kills_the_whole_process_group_on_timeout(script, tmp_path):
    pidfile = tmp_path / "child.pid"
    path = script(f"sleep 30 & echo $! > {pidfile}; wait")
    with pytest.raises(process.ProcessFailed) as excinfo:
        process.run([path], timeout=0.5)
    assert excinfo.value.kind == "timeout"
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child), "the forked child outlived the timeout"


def test_it_explains_a_file_that_cannot_be_run(tmp_path):
    path = tmp_path / "not-a-program"
    path.write_bytes(b"\x00\x01binary garbage")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(process.ProcessFailed) as excinfo:
        process.run([str(path)])
    assert excinfo.value.kind == "failed" and "could not be started" in excinfo.value.detail


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (reaped by nobody yet) is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
