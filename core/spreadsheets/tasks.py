"""Celery tasks of the imports: thin wrappers over ``core.spreadsheets.jobs``.

A large file (more than ``SPREADSHEET_SYNC_ROWS`` rows) is previewed and applied here,
with its progress written to the job for the admin page to show. Both tasks are safe to
run twice: each acts only on a job in the state it expects, and an apply either commits
the whole import together with the job's final state or nothing at all.
"""

from __future__ import annotations

from celery import shared_task
from django.db.utils import InterfaceError, OperationalError

DB_ERRORS = (OperationalError, InterfaceError)
#: 10,000 rows take minutes, not the default five-minute limit (config/settings/base.py)
TIME_LIMIT = 3600


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=DB_ERRORS,
    retry_backoff=True,
    max_retries=3,
    time_limit=TIME_LIMIT,
    soft_time_limit=TIME_LIMIT - 60,
)
def preview_import_task(self, job_id: int) -> str:
    from .jobs import preview_import

    return preview_import(job_id=job_id, track_progress=True).status


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=DB_ERRORS,
    retry_backoff=True,
    max_retries=3,
    time_limit=TIME_LIMIT,
    soft_time_limit=TIME_LIMIT - 60,
)
def apply_import_task(self, job_id: int) -> str:
    from .jobs import apply_import

    return apply_import(job_id=job_id, track_progress=True).status
