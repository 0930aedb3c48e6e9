"""E-mail backends for the notification tests: one file per message, failing, or slow.

Used in-process (override_settings) and by the real Celery workers the tests
start (EMAIL_BACKEND in their environment), so a test can count exactly how
many times each message left the portal, across processes.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


def _outbox_dir() -> Path:
    path = Path(os.environ.get("NOTIFICATION_TEST_MAIL_DIR") or settings.EMAIL_FILE_PATH)
    path.mkdir(parents=True, exist_ok=True)
    return path


def message_key(message) -> str:
    """notification-42@localhost → notification-42"""
    return re.sub(r"[^A-Za-z0-9_-]", "", message.extra_headers.get("Message-ID", "").split("@")[0])


class OneFilePerMessageBackend(BaseEmailBackend):
    """Writes each message to ``<dir>/<message-id>.<random>.eml``: duplicates show as two files."""

    def send_messages(self, email_messages):
        directory = _outbox_dir()
        for message in email_messages:
            name = f"{message_key(message)}.{uuid.uuid4().hex}.eml"
            tmp = directory / f".{name}.tmp"
            tmp.write_bytes(message.message().as_bytes())
            tmp.rename(directory / name)  # atomic: a reader never sees half a message
        return len(email_messages)


class SlowBackend(OneFilePerMessageBackend):
    """Like a slow SMTP server: announces each message (``<id>.inflight``), waits, then delivers.

    A test that kills the worker while an ``.inflight`` marker has no message
    file yet kills it in the middle of a send, before the server accepted it.
    """

    def send_messages(self, email_messages):
        delay = float(os.environ.get("NOTIFICATION_TEST_MAIL_DELAY", "0.3"))
        for message in email_messages:
            (_outbox_dir() / f"{message_key(message)}.{uuid.uuid4().hex}.inflight").touch()
            time.sleep(delay)
            super().send_messages([message])
        return len(email_messages)


class FailingBackend(BaseEmailBackend):
    """An SMTP server that refuses everything."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server refused the connection (test)")


def delivered(directory: Path) -> dict[str, int]:
    """How many times each message key was delivered."""
    counts: dict[str, int] = {}
    for path in Path(directory).glob("*.eml"):
        key = path.name.split(".")[0]
        counts[key] = counts.get(key, 0) + 1
    return counts
