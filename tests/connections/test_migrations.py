"""The move from fixed credential columns to declared fields loses nothing, forwards and back,
from a database holding rows (secrets included) written before it. Runs on every database the
suite runs on (SQLite here, PostgreSQL in CI)."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("connections", "0004_snapshot_time_index")]
AFTER = [("connections", "0005_generic_credential")]
OPENAI_KEY = "sk-proj-MigratedKey-0123456789abcdefWXYZ"
LLAMA_KEY = "llama-local-key-0123456789"


def migrate(targets):
    executor = MigrationExecutor(db)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def raw_column(name: str) -> bytes:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {name} FROM connections_connection ORDER BY provider_id")
        return b"".join(bytes(row[0]) for row in cursor.fetchall() if row[0] is not None)


@pytest.mark.django_db(transaction=True)
def test_it_carries_every_credential_column_over_and_back():
    latest = MigrationExecutor(db).loader.graph.leaf_nodes()
    try:
        old = migrate(BEFORE).get_model("connections", "Connection")
        old.objects.create(
            provider_id="openai",
            auth_method="api_key",
            secret=OPENAI_KEY,
            secret_hint="sk-proj-…WXYZ",
            base_url="https://gateway.example/v1",
            organization="org-abc",
            project="proj_xyz",
            default_model="gpt-4o-mini",
            discovered_models=[{"id": "gpt-4o-mini"}],
            status="verified",
        )
        old.objects.create(
            provider_id="llamacpp",
            auth_method="local_endpoint",
            secret=LLAMA_KEY,
            endpoint_url="http://10.0.0.7:9931",
        )
        old.objects.create(
            provider_id="mlx", auth_method="local_runtime", runtime_path="/opt/mlx/server"
        )
        # The model as of that migration (later ones add columns this schema does not have yet).
        new = migrate(AFTER).get_model("connections", "Connection")
        rows = {c.provider_id: c for c in new.objects.all()}
        openai, llama, mlx = rows["openai"], rows["llamacpp"], rows["mlx"]
        assert openai.config == {
            "base_url": "https://gateway.example/v1",
            "organization": "org-abc",
            "project": "proj_xyz",
        }
        assert dict(openai.secrets) == {"api_key": OPENAI_KEY}
        assert (openai.secret_hint, openai.default_model, openai.status) == (
            "sk-proj-…WXYZ",
            "gpt-4o-mini",
            "verified",
        )
        assert llama.config == {"endpoint_url": "http://10.0.0.7:9931"}
        assert dict(llama.secrets) == {"api_key": LLAMA_KEY}
        assert mlx.config == {"runtime_path": "/opt/mlx/server"} and mlx.secrets is None
        raw = raw_column("secrets")
        assert raw and OPENAI_KEY.encode() not in raw and LLAMA_KEY.encode() not in raw

        # And back: the old columns hold what they held.
        old = migrate(BEFORE).get_model("connections", "Connection")
        restored = {c.provider_id: c for c in old.objects.all()}
        assert restored["openai"].secret == OPENAI_KEY
        assert (restored["openai"].organization, restored["openai"].project) == (
            "org-abc",
            "proj_xyz",
        )
        assert restored["llamacpp"].endpoint_url == "http://10.0.0.7:9931"
        assert restored["mlx"].runtime_path == "/opt/mlx/server"
        assert restored["mlx"].secret is None
        assert OPENAI_KEY.encode() not in raw_column("secret")
    finally:
        migrate(latest)
