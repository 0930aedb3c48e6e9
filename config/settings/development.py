"""Development: a checkout on a laptop (``manage.py``, ``scripts/dev.py run``).

DEBUG on, a fixed insecure key, local hosts, e-mail to the console, readable logs;
``DATABASE_URL`` or else the embedded PostgreSQL under ``var/pgdata``.
"""

import os

from .base import *  # noqa: F403
from .base import database_from_environment_or_embedded, env_bool, env_list, logging_config

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
DATABASES = database_from_environment_or_embedded()

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
LOGGING = logging_config(
    json_format=os.environ.get("LOG_FORMAT", "text") == "json", level=os.environ.get("LOG_LEVEL", "INFO")
)
