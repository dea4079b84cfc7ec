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
    base["KODA_ENV_FILE"] = ""  # not a developer's ./.env; tests that read one name it
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
    # Django's backend, checking only connections idle for a while (koda/postgresql/base.py)
    assert result.stdout.split() == ["koda.postgresql", "db.example", "koda"]


@pytest.mark.parametrize(("flag", "prepared"), [(None, True), ("false", False)])
def test_postgres_prepares_statements_unless_told_not_to(prod_env, flag, prepared):
    env = {**prod_env, "DATABASE_URL": "postgres://koda@db.example:5432/koda"}
    if flag is not None:
        env["KODA_DB_PREPARED_STATEMENTS"] = flag  # behind a transaction-pooling PgBouncer
    code = (
        "from django.conf import settings; o = settings.DATABASES['default'].get('OPTIONS', {});"
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
    )
    result = run_django(["shell", "--no-imports", "-c", code], env)
    assert result.stdout.split() == (["True", "5"] if prepared else ["None", "None"])


def test_an_empty_database_url_means_the_default_sqlite_file(prod_env, tmp_path):
    """`DATABASE_URL=` (a blank value in .env) used to leave Django with no database at all."""
    env = {**prod_env, "DATABASE_URL": ""}
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'])"
    )
    result = run_django(["shell", "--no-imports", "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        str(tmp_path / "koda.sqlite3"),
    ]


def test_every_command_finds_the_development_keys_without_koda_debug(tmp_path):
    """`make run` generates the keys in development; a plain shell (no KODA_DEBUG) must find
    the same keys for every manage.py command, and never generate new ones."""
    assert (
        run_django(["check"], {"KODA_DATA_DIR": str(tmp_path), "KODA_DEBUG": "true"}).returncode
        == 0
    )
    keys = {
        name: (tmp_path / name).read_text().strip() for name in ("secret_key", "encryption_key")
    }
    code = (
        "from django.conf import settings; print(settings.SECRET_KEY, settings.KODA_ENCRYPTION_KEY)"
    )
    result = run_django(["shell", "--no-imports", "-c", code], {"KODA_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [keys["secret_key"], keys["encryption_key"]]


def test_it_reads_a_dot_env_file_and_lets_the_environment_win(tmp_path):
    data = tmp_path / "data"
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"KODA_DEBUG=true\nKODA_DATA_DIR={data}\nKODA_VERIFY_TIMEOUT_SECONDS=3\nKODA_HEALTH_INTERVAL_SECONDS=60\n"
    )
    code = (
        "from django.conf import settings; print(settings.DEBUG, settings.DATA_DIR, "
        "settings.KODA_VERIFY_TIMEOUT_SECONDS, settings.KODA_HEALTH_INTERVAL_SECONDS)"
    )
    env = {"KODA_ENV_FILE": str(dotenv), "KODA_HEALTH_INTERVAL_SECONDS": "120"}
    result = run_django(["shell", "--no-imports", "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", str(data), "3.0", "120"]
    assert (data / "secret_key").exists()  # development mode, from the file


def test_a_copy_of_env_example_is_a_working_env_file(tmp_path):
    result = run_django(
        ["check"],
        {
            "KODA_ENV_FILE": str(ROOT / ".env.example"),
            "KODA_DEBUG": "true",
            "KODA_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr


def test_the_sqlite_files_are_readable_by_koda_alone(tmp_path):
    # SQLite whatever the suite runs on (the PostgreSQL run sets DATABASE_URL).
    env = {
        "KODA_DATA_DIR": str(tmp_path),
        "KODA_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'koda.sqlite3'}",
    }
    assert run_django(["migrate", "--noinput", "-v0"], env).returncode == 0
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('CREATE TABLE IF NOT EXISTS t (x)'); c.execute('INSERT INTO t VALUES (1)')"
    )
    assert run_django(["shell", "--no-imports", "-c", code], env).returncode == 0
    files = [p for p in tmp_path.iterdir() if p.name.startswith("koda.sqlite3")]
    assert files, list(tmp_path.iterdir())
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, (path.name, oct(path.stat().st_mode))
