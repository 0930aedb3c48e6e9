"""Settings every purpose shares, read from the environment (12-factor).

One module per purpose builds on this one (cookiecutter-django's shape):

* ``config.settings.development`` — ``manage.py`` and ``scripts/dev.py run``: DEBUG on,
  ``DATABASE_URL`` or else the embedded PostgreSQL under ``var/``;
* ``config.settings.test`` — chosen by pytest's configuration (``pyproject.toml``);
* ``config.settings.production`` — gunicorn, Celery and every command on a server
  (``DJANGO_SETTINGS_MODULE`` in ``deploy/portal.env``): refuses to start without
  ``DATABASE_URL``, a strong ``SECRET_KEY`` and ``ALLOWED_HOSTS``, or with ``DEBUG`` on,
  and never starts an embedded server.

The environment: ``DATABASE_URL``, ``REDIS_URL`` (Celery broker, and the cache in
production), ``SECRET_KEY``, ``ALLOWED_HOSTS``; the full list is in docs/deploy.md.
"""

from __future__ import annotations

import datetime
import os
from email.utils import parseaddr
from pathlib import Path

import csp.constants as csp
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from config.settings.logging import logging_config

BASE_DIR = Path(__file__).resolve().parents[2]


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Each purpose's module (development, test, production) decides DEBUG, the secret key,
# the allowed hosts and the database; here they are the strict defaults.
DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "csp",
    "core",
    "core.notifications",
    "core.spreadsheets",
    "buildings",
    "members",
    "committees",
    "services",
    # Above every app: seed_demo (demo data and the city scale).
    "demo",
]

MIDDLEWARE = [
    # One structured log line per request (method, path, status, duration, user id).
    "core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each tracked change (members, committees, events, bookings).
    "pghistory.middleware.HistoryMiddleware",
    # Last: turns a lockout (django-axes) into the 429 page.
    "axes.middleware.AxesMiddleware",
]
# Benchmark only (bench/run, core/bench.py); both off by default and in production.
# PORTAL_QUERY_COUNT_HEADER=1: every response says how many SQL statements it ran (X-Query-Count).
QUERY_COUNT_HEADER = env_bool("PORTAL_QUERY_COUNT_HEADER", False)
if QUERY_COUNT_HEADER:
    MIDDLEWARE.insert(0, "core.bench.QueryCountMiddleware")
# PORTAL_BENCH=1: route GET /bench/baseline, the fixed JSON body the benchmark compares against.
BENCH_ENDPOINTS = env_bool("PORTAL_BENCH", False)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.notifications.context_processors.notifications",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASES is set by each purpose's module: production from DATABASE_URL only,
# development and tests from DATABASE_URL or else the embedded server (config/embedded.py).


def database_config(url: str) -> dict:
    """Django's DATABASES["default"] for a PostgreSQL URL."""
    import dj_database_url

    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))
    return with_connection_options(config)


def with_connection_options(config: dict) -> dict:
    config.setdefault("TEST", {})
    # Persistent connections (CONN_MAX_AGE above) are checked before reuse, so a restarted
    # PostgreSQL costs one failed check, not one failed request per thread.
    config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    return config


def database_from_environment_or_embedded() -> dict:
    """DATABASE_URL if set, else the embedded PostgreSQL under var/ (development and tests only)."""
    if os.environ.get("DATABASE_URL"):
        return {"default": database_config(os.environ["DATABASE_URL"])}
    from config.embedded import embedded_database

    return {"default": with_connection_options(embedded_database())}


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "members.User"

# --- Redis, cache, Celery -----------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {
    # The outbox is the record of what must be sent; this is the "look now" that
    # also catches whatever a dead broker or worker left behind.
    "send-due-notifications": {
        "task": "core.notifications.tasks.dispatch_due_notifications_task",
        "schedule": float(os.environ.get("NOTIFICATIONS_BEAT_SECONDS", "60")),
    },
    "mark-no-shows": {"task": "services.tasks.mark_no_shows_task", "schedule": 300.0},
    # Every registered scan (end-of-term reminders, ...), core/notifications/registry.py.
    "notification-scans": {
        "task": "core.notifications.tasks.run_scans_task",
        "schedule": crontab(hour=8, minute=0),
    },
}

# --- Notifications (core/notifications/; the kinds in each app's notifications.py) ---
# The portal's public address, for the links in e-mails.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
NOTIFICATIONS = {
    # Delivery channels, in delivery order: ones that write to our own database first.
    "CHANNELS": [
        "core.notifications.channels.InPortalChannel",
        "core.notifications.channels.EmailChannel",
    ],
    # Reminders before an event, in minutes, per Event.kind ("default" for the others).
    "REMINDER_OFFSETS": {"default": [24 * 60, 2 * 60]},
    # End-of-term (换届) reminders to the street's social workers, days before the term ends.
    "TERM_REMINDER_DAYS": [90, 30],
    # Failed sends retry after RETRY_BASE_SECONDS * 2**(attempt-1), at most RETRY_MAX_SECONDS,
    # and give up (status "failed", shown in the admin) after MAX_ATTEMPTS.
    "MAX_ATTEMPTS": int(os.environ.get("NOTIFICATIONS_MAX_ATTEMPTS", "8")),
    "RETRY_BASE_SECONDS": int(os.environ.get("NOTIFICATIONS_RETRY_BASE_SECONDS", "60")),
    "RETRY_MAX_SECONDS": 6 * 3600,
    # Rows one task sends before it returns; the beat fans out one task per batch.
    "BATCH_SIZE": int(os.environ.get("NOTIFICATIONS_BATCH_SIZE", "500")),
    "MAX_FANOUT": int(os.environ.get("NOTIFICATIONS_MAX_FANOUT", "50")),
}

# --- Auth ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Argon2 first: new and changed passwords are hashed with it; older hashes are upgraded on login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Lockout (django-axes with core/lockout.py's handler), in the admin and the portal alike (both
# call authenticate() with the request; so does the e-mail change's password check). Failed logins
# within 15 minutes lock out: 5 for one user name from one address (typos), 20 from one address
# across names (a password sprayed over many accounts), 30 for one name across addresses (one
# account guessed from many; higher, since a stranger can reach it to keep the real user out).
# A lock lasts 15 minutes after its last counted failure and failures during it do not extend it;
# a successful login clears that name's count only. Reasons: docs/security.md. API keys are
# issued in the admin, behind its login, or by create_api_token on the server. The attempts live
# in PostgreSQL, shared by all web processes; ``manage.py axes_reset_username`` /
# ``axes_reset_ip`` lift a lockout early.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "core.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
LOGIN_FAILURE_LIMITS = {"username,ip_address": 5, "ip_address": 20, "username": 30}
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMITS["username,ip_address"]
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.middleware.client_ip"
AXES_LOCKOUT_TEMPLATE = "429.html"
AXES_COOLOFF_MESSAGE = _("登录失败次数过多，请 15 分钟后再试。")
# Successful logins are not written to a table: that would be a log of people's whereabouts.
AXES_DISABLE_ACCESS_LOG = True

# --- Language and time --------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
# Demand attachments (committees): outside any served directory; only a view that checks who asks
# reads them (committees/views.py).
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "var" / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names and pre-compressed files, served by whitenoise with long cache headers.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Email --------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "楼宇党建 <noreply@localhost>")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
# A real mail relay usually wants a login and TLS (587 + STARTTLS, or 465 + SSL).
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (development).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))

# --- REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    # API keys first: a request without a session gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "members.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "core.api.SearchFilter",
        "core.api.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "core.api.CSVRenderer"],
    "EXCEPTION_HANDLER": "core.api.api_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.ContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["core.api.ApiRateThrottle"],
    # Per API key, per logged-in user, per address (core.api.ApiRateThrottle).
    "DEFAULT_THROTTLE_RATES": {
        "api_token": os.environ.get("API_TOKEN_RATE", "600/min"),
        "api_user": os.environ.get("API_USER_RATE", "600/min"),
        "api_anon": os.environ.get("API_ANON_RATE", "60/min"),
    },
    "UNICODE_JSON": True,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    # ASCII: client generators make the package name of it; the Chinese name heads the
    # description (core/api/schema.py) and the documentation pages' titles (config/api_urls.py).
    "TITLE": "Building Party Portal API",
    "DESCRIPTION": "Building party-construction portal: records, statistics and bookings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Error responses (400/401/403/404/429) with examples on every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_error_responses",
        # Integer ids, ASCII names, typed nullable references, no CSV answers for clients.
        "core.api.client_friendly",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PartyOrganizationKindEnum": "members.models.PartyOrganization.Kind",
        "PartyMemberStatusEnum": "members.models.PartyMember.Status",
        "EventKindEnum": "services.models.Event.Kind",
        "EventStatusEnum": "services.models.Event.Status",
        "BookingStatusEnum": "services.models.Booking.Status",
        "SpaceReservationStatusEnum": "services.models.SpaceReservation.Status",
    },
}

# --- Spreadsheet import and export (core/spreadsheets/, django-import-export) ---------
# Files above this size are refused with a message (nginx lets 52 MB through: deploy/nginx.conf).
SPREADSHEET_MAX_BYTES = int(os.environ.get("SPREADSHEET_MAX_BYTES", str(50 * 1024 * 1024)))
# Files with at most this many rows are previewed and applied in the request; larger ones by
# a Celery worker, with progress on the admin page.
SPREADSHEET_SYNC_ROWS = int(os.environ.get("SPREADSHEET_SYNC_ROWS", "500"))
# django-import-export: its transactions (each import one transaction, a row one savepoint).
IMPORT_EXPORT_USE_TRANSACTIONS = True

# --- History (django-pghistory) ----------------------------------------------
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"

# --- Logging ------------------------------------------------------------------
# One JSON object per line (config/settings/logging.py); development writes text.
# LOG_FORMAT=text|json overrides either.
LOG_FORMAT_DEFAULT = "json"
LOGGING = logging_config(
    json_format=os.environ.get("LOG_FORMAT", LOG_FORMAT_DEFAULT) == "json",
    level=os.environ.get("LOG_LEVEL", "INFO"),
)
# Unhandled errors are mailed here (and always logged with their traceback).
# ADMINS="Ops <ops@example.org>,dev@example.org"
ADMINS = [(parseaddr(item)[0] or parseaddr(item)[1], parseaddr(item)[1]) for item in env_list("ADMINS")]
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- Content-Security-Policy (django-csp; development too, so violations show early) ---
# No inline scripts, styles or event handlers anywhere: JavaScript and CSS come from
# static/ files. A script that must be inline takes ``nonce="{{ request.csp_nonce }}"``.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF],
        # data: for small inline images (QR codes, the admin's icons in CSS).
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}
# drf-spectacular's Swagger page has inline code; only there is it allowed (core/middleware.py).
API_DOCS_CSP_PREFIXES = ["/api/v1/docs/", "/api/v1/redoc/"]

# --- HTTPS, cookies and headers -------------------------------------------------
# Headers for every purpose; production.py turns on HTTPS, HSTS and secure cookies.
SESSION_COOKIE_HTTPONLY = True
# The language cookie the portal sets (login, profile) and Django's language switch alike;
# production.py makes it Secure.
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 14 * 24 * 3600))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The load balancer probes /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Trust the proxy's X-Forwarded-Proto and X-Real-IP (core/middleware.py): production only.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
