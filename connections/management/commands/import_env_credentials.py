"""`manage.py import_env_credentials [--file .env] [--dry-run]`: see connections/env_import.py."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from dotenv import dotenv_values

from connections.env_import import env_import
from koda.context import Context

LABELS = {
    "stored": "stored",
    "replaced": "stored (replaced the previous credential)",
    "unchanged": "unchanged",
    "refused": "refused",
    "would_store": "would be stored",
    "would_refuse": "would be refused",
    "skipped": "skipped",
}


class Command(BaseCommand):
    help = (
        "Import provider keys from a .env file (ANTHROPIC_API_KEY, OPENAI_API_KEY, …): each is "
        "verified and stored only if it works; a working stored key is never replaced by a "
        "failing one. Prints a line per provider, never a key. Exits 1 if any was refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", default=".env", help="the file to read (default ./.env)")
        parser.add_argument(
            "--dry-run", action="store_true", help="verify only: store and change nothing"
        )

    def handle(self, *, file: str, dry_run: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        env = {k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None}
        rows = env_import(env=env, ctx=Context.command("import_env_credentials"), dry_run=dry_run)
        if not rows:
            self.stdout.write(f"{file} names no provider credential Koda knows.")
            return
        width = max(len(r.provider_id) for r in rows)
        for row in rows:
            hint = f" {row.hint}" if row.hint else ""
            detail = f" — {row.detail}" if row.detail else ""
            self.stdout.write(
                f"{row.provider_id:<{width}}  {LABELS[row.result]}{hint}{detail}"
                f"  [{', '.join(row.variables)}]"
            )
        kept = [
            v for r in rows if r.result in ("stored", "replaced", "unchanged") for v in r.variables
        ]
        if kept and not dry_run:
            self.stdout.write(
                f"\nKoda now holds these credentials, encrypted. Remove them from {file}: "
                f"{', '.join(kept)}."
            )
        if any(r.result in ("refused", "would_refuse") for r in rows):
            sys.exit(1)
