"""Secrets are encrypted at rest under KODA_ENCRYPTION_KEY, and can be rotated to a new key."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection as db

from connections.models import Connection
from koda.crypto import InvalidToken, is_current
from koda.redaction import secret_hint
from tests.conftest import make_connection

SECRET = "sk-proj-KnownPlaintextSecret-0123456789abcdefWXYZ"


def raw_secret_column() -> bytes:
    with db.cursor() as cursor:
        cursor.execute("SELECT secrets FROM connections_connection")
        return bytes(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_it_never_writes_the_secret_in_plaintext():
    make_connection("openai", api_key=SECRET)
    raw = raw_secret_column()
    assert SECRET.encode() not in raw and b"KnownPlaintext" not in raw
    assert Connection.objects.get().secrets["api_key"] == SECRET
    if db.vendor == "sqlite":
        # Scan the database file itself (and its WAL), not only what the driver returns. From
        # another process: closing a descriptor of the file here would drop every POSIX lock
        # this process's SQLite connections hold on it (fcntl locks are per process).
        path = Path(settings.DATABASES["default"]["NAME"])
        scan = (
            "import glob, sys; sys.exit(any(b'KnownPlaintext' in open(f, 'rb').read() "
            f"for f in glob.glob({str(path)!r} + '*')))"
        )
        assert subprocess.run([sys.executable, "-c", scan], timeout=30).returncode == 0


@pytest.mark.django_db
def test_it_keeps_the_hint_to_the_last_four_characters():
    assert secret_hint(SECRET) == "sk-proj-…WXYZ"
    assert secret_hint("AIzaSyA1234567890abcdefghijklmnopqrstu") == "AIza…rstu"
    assert secret_hint("gsk_good_0123456789abcdef") == "gsk_…cdef"
    assert secret_hint("abc-def_0123456789abcdef") == "…cdef"  # no guessed prefixes
    assert secret_hint("short") == "… (5 characters)"


@pytest.mark.django_db
def test_it_does_not_depend_on_secret_key(settings):
    make_connection("groq", api_key=SECRET)
    settings.SECRET_KEY = "a-completely-different-secret-key-" + "z" * 30
    assert Connection.objects.get().secrets["api_key"] == SECRET


@pytest.mark.django_db
def test_it_refuses_to_read_a_secret_under_an_unknown_key(settings):
    make_connection("groq", api_key=SECRET)
    settings.KODA_ENCRYPTION_KEY = "another-key-" + "q" * 40
    with pytest.raises(InvalidToken) as excinfo:
        Connection.objects.get()
    assert SECRET not in str(excinfo.value)


@pytest.mark.django_db
def test_it_rotates_every_secret_to_the_new_key(settings):
    make_connection("groq", api_key=SECRET)
    old_ciphertext = raw_secret_column()
    settings.KODA_ENCRYPTION_KEY_PREVIOUS = settings.KODA_ENCRYPTION_KEY
    settings.KODA_ENCRYPTION_KEY = "the-new-encryption-key-" + "n" * 40
    assert not is_current(raw_secret_column())
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "Re-encrypted 1 secret(s)" in out.getvalue()
    assert raw_secret_column() != old_ciphertext and is_current(raw_secret_column())
    settings.KODA_ENCRYPTION_KEY_PREVIOUS = ""
    assert Connection.objects.get().secrets["api_key"] == SECRET


@pytest.mark.django_db
def test_it_rotates_nothing_when_a_secret_cannot_be_read(settings):
    make_connection("groq", api_key=SECRET)
    before = raw_secret_column()
    settings.KODA_ENCRYPTION_KEY = "wrong-" + "w" * 40
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("rotate_encryption_key")
    assert raw_secret_column() == before


@pytest.mark.django_db
def test_it_leaves_the_secret_out_of_dumpdata():
    make_connection("groq", api_key=SECRET)
    out = StringIO()
    call_command("dumpdata", "connections", stdout=out)
    assert "KnownPlaintext" not in out.getvalue()
