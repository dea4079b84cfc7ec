"""Django's PostgreSQL backend, with its per-request health check kept for connections that may
have gone stale.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request that
reuses a connection: a round trip on every API call, as long as the call's own query (an API
token lookup). A connection that served a query within the last `FRESH_SECONDS` is not checked:
a server that restarted in that second fails at most the one request already using it, as a
restart would fail a request in flight anyway. A connection idle for longer is checked as before,
and replaced if the check fails, so a database restart while Koda is quiet costs no request.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

FRESH_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _used_at: float | None = None

    def close_if_health_check_failed(self) -> None:
        used_at = self._used_at
        if (
            self.connection is not None
            and used_at is not None
            and time.monotonic() - used_at < FRESH_SECONDS
        ):
            self.health_check_done = True  # fresh: this request need not check it
            return
        super().close_if_health_check_failed()

    def _cursor(self, name=None):  # type: ignore[no-untyped-def]
        cursor = super()._cursor(name)  # health-checked (or fresh) and connected
        self._used_at = time.monotonic()
        return cursor

    def close(self) -> None:
        self._used_at = None
        super().close()
