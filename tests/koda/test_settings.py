"""Settings read the environment strictly; keys are generated only in development."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_django(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KODA_", "DJANGO_"))}
    base["DJANGO_SETTINGS_MODULE"] = "koda.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def prod_env(tmp_path) -> dict[str, str]:
    return {
        "KODA_DATA_DIR": str(tmp_path),
        "KODA_SECRET_KEY": secrets.token_urlsafe(50),
        "KODA_ENCRYPTION_KEY": secrets.token_urlsafe(50),
        "KODA_ALLOWED_HOSTS": "koda.example.com",
    }


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("KODA_DEBUG", "maybe", "boolean"),
        ("KODA_ALLOW_PRIVATE_BASE_URLS", "yes please", "boolean"),
        ("KODA_HEALTH_INTERVAL_SECONDS", "5m", "integer"),
        ("KODA_VERIFY_TIMEOUT_SECONDS", "ten", "number"),
    ],
)
def test_it_refuses_a_malformed_value_naming_the_variable(prod_env, name, value, kind):
    result = run_django(["check"], {**prod_env, name: value})
    assert result.returncode != 0
    assert f'Environment variable "{name}" invalid' in result.stderr
    assert f"Not a valid {kind}" in result.stderr


@pytest.mark.parametrize("missing", ["KODA_SECRET_KEY", "KODA_ENCRYPTION_KEY"])
def test_it_fails_start_up_without_keys_outside_debug(prod_env, missing):
    env = {**prod_env}
    del env[missing]
    result = run_django(["check"], env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr
    assert not (Path(prod_env["KODA_DATA_DIR"]) / "secret_key").exists()


def test_it_generates_development_keys_once_with_mode_0600(tmp_path):
    env = {"KODA_DATA_DIR": str(tmp_path), "KODA_DEBUG": "true"}
    assert run_django(["check"], env).returncode == 0
    keys = {name: (tmp_path / name).read_text() for name in ("secret_key", "encryption_key")}
    for name in keys:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
        assert len(keys[name].strip()) >= 50
    assert keys["secret_key"] != keys["encryption_key"]
    assert run_django(["check"], env).returncode == 0
    assert {name: (tmp_path / name).read_text() for name in keys} == keys


def test_it_passes_the_deploy_check_with_production_settings(prod_env):
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], prod_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_uses_postgres_when_database_url_is_set(prod_env):
    env = {**prod_env, "DATABASE_URL": "postgres://koda@db.example:5432/koda"}
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['HOST'], d['NAME'])"
    )
    result = run_django(["shell", "--no-imports", "-c", code], env)
    assert result.stdout.split() == ["django.db.backends.postgresql", "db.example", "koda"]
