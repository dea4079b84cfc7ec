"""Koda's settings with a URLconf that adds the bench's baseline view (bench/resolve.py)."""

from koda.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
