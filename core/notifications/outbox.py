"""The outbox's write side, for every app: build rows, write them in the cause's transaction.

``row(...)`` builds an unsaved row; ``write(rows)`` inserts those that do not exist
yet (``ON CONFLICT DO NOTHING`` on the unique ``(recipient, kind, cause)``) and, when
one is due now, asks a worker to "look now" once the transaction commits. When the
broker is down that request is dropped on purpose: the beat (every minute) or
``manage.py send_due_reminders`` sends the row later. ``prepare(rows)`` compiles that
insert ahead of time, for a caller that runs it while holding a lock. ``requeue`` is the
admin's "send again".
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
    """Insert the rows that do not exist yet; ask for a send after commit when one is due.

    Returns how many rows were offered, not how many were new: ``bulk_create`` with
    ``ignore_conflicts`` does not say which rows it skipped, so two scans that overlap each
    report their whole batch although every notice is written (and sent) once."""
    if not rows:
        return 0
    Outbox.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    now = now or timezone.now()
    if any(r.due_at <= now for r in rows):
        kick_after_commit()
    return len(rows)


class PreparedWrite:
    """Rows turned into SQL ahead of time: ``write(rows)``'s insert, ready to run.

    For a caller that must spend as little time as possible between taking a lock and
    committing (the booking engine writes a booking's notices while it holds the event's
    row lock): every piece of ORM work — the rows' defaults and automatic times, their
    content type, each value as the database takes it — is done when the object is made.
    ``execute()`` is then one statement; ``insert_sql(where=...)`` is the same insert as
    SQL text and parameters that a caller can put into its own statement (a data-modifying
    ``WITH`` part, run only when ``where`` holds). Either way the rows are those
    ``write(rows)`` inserts, ``ON CONFLICT DO NOTHING`` alike. Values must be plain values
    (no expressions such as a subquery for ``street_id``).
    """

    def __init__(self, rows: Sequence[Outbox], *, now: datetime.datetime | None = None):
        self.rows = list(rows)
        now = now or timezone.now()
        self.due_now = any(r.due_at <= now for r in self.rows)
        opts = Outbox._meta
        self.fields = [f for f in opts.concrete_fields if f is not opts.pk and not f.generated]
        self.values: list[list[Any]] = []
        for obj in self.rows:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
            line = []
            for f in self.fields:
                value = f.pre_save(obj, add=True)
                if hasattr(value, "resolve_expression"):
                    raise TypeError(f"PreparedWrite takes plain values, not an expression for {f.name}")
                line.append(f.get_db_prep_save(value, connection))
            self.values.append(line)

    def insert_sql(
        self, *, where: str | None = None, prefix: str = "outbox", returning: str = ""
    ) -> tuple[str, dict[str, Any]]:
        """``INSERT INTO notifications_outbox ... ON CONFLICT DO NOTHING`` with named parameters
        (``%(<prefix>_<n>)s``); with ``where``, an SQL condition, the rows are inserted only
        when it holds; ``returning``: a RETURNING list (for a WITH part the statement reads)."""
        table = connection.ops.quote_name(Outbox._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        types = [f.db_type(connection) for f in self.fields]
        params: dict[str, Any] = {}
        lines = []
        for line in self.values:
            cells = []
            for value, db_type in zip(line, types, strict=True):
                name = f"{prefix}_{len(params)}"
                params[name] = value
                cells.append(f"%({name})s::{db_type}")
            lines.append(f"({', '.join(cells)})")
        rows = ", ".join(lines)
        tail = f" RETURNING {returning}" if returning else ""
        if where is None:
            return f"INSERT INTO {table} ({columns}) VALUES {rows} ON CONFLICT DO NOTHING{tail}", params
        return (
            f"INSERT INTO {table} ({columns}) SELECT * FROM (VALUES {rows}) AS v WHERE {where} "
            f"ON CONFLICT DO NOTHING{tail}",
            params,
        )

    def execute(self) -> int:
        """Insert the rows (inside the cause's transaction); ask for a send after commit when one is due."""
        if not self.rows:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(*self.insert_sql())
        if self.due_now:
            kick_after_commit()
        return len(self.rows)


def prepare(rows: Sequence[Outbox], *, now: datetime.datetime | None = None) -> PreparedWrite:
    """``write(rows)`` compiled now and run later by ``.execute()`` (see ``PreparedWrite``)."""
    return PreparedWrite(rows, now=now)


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
