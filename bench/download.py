"""Model downloads: throughput of Koda's fetch (egress check, pinned connection, .part file,
SHA-256 while writing, progress reports, atomic move) against a plain streamed copy of the same
file from the same local server, in the same run; and the peak memory of each (goals: >= 0.9x
the plain copy's throughput, < 100 MB peak RSS on a 1 GB file).

    .venv/bin/python bench/download.py --size-mb 1024

Each side runs in a child process of its own, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = 1024 * 1024


def make_file(path: Path, size_mb: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        for _ in range(size_mb):
            block = os.urandom(BLOCK)
            fh.write(block)
            digest.update(block)
    return digest.hexdigest()


def child(kind: str, url: str, dest: str, size: int, sha256: str) -> None:
    """Fetch once and print {"seconds", "rss_mb"} as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koda.settings")
    os.environ.setdefault("KODA_DATA_DIR", str(Path(dest).parent))
    os.environ.setdefault("KODA_SECRET_KEY", "bench-" + "s" * 50)
    os.environ.setdefault("KODA_ENCRYPTION_KEY", "bench-" + "e" * 50)
    os.environ.setdefault("KODA_ENV_FILE", "")
    import django

    django.setup()
    import requests

    from providers import transfer

    started = time.perf_counter()
    if kind == "baseline":
        with requests.get(url, stream=True, timeout=30) as response, open(dest, "wb") as out:
            for chunk in response.iter_content(BLOCK):
                out.write(chunk)
    else:
        transfer.fetch(
            url,
            Path(dest),
            transfer.Expected(size, sha256),
            on_progress=lambda done, total, stage: None,
            should_stop=lambda: False,
            local=True,
        )
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--child", nargs=5, metavar=("KIND", "URL", "DEST", "SIZE", "SHA"))
    args = parser.parse_args()
    if args.child:
        kind, url, dest, size, sha = args.child
        child(kind, url, dest, int(size), sha)
        return
    sys.path.insert(0, str(ROOT))
    from tests.file_server import FileServer

    with tempfile.TemporaryDirectory(prefix="koda-bench-dl-") as tmp:
        root = Path(tmp) / "mirror"
        root.mkdir()
        print(f"writing a {args.size_mb} MB file…", flush=True)
        sha = make_file(root / "model.bin", args.size_mb)
        server = FileServer(root).start()
        size = (root / "model.bin").stat().st_size
        results = {}
        for kind in ("baseline", "koda"):
            dest = Path(tmp) / kind / "model.bin"
            dest.parent.mkdir()
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    kind,
                    f"{server.url}/model.bin",
                    str(dest),
                    str(size),
                    sha,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
            dest.unlink()
        server.close()
    mb = size / BLOCK
    print(f"file          {mb:.0f} MB from {server.url} (local, Python's http.server)")
    print(f"{'':14}{'seconds':>9}{'MB/s':>9}{'peak RSS MB':>13}")
    for name, label in (("baseline", "plain copy"), ("koda", "Koda fetch")):
        r = results[name]
        print(f"{label:14}{r['seconds']:9.2f}{mb / r['seconds']:9.0f}{r['rss_mb']:13.0f}")
    ratio = results["baseline"]["seconds"] / results["koda"]["seconds"]
    print(f"throughput    {ratio:.2f}x the plain copy (goal >= 0.90)")
    print(f"peak RSS      {results['koda']['rss_mb']:.0f} MB (goal < 100)")


if __name__ == "__main__":
    main()
