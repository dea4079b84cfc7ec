"""The real settings, with the environment a test run needs filled in where the caller left it
empty (keys, a throwaway data dir). Tests of the settings themselves run koda.settings in a
subprocess with an explicit environment."""

import os
import tempfile

os.environ.setdefault("KODA_SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("KODA_ENCRYPTION_KEY", "test-encryption-key-" + "y" * 40)
os.environ.setdefault("KODA_DATA_DIR", tempfile.mkdtemp(prefix="koda-test-"))
os.environ.setdefault("KODA_SECURE_SSL_REDIRECT", "false")
# A developer's ./.env (perhaps naming a real database) must not reach the tests.
os.environ.setdefault("KODA_ENV_FILE", "")

from koda.settings import *  # noqa: F403

# Password hashing at production strength costs ~0.5 s a user; tests make many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, like production: an in-memory test database is one shared-cache connection that
    # answers "table is locked" to the sweeps' worker threads instead of waiting.
    test_db = os.path.join(os.environ["KODA_DATA_DIR"], "test.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": test_db}  # noqa: F405
