"""Settings, read from the environment in this one place, with working defaults for the embedded mode.

Environment variables (all optional):
  SMARTIP_HOME       folder for the SQLite database, media and static files (default ./var)
  DATABASE_URL       e.g. postgres://user@127.0.0.1:5432/db (default: SQLite in SMARTIP_HOME)
  SECRET_KEY         required when DEBUG is off
  DEBUG              1/0 (default 1 in the embedded mode)
  ALLOWED_HOSTS      comma separated
  EMAIL_URL          "console" (default) or smtp://user:pass@host:port
  NOTIFIER           "email" (default) or "console" or "memory" (tests)
  TILE_URL           Leaflet tile URL template
  MQTT_URL           mqtt://127.0.0.1:1883
  STORAGE            "local" (default) or "s3"
  TASK_BACKEND       "immediate" (default) or "database" (jobs queued in the database for `smartip worker`)
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
_env = os.environ

HOME = Path(_env.get("SMARTIP_HOME", Path.cwd() / "var")).resolve()
DEBUG = _env.get("DEBUG", "1") == "1"
SECRET_KEY = _env.get("SECRET_KEY") or ("embedded-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG=0")
ALLOWED_HOSTS = [h for h in _env.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in _env.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    # our apps first, so our registration/ templates win over the admin's
    "smartip.core",
    "smartip.cities",
    "smartip.accounts",
    "smartip.reports",
    "smartip.budgeting",
    "smartip.sensing",
    "smartip.mobility",
    "smartip.portal",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "smartip.cities.middleware.CityTimezoneMiddleware",
]

ROOT_URLCONF = "smartip.urls"
WSGI_APPLICATION = "smartip.wsgi.application"
ASGI_APPLICATION = "smartip.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "smartip.portal.context.site",
            ],
        },
    }
]

HOME.mkdir(parents=True, exist_ok=True)
_default_db = f"sqlite:///{HOME / 'smartip.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(_env.get("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # the test database is a file too, so that a worker process started by a test (MQTT, tasks) can open it;
    # one per test run (process id), so that two runs at once do not share it
    DATABASES["default"]["TEST"] = {"NAME": str(HOME / f"test-smartip-{os.getpid()}.sqlite3")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("de", "Deutsch"), ("it", "Italiano"), ("fi", "Suomi")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # collectstatic fills it; empty, WhiteNoise serves from the finders
MEDIA_URL = "/media/"
MEDIA_ROOT = HOME / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if _env.get("STORAGE") == "s3":  # optional: needs django-storages[s3] and its AWS_* variables
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

_email = _env.get("EMAIL_URL", "console")
if _email == "console":
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
elif _email == "memory":
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    from urllib.parse import urlparse

    _u = urlparse(_email)
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _u.hostname or "localhost",
                "port": _u.port or 25,
                "username": _u.username or "",
                "password": _u.password or "",
                "use_tls": _u.scheme == "smtp+tls",
                "timeout": 20,
            },
        }
    }
DEFAULT_FROM_EMAIL = _env.get("DEFAULT_FROM_EMAIL", "SMARTiP <noreply@smartip.local>")

# Pluggable backends, chosen by name (STYLE habit 8).
NOTIFIER = _env.get("NOTIFIER", "email")
TILE_URL = _env.get("TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
TILE_ATTRIBUTION = _env.get("TILE_ATTRIBUTION", "© OpenStreetMap contributors")
MQTT_URL = _env.get("MQTT_URL", "mqtt://127.0.0.1:1883")
# Citizen sensing: shown position of home-hosted sensors, ingest limits, MQTT topic root and worker identity.
SENSOR_PUBLIC_ROUNDING_M = float(_env.get("SENSOR_PUBLIC_ROUNDING_M", 100))
SENSING_MAX_BATCH = int(_env.get("SENSING_MAX_BATCH", 5000))
SENSING_MAX_FUTURE_S = float(_env.get("SENSING_MAX_FUTURE_S", 300))
SENSING_MQTT_PREFIX = _env.get("SENSING_MQTT_PREFIX", "smartip")
SENSING_MQTT_CLIENT_ID = _env.get("SENSING_MQTT_CLIENT_ID", "smartip-sensing-worker")

# Citizen mobility: the map-matching engine by name ("valhalla", or "fake" for tests), and the publication rule.
MAPMATCH_ENGINE = _env.get("MAPMATCH_ENGINE", "valhalla")
# a cell is published only with at least this many distinct people
MOBILITY_MIN_PEOPLE = int(_env.get("MOBILITY_MIN_PEOPLE", 5))
MOBILITY_DP_EPSILON = float(_env["MOBILITY_DP_EPSILON"]) if _env.get("MOBILITY_DP_EPSILON") else None
MOBILITY_CAP_PER_PERSON = int(_env.get("MOBILITY_CAP_PER_PERSON", 10))
MOBILITY_MAX_UPLOAD_BYTES = int(_env.get("MOBILITY_MAX_UPLOAD_BYTES", 20_000_000))

# Background jobs (Django's tasks framework; the job queue is a plugin chosen by name, STYLE habit 8).
# "immediate" runs each job in the process that enqueued it, right after the commit: the embedded quick start
# has no worker process, and its uploads must still show their trips. "database" (production) stores each job
# in the database (django-tasks-db), where `smartip worker` processes on any number of machines pick it up.
# The queue's tables are installed in both modes, so switching needs no new migration.
TASK_BACKEND = _env.get("TASK_BACKEND", "immediate")
_TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
if TASK_BACKEND not in _TASK_BACKENDS:
    raise RuntimeError(f"TASK_BACKEND={TASK_BACKEND!r}: use one of {', '.join(_TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_BACKEND]}}
INSTALLED_APPS.append("django_tasks_db")

# Civic reporting limits.
REPORT_MAX_PHOTOS = 5
REPORT_PHOTO_MAX_BYTES = int(_env.get("REPORT_PHOTO_MAX_BYTES", 8 * 1024 * 1024))
REPORT_HIDE_AFTER_FLAGS = int(_env.get("REPORT_HIDE_AFTER_FLAGS", 3))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SITE_NAME = _("SMARTiP")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": _env.get("LOG_LEVEL", "WARNING")},
}
