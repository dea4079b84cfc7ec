"""Koda control plane settings, read from the environment through strict helpers.

Every variable is listed in `.env.example`. A malformed boolean or integer stops start-up with
an error naming the variable (environs raises `EnvValidationError`), never silently means False.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import csp.constants
import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from environs import Env

BASE_DIR = Path(__file__).resolve().parent.parent

env = Env()
# Variables may also come from a .env file (KODA_ENV_FILE, default ./.env; empty for none). What
# the environment already holds wins over the file.
ENV_FILE = os.environ.get("KODA_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    env.read_env(ENV_FILE, recurse=False, override=False)

DEBUG = env.bool("KODA_DEBUG", False)
DATA_DIR = Path(env.str("KODA_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _key_from_env_or_file(name: str, filename: str) -> str:
    """Read a key from the environment, else from the file development mode generated in the data
    dir (so every manage.py command finds the keys `make run` made); generate that file only when
    KODA_DEBUG is true.

    The file is created with mode 0600 and O_EXCL, so two processes starting together agree on
    one key (the loser reads the winner's file) and the key is never world-readable.
    """
    value = env.str(name, "")
    if value:
        return value
    path = DATA_DIR / filename
    if not DEBUG and not path.exists():
        raise ImproperlyConfigured(
            f"{name} is not set. Set it in the environment (it is only generated automatically, "
            f"into {path}, when KODA_DEBUG=true). Generate one with: python -c 'import secrets; "
            f"print(secrets.token_urlsafe(50))'"
        )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if not value:
            raise ImproperlyConfigured(
                f"{path} is empty; delete it to generate a new key"
            ) from None
        return value
    value = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


SECRET_KEY = _key_from_env_or_file("KODA_SECRET_KEY", "secret_key")
# Kept apart from SECRET_KEY so rotating one does not touch the other (see koda/crypto.py).
KODA_ENCRYPTION_KEY = _key_from_env_or_file("KODA_ENCRYPTION_KEY", "encryption_key")
KODA_ENCRYPTION_KEY_PREVIOUS = env.str("KODA_ENCRYPTION_KEY_PREVIOUS", "")

ALLOWED_HOSTS = env.list("KODA_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
KODA_ALLOW_PRIVATE_BASE_URLS = env.bool("KODA_ALLOW_PRIVATE_BASE_URLS", False)
KODA_VERIFY_TIMEOUT_SECONDS = env.float("KODA_VERIFY_TIMEOUT_SECONDS", 10.0)
KODA_HEALTH_INTERVAL_SECONDS = env.int("KODA_HEALTH_INTERVAL_SECONDS", 300)
KODA_HEALTH_RETENTION_DAYS = env.int("KODA_HEALTH_RETENTION_DAYS", 30)
# A stored key older than this many days is due for rotation (shown as a warning); 0: off.
KODA_KEY_ROTATION_DAYS = env.int("KODA_KEY_ROTATION_DAYS", 0)
if KODA_KEY_ROTATION_DAYS < 0:
    raise ImproperlyConfigured("KODA_KEY_ROTATION_DAYS must be 0 (off) or more")
# Longest wait between checks of a provider that keeps failing transiently (backoff ceiling).
KODA_HEALTH_MAX_BACKOFF_SECONDS = env.int("KODA_HEALTH_MAX_BACKOFF_SECONDS", 6 * 3600)
KODA_MODELS_DIR = Path(env.str("KODA_MODELS_DIR", "") or str(DATA_DIR / "models")).resolve()
# Where model files are fetched from: empty for the upstream hosts (Hugging Face, GitHub), or a
# mirror serving the same file names flat (air-gapped installs). It may carry credentials.
KODA_MODEL_MIRROR_URL = env.str("KODA_MODEL_MIRROR_URL", "").rstrip("/")
# Sizes and SHA-256 of model files, where a mirror serves other revisions than the catalog's:
# a JSON file {"<variant or file name>": {"size": bytes, "sha256": hex}}.
KODA_MODEL_CATALOG_FILE = env.str("KODA_MODEL_CATALOG_FILE", "")
# How many failed calls one agent's runtime may report a minute (a looping runtime cannot flood
# the health history).
KODA_RUNTIME_REPORTS_PER_MINUTE = env.int("KODA_RUNTIME_REPORTS_PER_MINUTE", 30)

# Sign-in flows (design §9; the public clients of providers.md §1b and §2b). An operator can
# point them elsewhere (a proxy, or the tests' fake). A token URL left unset is tried at
# Anthropic's current host, then its older ones, while they answer 404.
KODA_CLAUDE_OAUTH_AUTHORIZE_URL = env.str(
    "KODA_CLAUDE_OAUTH_AUTHORIZE_URL", "https://claude.ai/oauth/authorize"
)
KODA_CLAUDE_OAUTH_TOKEN_URL = env.str("KODA_CLAUDE_OAUTH_TOKEN_URL", "")
KODA_CLAUDE_OAUTH_REDIRECT_URI = env.str(
    "KODA_CLAUDE_OAUTH_REDIRECT_URI", "https://platform.claude.com/oauth/code/callback"
)
KODA_CLAUDE_OAUTH_CLIENT_ID = env.str(
    "KODA_CLAUDE_OAUTH_CLIENT_ID", "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
)
KODA_CLAUDE_OAUTH_SCOPES = env.str(
    "KODA_CLAUDE_OAUTH_SCOPES", "org:create_api_key user:profile user:inference"
)
KODA_CLAUDE_API_BASE_URL = env.str("KODA_CLAUDE_API_BASE_URL", "https://api.anthropic.com")
KODA_CHATGPT_AUTH_BASE_URL = env.str("KODA_CHATGPT_AUTH_BASE_URL", "https://auth.openai.com")
KODA_CHATGPT_CLIENT_ID = env.str("KODA_CHATGPT_CLIENT_ID", "app_EMoamEEZ73f0CkXaXp7hrann")
KODA_CHATGPT_BACKEND_URL = env.str("KODA_CHATGPT_BACKEND_URL", "https://chatgpt.com/backend-api")
# How long before an access token expires it is refreshed (sweeps and verifications do it).
KODA_TOKEN_REFRESH_MARGIN_SECONDS = env.int("KODA_TOKEN_REFRESH_MARGIN_SECONDS", 300)
# A running download whose worker has not reported for this long is taken as stopped (its
# worker died); it can then be started again and resumes where it stopped.
KODA_DOWNLOAD_STALE_SECONDS = env.int("KODA_DOWNLOAD_STALE_SECONDS", 60)
KODA_OPERATOR_USERNAME = env.str("KODA_OPERATOR_USERNAME", "")
KODA_OPERATOR_PASSWORD = env.str("KODA_OPERATOR_PASSWORD", "")
# How many reverse proxies sit in front (client address for the audit trail and log-in throttling).
KODA_TRUSTED_PROXY_HOPS = env.int("KODA_TRUSTED_PROXY_HOPS", 0)

# Notifications (issue 15). Links in them point at KODA_PUBLIC_URL (how operators reach Koda).
KODA_PUBLIC_URL = env.str("KODA_PUBLIC_URL", "http://localhost:8000").rstrip("/")
# A degraded connection (transient outcomes) is reported once it has lasted this long; failing
# ones (a refused key, a billing block) at once.
KODA_NOTIFY_DEGRADED_AFTER_SECONDS = env.int("KODA_NOTIFY_DEGRADED_AFTER_SECONDS", 900)
# A failed delivery is tried again this many times, after this many seconds, doubling each time
# (capped at an hour).
KODA_NOTIFY_RETRIES = env.int("KODA_NOTIFY_RETRIES", 4)
KODA_NOTIFY_RETRY_SECONDS = env.float("KODA_NOTIFY_RETRY_SECONDS", 30.0)
# Email channels: Django's SMTP backend, set from the environment.
EMAIL_BACKEND = env.str("KODA_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("KODA_SMTP_HOST", "localhost")
EMAIL_PORT = env.int("KODA_SMTP_PORT", 25)
EMAIL_HOST_USER = env.str("KODA_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env.str("KODA_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env.bool("KODA_SMTP_STARTTLS", False)
EMAIL_USE_SSL = env.bool("KODA_SMTP_SSL", False)
EMAIL_TIMEOUT = env.int("KODA_SMTP_TIMEOUT_SECONDS", 10)
DEFAULT_FROM_EMAIL = env.str("KODA_EMAIL_FROM", "Koda <koda@localhost>")
if KODA_TRUSTED_PROXY_HOPS < 0:
    raise ImproperlyConfigured("KODA_TRUSTED_PROXY_HOPS must be 0 or more")
if KODA_HEALTH_INTERVAL_SECONDS < 1 or KODA_HEALTH_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(
        "KODA_HEALTH_INTERVAL_SECONDS and KODA_HEALTH_RETENTION_DAYS must be at least 1"
    )
if KODA_VERIFY_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured("KODA_VERIFY_TIMEOUT_SECONDS must be greater than 0")

# Largest JSON body the API accepts; larger bodies get 413 before they are parsed.
KODA_API_MAX_BODY_BYTES = 64 * 1024

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "koda",
    "providers",
    "connections",
    "agents",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "koda.csp.CSPMiddleware",  # django-csp's, its policy built once
    "django_htmx.middleware.HtmxMiddleware",
    "koda.middleware.OperatorRequiredMiddleware",
    # Last, as django-axes asks: it turns a lockout signalled by the backend into a response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Background jobs: the Django Tasks API with its database backend; `manage.py db_worker` runs them
# (several workers on several machines can share one PostgreSQL database).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

ROOT_URLCONF = "koda.urls"
WSGI_APPLICATION = "koda.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "connections.context_processors.health_banner",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        # An empty DATABASE_URL (a blank line in .env) means the default, not no database.
        env.str("DATABASE_URL", "") or f"sqlite:///{DATA_DIR / 'koda.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Sweeps write from several threads: wait for the lock instead of failing, take the write
    # lock up front (no deadlock on upgrade), and let readers run beside the writer (WAL).
    # synchronous=NORMAL, SQLite's advice for WAL: a commit survives Koda crashing, only a power
    # cut or an OS crash can lose the last ones (never corrupt the file); it spares an fsync on
    # every commit (each runtime issuance writes its audit row).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, skipping the per-request health check (a SELECT 1 round trip) for a
    # connection used within the last second (koda/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "koda.postgresql"
if DATABASES["default"]["ENGINE"] == "koda.postgresql" and env.bool(
    "KODA_DB_PREPARED_STATEMENTS", True
):
    # Statements run often (a runtime's token lookup, the audit INSERT, the state reads) are
    # prepared on each connection after 5 runs: PostgreSQL then skips parsing and planning,
    # most of their cost. A transaction-pooling PgBouncer without max_prepared_statements
    # cannot carry prepared statements: set KODA_DB_PREPARED_STATEMENTS=false there.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# The operator session (design §7): the cookie name is part of the documented curl usage.
SESSION_COOKIE_NAME = "koda_operator_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_AGE = env.int("KODA_SESSION_AGE_SECONDS", 12 * 3600)
CSRF_COOKIE_NAME = "koda_csrftoken"
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env.list("KODA_CSRF_TRUSTED_ORIGINS", [])

# Production hardening; `manage.py check --deploy` is clean with KODA_DEBUG=false.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A strict Content-Security-Policy on every response (django-csp): scripts, styles and fonts only
# from Koda itself (htmx is vendored in static/, no page has an inline script or style), no
# plugins, no framing, forms post only back to Koda.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF],
        "style-src": [csp.constants.SELF],
        "img-src": [csp.constants.SELF, "data:"],
        "font-src": [csp.constants.SELF],
        "connect-src": [csp.constants.SELF],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.NONE],
        "form-action": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
    }
}
SECURE_SSL_REDIRECT = env.bool("KODA_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env.int("KODA_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("KODA_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("KODA_HSTS_PRELOAD", False)
if env.bool("KODA_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Login throttling (django-axes): after 5 failures for one username from one address, that pair
# is locked out for 15 minutes. Attempts live in the database, so every gunicorn worker agrees.
AXES_FAILURE_LIMIT = env.int("KODA_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("KODA_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "koda/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Throttle on the same client address the audit trail records (KODA_TRUSTED_PROXY_HOPS).
AXES_CLIENT_IP_CALLABLE = "koda.context.client_address"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "koda.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("KODA_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # urllib3 logs each request's URL at DEBUG, and a webhook's URL (a Slack one above all)
        # is its credential: whatever KODA_LOG_LEVEL says, only its warnings are logged.
        "urllib3": {"level": "WARNING"},
        # Django's default config gives "django" a console handler of its own in DEBUG, which
        # prints every record a second time, past the redacting filter: one handler, ours.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
