"""The outbox's write side, for every app: build rows, write them in the cause's transaction.

``row(...)`` builds an unsaved row; ``write(rows)`` inserts those that do not exist
yet (``ON CONFLICT DO NOTHING`` on the unique ``(recipient, kind, cause)``) and, when
one is due now, asks a worker to "look now" once the transaction commits. When the
broker is down that request is dropped on purpose: the beat (every minute) or
``manage.py send_due_reminders`` sends the row later. ``requeue`` is the admin's
"send again".
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Outbox

logger = logging.getLogger("core.notifications")

Status = Outbox.Status

DEFAULTS: dict[str, Any] = {
    "CHANNELS": ["core.notifications.channels.InPortalChannel", "core.notifications.channels.EmailChannel"],
    "REMINDER_OFFSETS": {"default": [24 * 60, 2 * 60]},
    "TERM_REMINDER_DAYS": [90, 30],
    "MAX_ATTEMPTS": 8,
    "RETRY_BASE_SECONDS": 60,
    "RETRY_MAX_SECONDS": 6 * 3600,
    "BATCH_SIZE": 500,
    "MAX_FANOUT": 50,
}


def conf(key: str) -> Any:
    """A setting of ``NOTIFICATIONS`` (settings), or its default."""
    return {**DEFAULTS, **getattr(settings, "NOTIFICATIONS", {})}[key]


def skip_text(message: str) -> str:
    """A skip reason as stored on the row: in the site's language (``gettext_noop`` messages)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(message)


def row(
    *,
    recipient_id: int,
    kind: str,
    cause: str,
    due_at: datetime.datetime,
    subject: models.Model | None = None,
    street_id: Any = None,
    topic: str = "",
    confidential: bool = False,
    context: dict | None = None,
) -> Outbox:
    """An unsaved outbox row. ``street_id`` may be a subquery (resolved inside the INSERT)."""
    return Outbox(
        recipient_id=recipient_id,
        kind=kind,
        cause=cause,
        due_at=due_at,
        next_attempt_at=due_at,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=subject.pk if subject is not None else None,
        street_id=street_id,
        topic=topic,
        confidential=confidential,
        context=context or {},
    )


def write(rows: Sequence[Outbox], *, now: datetime.datetime | None = None) -> int:
    """Insert the rows that do not exist yet; ask for a send after commit when one is due."""
    if not rows:
        return 0
    Outbox.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    now = now or timezone.now()
    if any(r.due_at <= now for r in rows):
        kick_after_commit()
    return len(rows)


def kick_after_commit() -> None:
    """Ask a worker to send what is due once the current transaction commits (once per transaction)."""
    pending = getattr(connection, "run_on_commit", [])
    if any(entry[1] is kick for entry in pending):
        return
    transaction.on_commit(kick)


def kick() -> bool:
    """Enqueue a send task now; if the broker is unreachable, leave it to the beat. Never raises."""
    from .tasks import send_due_notifications_task

    try:
        # One try, no waiting: the web request that made the booking must not hang on
        # a dead Redis. The row is safe in the database either way.
        send_due_notifications_task.apply_async(retry=True, retry_policy={"max_retries": 0})
    except Exception:
        logger.warning(
            "notifications: the broker is unreachable; due notifications wait for the next beat run",
            exc_info=True,
        )
        return False
    return True


def requeue(*, rows: QuerySet[Outbox]) -> int:
    """The admin's "send again": failed rows become pending, due now, with a fresh attempt budget."""
    now = timezone.now()
    count = rows.filter(status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, updated_at=now
    )
    if count:
        kick_after_commit()
    return count


def run_scans(*, today: datetime.date | None = None) -> int:
    """Every registered periodic scan (term ends, deadlines), each in its own transaction."""
    from .registry import scans

    written = 0
    for scan in scans().values():
        with transaction.atomic():
            written += scan(today=today)
    return written
