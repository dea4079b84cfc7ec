import os

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_files_private(sender, connection, **kwargs) -> None:
    """The SQLite file holds encrypted keys, audit rows and sessions: readable by Koda's user
    only (0600). SQLite creates its -wal and -shm files with the database file's mode."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for path in (name, f"{name}-wal", f"{name}-shm"):
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
        except FileNotFoundError:
            pass


class KodaConfig(AppConfig):
    name = "koda"
    verbose_name = "Koda (operators, tokens, audit)"

    def ready(self) -> None:
        connection_created.connect(_sqlite_files_private, dispatch_uid="koda-sqlite-0600")
