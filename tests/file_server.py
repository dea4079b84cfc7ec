"""A local HTTP file server for download tests and benchmarks: serves the files of a directory
with Range support, like a model mirror or a CDN, over real HTTP on 127.0.0.1.

Knobs (attributes, changeable while it runs): `drop_after` {file name: bytes} closes the
connection once after that many bytes of that file; `ignore_range` answers 200 to a Range
request; `delay` sleeps between 64 KB chunks; `auth` ("user", "password") requires Basic auth.
`/redirect/<name>` answers 302 to `/<name>`, as Hugging Face and GitHub hand files to a CDN.
Every request is recorded in `requests` as (path, Range header, Authorization header).

    .venv/bin/python -m tests.file_server --root /srv/models --port 8800
    .venv/bin/python -m tests.file_server --root /tmp/mirror --fake-models   # stand-ins + catalog

`--fake-models` fills the root with small generated stand-ins for whisper.cpp `tiny` and
`base.en` and the Kokoro files, and writes `catalog.json` with their sizes and checksums: run
Koda with KODA_MODEL_MIRROR_URL=<this server> and KODA_MODEL_CATALOG_FILE=<root>/catalog.json
to try downloads offline.
"""

from __future__ import annotations

import argparse
import base64
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHUNK = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    server: FileServer

    def do_GET(self) -> None:
        server = self.server
        server.requests.append(
            (self.path, self.headers.get("Range"), self.headers.get("Authorization"))
        )
        if server.auth and self.headers.get("Authorization") != _basic(*server.auth):
            self._plain(401, "authentication required")
            return
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = server.root / self.path.lstrip("/")
        if not path.is_file() or server.root not in path.resolve().parents:
            self._plain(404, "Entry not found")
            return
        size = path.stat().st_size
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and not server.ignore_range:
            start = int(match.group(1))
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        drop = server.drop_after.pop(path.name, None)
        sent = 0
        with path.open("rb") as fh:
            fh.seek(start)
            while chunk := fh.read(CHUNK):
                if drop is not None and start + sent + len(chunk) > drop:
                    self.wfile.write(chunk[: max(0, drop - start - sent)])
                    self.wfile.flush()
                    self.connection.close()  # a dropped connection, mid-file
                    return
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return
                sent += len(chunk)
                if server.delay:
                    time.sleep(server.delay)

    def _plain(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.root = Path(root).resolve()
        self.drop_after: dict[str, int] = {}
        self.ignore_range = False
        self.delay = 0.0
        self.auth: tuple[str, str] | None = None
        self.requests: list[tuple[str, str | None, str | None]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FileServer:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self) -> None:
        self.shutdown()
        self.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--fake-models", action="store_true", help="generate stand-in files")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between 64 KB chunks")
    args = parser.parse_args()
    if args.fake_models:
        import os

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koda.settings")
        os.environ.setdefault("KODA_MODEL_CATALOG_FILE", "")
        os.environ.setdefault("KODA_DEBUG", "true")  # a development tool, like make run
        django.setup()
        from tests.downloads import generated_catalog, save

        root = Path(args.root)
        root.mkdir(parents=True, exist_ok=True)
        made = generated_catalog(root, {"tiny": 40_000_000, "base.en": 20_000_000})
        save(made, root / "catalog.json")
        print(f"KODA_MODEL_CATALOG_FILE={root.resolve() / 'catalog.json'}", flush=True)
    server = FileServer(Path(args.root), args.port)
    server.delay = args.delay
    print(f"serving {server.root} on {server.url}", flush=True)
    server.serve_forever()
