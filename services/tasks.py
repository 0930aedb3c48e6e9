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
