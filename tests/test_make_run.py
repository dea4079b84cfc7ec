"""`make run` from the README: serves the login page through gunicorn, the printed operator can
log in, the README's commands work from a plain shell beside it, and a second run keeps the same
keys and data."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def plain_shell_env(data_dir: Path) -> dict[str, str]:
    """A shell that never saw `make run`'s variables: no KODA_DEBUG, no keys, only the data dir
    (which the README's commands use as ./var when run from the checkout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KODA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(KODA_DATA_DIR=str(data_dir), KODA_ENV_FILE="")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MakeRun:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        env = plain_shell_env(data_dir)  # the README's quick start: embedded SQLite
        env.update(PORT=str(self.port), WORKERS="1")
        self.log = data_dir.parent / f"make-run-{self.port}.log"
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("make run exited:\n" + self.output())
            try:
                if requests.get(self.url + "/healthz", timeout=2).ok:
                    return
            except requests.RequestException:  # not listening yet, or not answering yet
                time.sleep(0.3)
        pytest.fail("make run did not serve in time:\n" + self.output())

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def log_in(url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(url + "/login/")
    assert page.status_code == 200 and 'name="password"' in page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        url + "/login/",
        allow_redirects=False,
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Referer": url + "/login/"},
    )
    assert response.status_code == 302, response.text[:500]
    return session


def test_it_serves_the_dashboard_and_keeps_keys_and_data_across_runs(tmp_path):
    data_dir = tmp_path / "var"
    first = MakeRun(data_dir)
    try:
        first.wait()
        printed = first.output()
        username = re.search(r"username: (\S+)", printed).group(1)
        password = re.search(r"password: (\S+)", printed).group(1)
        session = log_in(first.url, username, password)
        catalog = session.get(first.url + "/api/control-plane/connections/catalog")
        assert catalog.status_code == 200 and len(catalog.json()["providers"]) == 17
        css = session.get(
            first.url
            + re.search(r'href="(/static/css/[^"]+)"', session.get(first.url + "/").text).group(1)
        )
        assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]
        check_readme_commands(first.url, data_dir, username)
        check_chunked_bodies(first.url, session)
        check_all_three_processes(first)
    finally:
        first.stop()
    keys = {name: (data_dir / name).read_text() for name in ("secret_key", "encryption_key")}

    second = MakeRun(data_dir)
    try:
        second.wait()
        assert "password:" not in second.output()  # the operator exists: nothing new printed
        log_in(second.url, username, password)
    finally:
        second.stop()
    assert {name: (data_dir / name).read_text() for name in keys} == keys


def check_readme_commands(url: str, data_dir: Path, username: str) -> None:
    """README: `TOKEN=$(.venv/bin/python manage.py create_api_token --operator …)`, then curl."""
    made = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "create_api_token", "--operator", username],
        cwd=ROOT,
        env=plain_shell_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("koda_") and "\n" not in token  # the token alone
    catalog = requests.get(
        url + "/api/control-plane/connections/catalog",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert catalog.status_code == 200 and len(catalog.json()["providers"]) == 17
    sweep = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "check_connections"],
        cwd=ROOT,
        env=plain_shell_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sweep.returncode == 0 and "checked 0 connection(s)" in sweep.stdout, sweep.stderr


def check_chunked_bodies(url: str, session: requests.Session) -> None:
    """A body sent chunked (no Content-Length) is read, within the 64 KB cap, never as empty."""
    endpoint = url + "/api/control-plane/providers/groq/connection/disconnect"
    headers = {"Content-Type": "application/json", "Origin": url}
    small = session.post(endpoint, data=iter([b'{"nope"', b": 1}"]), headers=headers, timeout=10)
    assert small.request.headers.get("Transfer-Encoding") == "chunked"
    assert small.status_code == 400, small.text
    assert small.json()["error"]["details"]["unknown"] == ["nope"]  # the body was read
    big = session.post(
        endpoint, data=iter([b'{"x": "', b"a" * 70_000, b'"}']), headers=headers, timeout=10
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"


def check_all_three_processes(run: MakeRun) -> None:
    """`make run` is the whole product: the web server, the task worker and the sweeper."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = run.output()
        if "Starting worker" in out and "sweeper started" in out:
            break
        time.sleep(0.3)
    out = run.output()
    # honcho prefixes each line with the time and the process name.
    assert re.search(r"^\S+ web\.1\s*\|.*Listening at", out, re.M), out
    assert re.search(r"^\S+ worker\.1\s*\|.*Starting worker", out, re.M), out
    assert re.search(r"^\S+ sweeper\.1\s*\|.*sweeper started", out, re.M), out
    assert out.count("Starting worker") == 1  # every log line printed once
