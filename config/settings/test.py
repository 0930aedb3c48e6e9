"""Tests: chosen by pytest's configuration (``DJANGO_SETTINGS_MODULE`` in ``pyproject.toml``).

Production-like (DEBUG off, the same middleware and security headers), with what
makes a test run fast and self-contained: ``DATABASE_URL`` or else the embedded
PostgreSQL, a fast password hash, e-mail in memory, static files from the source
folders (no collectstatic), and the login lockout off (``Client.login`` has no request;
tests/test_lockout.py turns it back on).
"""

import os

from .base import *  # noqa: F403
from .base import database_from_environment_or_embedded, env_list

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY") or "test-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
DATABASES = database_from_environment_or_embedded()

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Demand attachments written by tests go to a temporary directory, not var/.
import tempfile as _tempfile  # noqa: E402

PRIVATE_MEDIA_ROOT = Path(_tempfile.mkdtemp(prefix="portal-private-"))  # noqa: F405
