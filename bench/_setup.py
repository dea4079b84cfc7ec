"""Shared set-up for the benchmarks: Django on a throwaway SQLite file (or DATABASE_URL), migrated,
and synthetic providers, since the registry has one connection per provider id and the
benchmarks want more connections than there are providers."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def django_setup() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    data_dir = tempfile.mkdtemp(prefix="koda-bench-")
    os.environ.setdefault("KODA_DATA_DIR", data_dir)
    os.environ.setdefault("KODA_SECRET_KEY", "bench-secret-key-" + "x" * 40)
    os.environ.setdefault("KODA_ENCRYPTION_KEY", "bench-encryption-key-" + "y" * 40)
    os.environ.setdefault("KODA_ALLOW_PRIVATE_BASE_URLS", "true")
    os.environ.setdefault("KODA_SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("KODA_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koda.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ.get("DATABASE_URL"):
        # A fresh schema on the given server: the benchmark must not touch real data.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS koda_bench CASCADE; CREATE SCHEMA koda_bench;")
            cursor.execute("SET search_path TO koda_bench")
        connection.close()
        from django.conf import settings

        settings.DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
            "-c search_path=koda_bench"
        )
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def synthetic_providers(count: int, base: type) -> list[str]:
    """Register `count` copies of an adapter class under ids bench-0001… (this process only)."""
    from providers.registry import BUILTINS

    ids = []
    for i in range(count):
        provider_id = f"bench-{i:04d}"
        BUILTINS[provider_id] = type(f"Bench{i}", (base,), {"id": provider_id})()
        ids.append(provider_id)
    return ids
