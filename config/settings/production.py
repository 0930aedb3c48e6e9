"""Production: gunicorn, the Celery worker and beat, and every command on a server.

Refuses to start — with a message that says what to set — without ``DATABASE_URL``
(it never starts an embedded server), without a strong ``SECRET_KEY`` or
``ALLOWED_HOSTS``, or with ``DEBUG`` on. HTTPS behind nginx, secure cookies, HSTS,
the cache in Redis; ``manage.py check --deploy`` passes with these settings.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REDIS_URL, database_config, env_bool, env_list


def _required(name: str, why: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set for the production settings: {why}")
    return value


if env_bool("DEBUG", False):
    raise ImproperlyConfigured(
        "DEBUG must be off with the production settings; use config.settings.development to develop."
    )
DEBUG = False
SECRET_KEY = _required(
    "SECRET_KEY", "50+ random characters (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
)
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak: use 50+ random characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set for the production settings: the portal's host names."
    )
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the portal's hosts, not '*'.")
DATABASES = {
    "default": database_config(
        _required(
            "DATABASE_URL", "postgres://USER:PASSWORD@HOST:5432/NAME (no embedded server in production)."
        )
    )
}

# --- HTTPS behind nginx, secure cookies, security headers --------------------------
# nginx terminates TLS and sets X-Forwarded-Proto (deploy/nginx.conf); gunicorn listens on
# 127.0.0.1 only, so the header cannot come from a client. BEHIND_PROXY=0 turns off trusting
# the proxy's headers (X-Forwarded-Proto, X-Real-IP) for a set-up without one.
BEHIND_PROXY = env_bool("BEHIND_PROXY", True)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True

# Shared by every web process and machine. Sessions stay in PostgreSQL (shared too, and
# they survive a Redis restart) unless SESSION_ENGINE says otherwise, e.g.
# django.contrib.sessions.backends.cached_db to read them from Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("CACHE_URL", REDIS_URL),
        "KEY_PREFIX": "portal",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
SESSION_ENGINE = os.environ.get("SESSION_ENGINE", "django.contrib.sessions.backends.db")
# The worker and beat log through LOGGING (JSON lines), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
