"""`make run` from the README: serves the login page through gunicorn, the printed operator can
log in, and a second run keeps the same keys and data."""

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MakeRun:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KODA_", "DJANGO_"))}
        env.pop("DATABASE_URL", None)  # the README's quick start: embedded SQLite
        env.update(KODA_DATA_DIR=str(data_dir), PORT=str(self.port), WORKERS="1")
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
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
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
