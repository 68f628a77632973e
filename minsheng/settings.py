"""Minsheng settings: one file, read from environment variables.

Every setting has a safe development default; production (MINSHENG_ENV=production)
refuses to start with a default secret. Secrets may also come from `<NAME>_FILE`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (for container secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = env(name, "")
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = env(name, "")
    return int(value) if value else default


MINSHENG_ENV = env("MINSHENG_ENV", "development")
PRODUCTION = MINSHENG_ENV == "production"
DEBUG = envbool("DEBUG", not PRODUCTION)

DEV_SECRET_KEY = "minsheng-development-only-not-secret"  # noqa: S105 - refused in production below
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
if PRODUCTION and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 32 characters when MINSHENG_ENV=production."
    )

DATA_DIR = Path(env("MINSHENG_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "minsheng.core",
    "minsheng.accounts",
    "minsheng.projects",
    "minsheng.console",
    "minsheng.portal",
    "minsheng.ledger",
    "minsheng.demo",
    "minsheng.feedback",
    "minsheng.construction",
    "minsheng.telemetry",
    "minsheng.finance",
    "minsheng.procurement",
    "minsheng.insight",
]

MIDDLEWARE = [
    "minsheng.core.proxy.TrustedProxyMiddleware",  # only with TRUST_X_FORWARDED_FOR (behind a reverse proxy)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Behind a reverse proxy: take the client's address from the proxy's X-Forwarded-For entry, so per-IP
# rate limits and the captcha apply per citizen (minsheng/core/proxy.py). Off unless set.
TRUST_X_FORWARDED_FOR = envbool("TRUST_X_FORWARDED_FOR", False)

ROOT_URLCONF = "minsheng.urls"
WSGI_APPLICATION = "minsheng.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "minsheng" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# Database: SQLite (WAL) in the data directory by default; PostgreSQL via DATABASE_URL.
DATABASE_URL = env("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not envbool("PG_JIT", False):
        # Scoped list queries look expensive to the planner (EXISTS sub-plans), so PostgreSQL JIT-compiles
        # them: 40–120 ms per request for queries that run in 10–30 ms (bench/projects_bench.py).
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(DATA_DIR / "minsheng.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE: a writer takes the lock at BEGIN, so concurrent writers queue instead of
                # failing with "database is locked" half-way through a transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": env("SQLITE_TEST_PATH", "")} if env("SQLITE_TEST_PATH", "") else {},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"

# Lockout after repeated failures (django-axes): per username and IP.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "console/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ENABLED = envbool("AXES_ENABLED", True)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "minsheng" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "minsheng" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Uploads: refuse anything larger than this before it reaches a service.
MINSHENG_MAX_UPLOAD_BYTES = envint("MINSHENG_MAX_UPLOAD_MB", 20) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Background work: the Django tasks API, database backend by default (Redis/RQ at scale).
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_HOURS", 12) * 3600
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "apscheduler": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 25

# Minsheng's own settings.
MINSHENG_SITE_NAME = _("民生工程全周期管理平台")
MINSHENG_PAGE_SIZE = 25
# How long a process goes on using the jurisdiction rules and divisions it has read before it looks at the
# shared version again: a change made in one process reaches the others within this many seconds.
MINSHENG_RULES_RECHECK_SECONDS = float(env("MINSHENG_RULES_RECHECK_SECONDS", "1"))
# Currencies budgets and payments may be in (ISO 4217, comma-separated); anything else is refused.
MINSHENG_CURRENCIES = [c.strip().upper() for c in env("MINSHENG_CURRENCIES", "CNY").split(",") if c.strip()]

# Evidence ledger (RFC 9162 transparency log). The origin names the log in checkpoints and must
# equal the signing key's name. The key is a signed-note private key (`minsheng ledger keygen`);
# production refuses to sign without one. LEDGER_PUBLIC_KEY, when set, pins the verifier key.
LEDGER_ORIGIN = env("LEDGER_ORIGIN", "minsheng.local/ledger")
LEDGER_HASH = env("LEDGER_HASH", "sha256")
if LEDGER_HASH not in {"sha256", "sm3"}:
    raise ImproperlyConfigured("LEDGER_HASH must be sha256 or sm3.")
LEDGER_SIGNING_KEY = env("LEDGER_SIGNING_KEY", "")
LEDGER_PUBLIC_KEY = env("LEDGER_PUBLIC_KEY", "")
# tlog-witness add-checkpoint URLs (space or comma separated) each new checkpoint is pushed to.
LEDGER_WITNESSES = env("MINSHENG_LEDGER_WITNESSES", "").replace(",", " ").split()

# Telemetry (devices over MQTT and HTTP). Readings further than the skew in the future, or older
# than the backfill window (devices buffer while offline), are rejected and counted.
MQTT_HOST = env("MQTT_HOST", "127.0.0.1")
MQTT_PORT = envint("MQTT_PORT", 1883)
MQTT_USERNAME = env("MQTT_USERNAME", "")
MQTT_PASSWORD = env("MQTT_PASSWORD", "")
MQTT_TOPIC_PREFIX = env("MQTT_TOPIC_PREFIX", "minsheng/v1/telemetry")
MQTT_SHARE_GROUP = env("MQTT_SHARE_GROUP", "minsheng")
TELEMETRY_MAX_CLOCK_SKEW_SECONDS = envint("TELEMETRY_MAX_CLOCK_SKEW_SECONDS", 300)
TELEMETRY_MAX_BACKFILL_DAYS = envint("TELEMETRY_MAX_BACKFILL_DAYS", 7)
TELEMETRY_BATCH_SIZE = envint("TELEMETRY_BATCH_SIZE", 500)
TELEMETRY_BATCH_SECONDS = float(env("TELEMETRY_BATCH_SECONDS", "0.2"))
TELEMETRY_HTTP_MAX_READINGS = envint("TELEMETRY_HTTP_MAX_READINGS", 5000)
# A running ingest process re-reads a device (credential, active, project) and the rules this often.
TELEMETRY_DEVICE_CACHE_SECONDS = envint("TELEMETRY_DEVICE_CACHE_SECONDS", 30)
# Readings and minute roll-ups older than this are removed nightly (whole monthly partitions on
# PostgreSQL); hour roll-ups are kept longer. Partitions are created this many months ahead.
MINSHENG_TELEMETRY_RETENTION_DAYS = envint("MINSHENG_TELEMETRY_RETENTION_DAYS", 400)
MINSHENG_TELEMETRY_HOUR_ROLLUP_RETENTION_DAYS = envint("MINSHENG_TELEMETRY_HOUR_ROLLUP_RETENTION_DAYS", 3650)
TELEMETRY_PARTITIONS_AHEAD = envint("TELEMETRY_PARTITIONS_AHEAD", 3)
# Minutes an unacknowledged alarm waits before it is escalated (to the department head, then as
# long again to the division coordinator), per severity.
TELEMETRY_ESCALATION_MINUTES = {"critical": 15, "major": 60, "minor": 240, "warning": 1440}

# The cache holds rate-limit counters and captcha challenges, which every web process must share:
# Redis when MINSHENG_REDIS_URL is set (redis://host:6379/0), else a table in the database
# (created by `minsheng migrate`).
MINSHENG_REDIS_URL = env("MINSHENG_REDIS_URL", "")
if MINSHENG_REDIS_URL:
    CACHES = {"default": {"BACKEND": "minsheng.core.cache.SharedClientRedisCache", "LOCATION": MINSHENG_REDIS_URL,
                          "KEY_PREFIX": env("MINSHENG_CACHE_PREFIX", "minsheng")}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "minsheng_cache", "OPTIONS": {"MAX_ENTRIES": 100_000}}}
RATELIMIT_USE_CACHE = "default"

# E-mail (citizen notices): SMTP in production, printed to the console in development.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
                    else "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "minsheng@localhost")

# Citizen requests. Personal data (phone, e-mail, name, photo, description) is erased from requests
# closed longer ago than this; statistics stay. Public submissions per IP address (django-ratelimit,
# on the shared cache above). After FEEDBACK_CAPTCHA_AFTER submissions from one address or phone
# within the window, the form asks for the offline captcha.
FEEDBACK_RETENTION_MONTHS = envint("FEEDBACK_RETENTION_MONTHS", 24)
FEEDBACK_SUBMIT_RATE = env("FEEDBACK_SUBMIT_RATE", "20/h")
FEEDBACK_CAPTCHA_AFTER = envint("FEEDBACK_CAPTCHA_AFTER", 3)
FEEDBACK_CAPTCHA_WINDOW_MINUTES = envint("FEEDBACK_CAPTCHA_WINDOW_MINUTES", 60)
FEEDBACK_CAPTCHA_TTL_SECONDS = envint("FEEDBACK_CAPTCHA_TTL_SECONDS", 600)
MINSHENG_SMS_BACKEND = env("MINSHENG_SMS_BACKEND", "minsheng.feedback.sms.ConsoleBackend")
# Citizen notices: channel name → backend class (see minsheng/feedback/notices.py).
MINSHENG_NOTICE_CHANNELS = {
    "sms": "minsheng.feedback.notices.SmsChannel",
    "email": "minsheng.feedback.notices.EmailChannel",
    "inapp": "minsheng.feedback.notices.InAppChannel",
}
# Map tiles for the citizen map, e.g. an intranet tile server "https://tiles.example.gov.cn/{z}/{x}/{y}.png".
# Empty: the map shows no tiles (a plain grid with the pin and the jurisdiction's area); nothing is
# ever fetched from the internet by default.
MINSHENG_MAP_TILE_URL = env("MINSHENG_MAP_TILE_URL", "")
MINSHENG_MAP_ATTRIBUTION = env("MINSHENG_MAP_ATTRIBUTION", "")

# OCDS 1.1 publication under /ocds/v1/ (minsheng/procurement/ocds): the ocid prefix registered with the Open
# Contracting Partnership (ocds-xxxxxx), the publisher named in every package, and the data licence URI.
MINSHENG_OCID_PREFIX = env("MINSHENG_OCID_PREFIX", "ocds-minsheng")
MINSHENG_OCDS_PUBLISHER = env("MINSHENG_OCDS_PUBLISHER", "民生工程管理平台")
MINSHENG_OCDS_PUBLISHER_URI = env("MINSHENG_OCDS_PUBLISHER_URI", "")
MINSHENG_OCDS_LICENSE = env("MINSHENG_OCDS_LICENSE", "")
