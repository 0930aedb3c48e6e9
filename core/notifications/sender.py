"""The sender: takes one due row at a time, delivers it, records the attempt.

``send_due`` takes one due row at a time with ``SELECT ... FOR UPDATE SKIP LOCKED``
and delivers it inside that row's transaction, so two workers never hold the same
row and a worker that dies mid-send leaves its row pending (its transaction rolls
back). The in-portal channel writes to our own database in that same transaction:
exactly once. E-mail (and any other external channel) is sent just before the commit
that records it; the only way to repeat one is for the process to die in the instant
between the SMTP server accepting the message and the commit, and even then the
repeated message carries the same Message-ID. Each attempt is recorded (time,
attempts, last error); failures retry with exponential backoff and give up after
``NOTIFICATIONS["MAX_ATTEMPTS"]`` with status "failed", shown in the admin and on the
social worker's dashboard.

A row is re-checked when it is sent (its kind's ``skip_reason``): no reminder for a
cancelled booking or event, none once the event has begun, none superseded by a
nearer reminder, none for a term whose end date has since changed.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from . import registry
from .channels import Channel, load_channels
from .messages import render_message
from .models import Outbox
from .outbox import conf, skip_text
from .statements import sql

logger = logging.getLogger("core.notifications")

Status = Outbox.Status


@dataclass
class SendStats:
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    rescheduled: int = 0

    @property
    def processed(self) -> int:
        return self.sent + self.skipped + self.retrying + self.failed + self.rescheduled

    def __str__(self) -> str:
        return (
            f"sent={self.sent} skipped={self.skipped} retrying={self.retrying} "
            f"failed={self.failed} rescheduled={self.rescheduled}"
        )


def default_worker_id(prefix: str = "") -> str:
    return f"{prefix}{socket.gethostname()}:{os.getpid()}"


def send_due(*, limit: int | None = None, worker_id: str = "", now: datetime.datetime | None = None) -> int:
    """Send what is due and unsent, up to ``limit`` rows; returns how many were sent.

    Safe to run in any number of processes at once and any number of times.
    """
    return process_due(limit=limit, worker_id=worker_id, now=now).sent


def process_due(
    *, limit: int | None = None, worker_id: str = "", now: datetime.datetime | None = None
) -> SendStats:
    """``send_due`` with the full tally (sent, skipped, retrying, failed, rescheduled).

    Each row is taken, delivered and committed in its own transaction, taken with
    ``SELECT ... FOR UPDATE SKIP LOCKED``: the earliest due row nobody else holds.
    What the messages need (recipient, subject) is read a page of rows at a time
    (each kind loads its subjects), so the per-row statements stay small.
    """
    worker_id = worker_id or default_worker_id()
    channels = load_channels()
    stats = SendStats()
    pages = _Pages()
    try:
        while limit is None or stats.processed < limit:
            if not _process_next(pages, channels, worker_id, stats, now or timezone.now()):
                break
    finally:
        for channel in channels:
            channel.close()
    return stats


def due_count(*, now: datetime.datetime | None = None) -> int:
    return Outbox.objects.filter(status=Status.PENDING, next_attempt_at__lte=now or timezone.now()).count()


class _Pages:
    """Due rows read ahead with their related objects (no locks), keyed by id."""

    SIZE = 50
    # Older than this, a read-ahead row's subject is read again: a booking cancelled a
    # minute ago must not get its reminder.
    MAX_AGE = 5.0

    def __init__(self) -> None:
        self.rows: dict[int, Outbox] = {}
        self.read_at = 0.0

    def get(self, pk: int, next_attempt_at: datetime.datetime, now: datetime.datetime) -> Outbox:
        fresh = time.monotonic() - self.read_at < self.MAX_AGE
        row = self.rows.pop(pk, None) if fresh else None
        if row is None:
            # Read on from the row just taken; rows other workers take meanwhile are skipped
            # by the take itself, so a stale entry here is only ever dropped.
            page = list(
                Outbox.objects.select_related("recipient")
                .filter(status=Status.PENDING, next_attempt_at__lte=now)
                .filter(
                    Q(next_attempt_at__gt=next_attempt_at) | Q(next_attempt_at=next_attempt_at, pk__gte=pk)
                )
                .order_by("next_attempt_at", "id")[: self.SIZE]
            )
            load_subjects(page)
            self.rows = {r.pk: r for r in page}
            self.read_at = time.monotonic()
            row = self.rows.pop(pk, None)
            if row is None:  # cannot happen while we hold its lock; be safe
                row = Outbox.objects.select_related("recipient").get(pk=pk)
                load_subjects([row])
        return row


def load_subjects(rows: list[Outbox]) -> None:
    """Each kind loads what its messages need (a booking with its event and place), per page."""
    by_kind: dict[str, list[Outbox]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    for kind, group in by_kind.items():
        registry.get(kind).load_subjects(group)


def _process_next(pages: _Pages, channels: Sequence[Channel], worker_id: str, stats, now) -> bool:
    # One row, one transaction: the row lock is held while it is delivered, so no other
    # worker can take it, and a crash rolls the row (and its in-portal copy) back to pending.
    taken: list[int] = []
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql("take"), [now])
                found = cursor.fetchone()
            if found is None:
                return False
            pk, next_attempt_at, attempts, delivered = found
            taken.append(pk)
            row = pages.get(pk, next_attempt_at, now)
            # The row's own state as locked, not as read ahead.
            row.attempts, row.next_attempt_at = attempts, next_attempt_at
            row.delivered_channels = json.loads(delivered) if isinstance(delivered, str) else delivered
            _deliver(row, channels, worker_id, stats, now)
    except DatabaseError:
        raise  # the database itself is in trouble: the task retries later
    except Exception as exc:
        if not taken:
            raise
        # A row that breaks the code must not block the queue: it backs off like a failed send.
        logger.exception("notifications: outbox row %s could not be processed", taken[0])
        _record_crash(taken[0], exc, now, stats)
    return True


def _record_crash(pk: int, exc: Exception, now, stats: SendStats) -> None:
    with transaction.atomic():
        row = Outbox.objects.select_for_update(skip_locked=True).filter(pk=pk, status=Status.PENDING).first()
        if row is None:
            return
        row.attempts += 1
        _record_failure(row, [f"{type(exc).__name__}: {exc}"], now, stats)
        row.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "updated_at"])


def skip_reason(row: Outbox, now: datetime.datetime) -> str:
    """Why ``row`` makes no sense any more ("" if it should go): the recipient, then its kind."""
    if not row.recipient.is_active:
        return skip_text(N_("接收人账号已停用。"))
    return registry.get(row.kind).skip_reason(row, now)


def _retry_delay(attempts: int) -> datetime.timedelta:
    seconds = conf("RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, conf("RETRY_MAX_SECONDS")))


def _record_failure(row: Outbox, errors: list[str], now, stats: SendStats) -> None:
    """Retry later with exponential backoff, or give up visibly after MAX_ATTEMPTS."""
    row.last_error = "\n".join(errors)[:2000]
    if row.attempts >= conf("MAX_ATTEMPTS"):
        row.status = Status.FAILED
        stats.failed += 1
        logger.error("notifications: giving up on outbox row %s after %s attempts", row.pk, row.attempts)
    else:
        row.next_attempt_at = now + _retry_delay(row.attempts)
        stats.retrying += 1


def _deliver(row: Outbox, channels: Sequence[Channel], worker_id: str, stats: SendStats, now) -> None:
    due = registry.get(row.kind).due_again_at(row, now)
    if due is not None and due > now:
        # Early after all (its cause moved later without telling the outbox): wait.
        row.due_at = row.next_attempt_at = due
        row.save(update_fields=["due_at", "next_attempt_at", "updated_at"])
        stats.rescheduled += 1
        return
    reason = skip_reason(row, now)
    wanted = [channel for channel in channels if channel.wants(row.recipient)]
    if not reason and not wanted:
        reason = skip_text(N_("接收人关闭了所有提醒方式。"))
    if reason:
        row.status, row.skip_reason = Status.SKIPPED, reason[:200]
        row.save(update_fields=["status", "skip_reason", "updated_at"])
        stats.skipped += 1
        return

    row.attempts += 1
    errors: list[str] = []
    try:
        message = render_message(row)
    except Exception as exc:  # a broken template must not stop the batch
        logger.exception("notifications: cannot render outbox row %s", row.pk)
        errors.append(f"render: {exc!r}")
    else:
        # Our own database first (rolls back with the row), external channels last.
        for channel in sorted(wanted, key=lambda c: not c.transactional):
            if channel.name in row.delivered_channels:
                continue
            try:
                channel.send(message)
            except Exception as exc:
                logger.warning("notifications: %s failed for outbox row %s: %r", channel.name, row.pk, exc)
                errors.append(f"{channel.name}: {exc!r}")
            else:
                row.delivered_channels = [*row.delivered_channels, channel.name]

    if errors:
        _record_failure(row, errors, now, stats)
    else:
        row.status = Status.SENT
        row.sent_at = timezone.now()
        row.sent_by = worker_id[:150]
        stats.sent += 1
    _save_attempt(row)


def _save_attempt(row: Outbox) -> None:
    """Record an attempt's outcome: one prepared-once statement, as it runs for every notification."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql("save_attempt"),
            [
                row.status,
                row.attempts,
                row.last_error,
                json.dumps(row.delivered_channels),
                row.next_attempt_at,
                row.sent_at,
                row.sent_by,
                timezone.now(),
                row.pk,
            ],
        )
