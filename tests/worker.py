"""`manage.py db_worker` in its own process, on this test's database: the real task worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.db import connection as db

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    s = db.settings_dict
    if db.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


class TaskWorker:
    """The worker, with the test settings and this database, plus `env` (settings the worker
    must share with the test, as environment variables)."""

    def __init__(self, log: Path, **env: str) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        environment.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL=database_url(),
            KODA_ENV_FILE="",
            **env,
        )
        self.log = log
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--interval",
                "0.1",
                "--no-startup-delay",
                "--no-reload",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
