"""Run the real task worker, `manage.py db_worker`, with the model catalog pointed at generated
files (the catalog's real files are hundreds of MB):

    python -m tests.worker CATALOG.json [db_worker options]

Only the catalog's sizes and checksums are swapped (tests/downloads.py); the worker, the task
and the download code are the product's own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.core.management import call_command

    from tests.downloads import install, load

    install(load(Path(sys.argv[1])), lambda table, name, value: table.__setitem__(name, value))
    call_command("db_worker", *sys.argv[2:])
