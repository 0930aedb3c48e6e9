"""Celery tasks of the services app: thin wrappers over the write side."""

from celery import shared_task
from django.db.utils import InterfaceError, OperationalError


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def mark_no_shows_task(self) -> int:
    """Periodic: confirmed bookings of ended events become no-shows (idempotent, so retries are safe)."""
    from services.booking import mark_no_shows

    return mark_no_shows()


# --- notifications (services/notifications.py) --------------------------------------------------
# The outbox in the database is the record of what must be sent; these tasks only say
# "look now". Each is safe to run twice or concurrently: rows are claimed with
# SELECT ... FOR UPDATE SKIP LOCKED and their unique keys forbid duplicates.


def _db_errors() -> tuple[type[BaseException], ...]:
    from django.db.utils import InterfaceError, OperationalError

    return (OperationalError, InterfaceError)


def _worker_id(task) -> str:
    import os
    import socket

    return f"{task.request.hostname or socket.gethostname()}:{os.getpid()}"


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=_db_errors(),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def send_due_notifications_task(self, limit: int | None = None) -> int:
    """Send up to ``limit`` (default NOTIFICATIONS["BATCH_SIZE"]) due notifications; returns how many."""
    from services.notifications import conf, send_due

    return send_due(limit=limit or conf("BATCH_SIZE"), worker_id=_worker_id(self))


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=_db_errors(),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def dispatch_due_notifications_task(self) -> int:
    """Beat, every minute: one send task per batch of due rows, so every worker can help.

    Returns the number of due rows seen.
    """
    import math

    from services.notifications import conf, due_count

    due = due_count()
    for _ in range(min(math.ceil(due / conf("BATCH_SIZE")), conf("MAX_FANOUT"))):
        send_due_notifications_task.delay()
    return due


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=_db_errors(),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def scan_term_endings_task(self) -> int:
    """Daily: end-of-term (换届) reminders for organizations and committees; returns rows written."""
    from django.db import transaction

    from services.notifications import enqueue_term_reminders

    with transaction.atomic():
        return enqueue_term_reminders()
