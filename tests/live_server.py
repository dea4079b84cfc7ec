"""Koda served over real HTTP on localhost for the browser tests and for programs the tests run
(the example agent runtime)."""

from __future__ import annotations

import threading


class LiveServer:
    """Django's LiveServerThread serving the app exactly as gunicorn does: static files come from
    whitenoise and the collected, hashed STATIC_ROOT (pytest-django's own live_server serves them
    from the finders, which know no hashed names)."""

    def __init__(self) -> None:
        from django.db import connections
        from django.test.testcases import LiveServerThread

        shared = {
            c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()
        }
        self.thread = LiveServerThread(
            "localhost", static_handler=lambda app: app, connections_override=shared
        )
        self.thread.daemon = True
        for conn in shared.values():
            conn.inc_thread_sharing()
        self.thread.start()
        self.thread.is_ready.wait()
        if self.thread.error:
            raise self.thread.error
        self.url = f"http://localhost:{self.thread.port}"

    def stop(self) -> None:
        self.thread.terminate()
        # Request threads outlive the server while the browser's keep-alive connections close;
        # let them finish with the shared connection before it stops being shareable.
        for thread in threading.enumerate():
            if "process_request_thread" in thread.name:
                thread.join(timeout=5)
        for conn in self.thread.connections_override.values():
            conn.dec_thread_sharing()
