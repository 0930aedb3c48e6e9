"""Celery tasks of the services app: thin wrappers over the write side."""

from celery import shared_task


@shared_task(bind=True, acks_late=True, max_retries=3, retry_backoff=True, autoretry_for=(Exception,))
def mark_no_shows_task(self) -> int:
    """Periodic: confirmed bookings of ended events become no-shows (idempotent)."""
    from services.booking import mark_no_shows

    return mark_no_shows()
