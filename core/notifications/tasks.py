"""Celery tasks of the notifications: thin wrappers over the sender and the registered scans.

The outbox in the database is the record of what must be sent; these tasks only say
"look now". Each is safe to run twice or concurrently: rows are claimed with
SELECT ... FOR UPDATE SKIP LOCKED and their unique keys forbid duplicates.
"""

from __future__ import annotations

import math
import os
import socket

from celery import shared_task
from django.db.utils import InterfaceError, OperationalError

DB_ERRORS = (OperationalError, InterfaceError)


def _worker_id(task) -> str:
    return f"{task.request.hostname or socket.gethostname()}:{os.getpid()}"


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=DB_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def send_due_notifications_task(self, limit: int | None = None) -> int:
    """Send up to ``limit`` (default NOTIFICATIONS["BATCH_SIZE"]) due notifications; returns how many."""
    from .outbox import conf
    from .sender import send_due

    return send_due(limit=limit or conf("BATCH_SIZE"), worker_id=_worker_id(self))


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=DB_ERRORS,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def dispatch_due_notifications_task(self) -> int:
    """Beat, every minute: one send task per batch of due rows, so every worker can help.

    Returns the number of due rows seen.
    """
    from .outbox import conf
    from .sender import due_count

    due = due_count()
    for _ in range(min(math.ceil(due / conf("BATCH_SIZE")), conf("MAX_FANOUT"))):
        send_due_notifications_task.delay()
    return due


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=DB_ERRORS,
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def run_scans_task(self) -> int:
    """Daily: every registered scan (end-of-term reminders, ...); returns the rows written."""
    from .outbox import run_scans

    return run_scans()
