"""Notifications: the outbox's write side, the delivery channels, and the sender.

**Write side.** ``enqueue_booking_made``, ``enqueue_waitlist_promoted``,
``notify_event_cancelled``, ``notify_event_changed`` and
``enqueue_term_reminders`` are called *inside* the transaction of the change
that causes them (services/booking.py, the event admin, the daily term scan).
Each writes outbox rows (``NotificationOutbox``) that commit or roll back with
their cause; the unique key ``(recipient, kind, cause)`` makes writing a row
twice a no-op. After the commit a Celery task is asked to "look now"; when the
broker is down that request is dropped on purpose and the beat (every minute)
or ``manage.py send_due_reminders`` sends the row later.

**Send side.** ``send_due`` takes one due row at a time with ``SELECT ... FOR
UPDATE SKIP LOCKED`` and delivers it inside that row's transaction, so two
workers never hold the same row and a worker that dies mid-send leaves its row
pending (its transaction rolls back). The in-portal channel writes to our own
database in that same transaction: exactly once. E-mail (and any other
external channel added later) is sent just before the commit that records it;
the only way to repeat one is for the process to die in the instant between
the SMTP server accepting the message and the commit, and even then the
repeated message carries the same Message-ID. Each attempt is recorded (time,
attempts, last error); failures retry with exponential backoff and give up
after ``NOTIFICATIONS["MAX_ATTEMPTS"]`` with status "failed", shown in the
admin and on the social worker's dashboard.

A row is re-checked when it is sent: no reminder for a cancelled booking or
event, none once the event has begun, none superseded by a nearer reminder,
none for a term whose end date has since changed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet, Subquery
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from .models import Booking, Event, NotificationOutbox, PortalNotification, Space

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
Kind = NotificationOutbox.Kind
Status = NotificationOutbox.Status

DEFAULTS: dict[str, Any] = {
    "CHANNELS": ["services.notifications.InPortalChannel", "services.notifications.EmailChannel"],
    "REMINDER_OFFSETS": {"default": [24 * 60, 2 * 60]},
    "TERM_REMINDER_DAYS": [90, 30],
    "MAX_ATTEMPTS": 8,
    "RETRY_BASE_SECONDS": 60,
    "RETRY_MAX_SECONDS": 6 * 3600,
    "BATCH_SIZE": 500,
    "MAX_FANOUT": 50,
}

# Changes of an event its bookers must hear about.
EVENT_CHANGE_FIELDS = ("starts_at", "ends_at", "space")


def conf(key: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "NOTIFICATIONS", {})}[key]


def reminder_offsets(event_kind: str) -> list[int]:
    """Minutes before the start at which an event of ``event_kind`` is recalled, largest first."""
    offsets = conf("REMINDER_OFFSETS")
    chosen = offsets.get(event_kind, offsets.get("default", []))
    return sorted({int(m) for m in chosen if int(m) > 0}, reverse=True)


# --- write side -----------------------------------------------------------------------------------


def _event_street(event: Event):
    """The event's street for the outbox row, as a subquery: resolved inside the INSERT itself,
    so writing a notification costs the booking transaction one statement, not two."""
    return Subquery(Event.objects.filter(pk=event.pk).values("space__station__building__street_id")[:1])


def _row(
    *, recipient_id: int, kind: str, cause: str, due_at: datetime.datetime, **fields
) -> NotificationOutbox:
    return NotificationOutbox(
        recipient_id=recipient_id, kind=kind, cause=cause, due_at=due_at, next_attempt_at=due_at, **fields
    )


def _write(rows: Sequence[NotificationOutbox]) -> int:
    """Insert the rows that do not exist yet (``ON CONFLICT DO NOTHING``); ask for a send after commit."""
    if not rows:
        return 0
    NotificationOutbox.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    now = timezone.now()
    if any(row.due_at <= now for row in rows):
        kick_after_commit()
    return len(rows)


def _booking_cause(booking: Booking) -> str:
    return f"booking:{booking.pk}"


def _reminder_rows(booking: Booking, event: Event, street_id, now: datetime.datetime):
    """The reminders of a confirmed booking that still make sense: those not yet due."""
    for minutes in reminder_offsets(event.kind):
        due = event.starts_at - datetime.timedelta(minutes=minutes)
        if due <= now:
            # Booked (or moved) too late for this one: a 24-hour reminder for a booking
            # made 3 hours before the event would only repeat the confirmation.
            continue
        yield _row(
            recipient_id=booking.user_id,
            kind=Kind.EVENT_REMINDER,
            cause=f"booking:{booking.pk}:before:{minutes}m",
            due_at=due,
            street_id=street_id,
            booking=booking,
            event=event,
            context={"offset_minutes": minutes},
        )


def enqueue_booking_made(*, booking: Booking, now: datetime.datetime | None = None) -> int:
    """A booking was made: its confirmation (or waitlist notice) and, when confirmed, its reminders.

    Call inside the transaction that created the booking.
    """
    now = now or timezone.now()
    event = booking.event
    street_id = _event_street(event)
    rows: list[NotificationOutbox] = []
    if booking.status == Booking.Status.CONFIRMED:
        rows.append(
            _row(
                recipient_id=booking.user_id,
                kind=Kind.BOOKING_CONFIRMED,
                cause=_booking_cause(booking),
                due_at=now,
                street_id=street_id,
                booking=booking,
                event=event,
            )
        )
        rows.extend(_reminder_rows(booking, event, street_id, now))
    elif booking.status == Booking.Status.WAITLISTED:
        rows.append(
            _row(
                recipient_id=booking.user_id,
                kind=Kind.WAITLISTED,
                cause=_booking_cause(booking),
                due_at=now,
                street_id=street_id,
                booking=booking,
                event=event,
            )
        )
    return _write(rows)


def enqueue_waitlist_promoted(*, bookings: Iterable[Booking], now: datetime.datetime | None = None) -> int:
    """Waitlisted bookings got a seat: "you have a seat" and their reminders.

    Call inside the transaction that promoted them.
    """
    now = now or timezone.now()
    rows: list[NotificationOutbox] = []
    for booking in bookings:
        event = booking.event
        street_id = _event_street(event)
        rows.append(
            _row(
                recipient_id=booking.user_id,
                kind=Kind.WAITLIST_PROMOTED,
                cause=_booking_cause(booking),
                due_at=now,
                street_id=street_id,
                booking=booking,
                event=event,
            )
        )
        rows.extend(_reminder_rows(booking, event, street_id, now))
    return _write(rows)


def notify_event_cancelled(
    *, event: Event, bookings: Iterable[Booking] | None = None, now: datetime.datetime | None = None
) -> int:
    """The event is cancelled: tell everyone booked or waiting.

    Call inside the cancelling transaction *before* the bookings are cancelled,
    or pass ``bookings`` (the ones active until now).
    """
    now = now or timezone.now()
    if bookings is None:
        bookings = Booking.objects.filter(event_id=event.pk, status__in=Booking.ACTIVE)
    street_id = _event_street(event)
    rows = [
        _row(
            recipient_id=booking.user_id,
            kind=Kind.EVENT_CANCELLED,
            cause=f"event:{event.pk}:cancelled",
            due_at=now,
            street_id=street_id,
            booking=booking,
            event=event,
            context={"booking_status": booking.status},
        )
        for booking in bookings
    ]
    return _write(rows)


def _jsonable(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field == "space":
        return value.pk if isinstance(value, Space) else int(value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()  # one spelling per instant
    return value


def relevant_event_changes(before: Event, after: Event) -> dict[str, tuple[Any, Any]]:
    """The changes between two states of an event that its bookers must hear about."""
    changes = {}
    for field in EVENT_CHANGE_FIELDS:
        attname = "space_id" if field == "space" else field
        old, new = getattr(before, attname), getattr(after, attname)
        if old != new:
            changes[field] = (old, new)
    return changes


def notify_event_changed(
    *, event: Event, changes: dict[str, tuple[Any, Any]], now: datetime.datetime | None = None
) -> int:
    """The event's time or place changed: tell everyone booked or waiting, move the reminders.

    ``changes`` maps a field (``starts_at``, ``ends_at``, ``space``; others are
    ignored) to ``(old, new)``. Call after saving the event, inside the same
    transaction (the admin's ``EventAdmin.save_model``; events are read-only in the API).
    Pending reminders follow the new start; one that no longer makes sense is
    skipped; one that makes sense only now (the event moved later) is added.
    """
    now = now or timezone.now()
    relevant = {
        field: [_jsonable(field, old), _jsonable(field, new)]
        for field, (old, new) in changes.items()
        if field in EVENT_CHANGE_FIELDS and _jsonable(field, old) != _jsonable(field, new)
    }
    if not relevant or event.status == Event.Status.CANCELLED:
        return 0
    # The same change reported twice (a retried save) is one notice; a later change
    # back and forth is another: the event's updated_at tells them apart.
    stamp = json.dumps(relevant, sort_keys=True) + str(getattr(event, "updated_at", ""))
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    street_id = _event_street(event)
    active = list(Booking.objects.filter(event_id=event.pk, status__in=Booking.ACTIVE))
    rows: list[NotificationOutbox] = [
        _row(
            recipient_id=booking.user_id,
            kind=Kind.EVENT_CHANGED,
            cause=f"event:{event.pk}:changed:{digest}",
            due_at=now,
            street_id=street_id,
            booking=booking,
            event=event,
            context={"changes": relevant},
        )
        for booking in active
    ]
    if "starts_at" in relevant:
        reschedule_reminders(event=event, now=now)
        for booking in active:
            if booking.status == Booking.Status.CONFIRMED:
                booking.event = event
                rows.extend(_reminder_rows(booking, event, street_id, now))
    return _write(rows)


def reschedule_reminders(*, event: Event, now: datetime.datetime | None = None) -> int:
    """Move the pending reminders of ``event`` to its current start; skip those now senseless."""
    now = now or timezone.now()
    pending = list(
        NotificationOutbox.objects.select_for_update()
        .filter(event_id=event.pk, kind=Kind.EVENT_REMINDER, status=Status.PENDING)
        .order_by("pk")
    )
    for row in pending:
        due = event.starts_at - datetime.timedelta(minutes=int(row.context.get("offset_minutes", 0)))
        if due <= now:
            row.status = Status.SKIPPED
            row.skip_reason = _skip_text(N_("活动时间变更后，该提醒已无意义。"))
        else:
            row.due_at = row.next_attempt_at = due
    NotificationOutbox.objects.bulk_update(pending, ["status", "skip_reason", "due_at", "next_attempt_at"])
    return len(pending)


def _term_threshold(days_left: int, thresholds: Sequence[int]) -> int | None:
    """The tightest threshold reached: with 20 days left of [90, 30] that is 30, not both."""
    reached = [d for d in thresholds if days_left <= d]
    return min(reached) if reached else None


def enqueue_term_reminders(*, today: datetime.date | None = None) -> int:
    """End-of-term (换届) reminders for party organizations and building committees.

    To the street's social workers, when 90 and 30 days (``TERM_REMINDER_DAYS``)
    are left. Idempotent: run it daily, or twice a day, or after a week of
    downtime; each (term, threshold, social worker) gets one row. Returns the
    number of rows written. Call inside a transaction.
    """
    from committees.models import BuildingCommittee
    from members.models import PartyOrganization, User

    today = today or timezone.localdate(timezone=SHANGHAI)
    thresholds = sorted({int(d) for d in conf("TERM_REMINDER_DAYS")})
    if not thresholds:
        return 0
    horizon = today + datetime.timedelta(days=max(thresholds))
    subjects: list[tuple[str, int, int, datetime.date]] = [
        ("partyorganization", pk, street_id, ends)
        for pk, street_id, ends in PartyOrganization.objects.filter(
            term_ends_on__gte=today, term_ends_on__lte=horizon
        ).values_list("pk", "street_id", "term_ends_on")
    ]
    subjects += [
        ("buildingcommittee", pk, street_id, ends)
        for pk, street_id, ends in BuildingCommittee.objects.filter(
            term_ends_on__gte=today, term_ends_on__lte=horizon
        ).values_list("pk", "building__street_id", "term_ends_on")
    ]
    if not subjects:
        return 0
    workers: dict[int, list[int]] = {}
    for street_id, user_id in User.streets.through.objects.filter(
        # staff only: a street on an account that is no longer staff is a leftover, not a worker
        street_id__in={s[2] for s in subjects},
        user__is_active=True,
        user__is_staff=True,
    ).values_list("street_id", "user_id"):
        workers.setdefault(street_id, []).append(user_id)
    now = timezone.now()
    candidates: list[NotificationOutbox] = []
    for model, pk, street_id, ends in subjects:
        threshold = _term_threshold((ends - today).days, thresholds)
        if threshold is None:
            continue
        for user_id in workers.get(street_id, []):
            candidates.append(
                _row(
                    recipient_id=user_id,
                    kind=Kind.TERM_ENDING,
                    cause=f"{model}:{pk}:term:{ends.isoformat()}:{threshold}d",
                    due_at=now,
                    street_id=street_id,
                    party_organization_id=pk if model == "partyorganization" else None,
                    committee_id=pk if model == "buildingcommittee" else None,
                    context={"term_ends_on": ends.isoformat(), "days_before": threshold},
                )
            )
    if not candidates:
        return 0
    existing = set(
        NotificationOutbox.objects.filter(
            kind=Kind.TERM_ENDING, cause__in={row.cause for row in candidates}
        ).values_list("recipient_id", "cause")
    )
    rows = [row for row in candidates if (row.recipient_id, row.cause) not in existing]
    return _write(rows)


def kick_after_commit() -> None:
    """Ask a worker to send what is due once the current transaction commits (once per transaction)."""
    pending = getattr(connection, "run_on_commit", [])
    if any(entry[1] is kick for entry in pending):
        return
    transaction.on_commit(kick)


def kick() -> bool:
    """Enqueue a send task now; if the broker is unreachable, leave it to the beat. Never raises."""
    from services.tasks import send_due_notifications_task

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


def requeue(*, rows: QuerySet[NotificationOutbox]) -> int:
    """The admin's "send again": failed rows become pending, due now, with a fresh attempt budget."""
    now = timezone.now()
    count = rows.filter(status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, updated_at=now
    )
    if count:
        kick_after_commit()
    return count


# --- messages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One notification rendered for its recipient, in their language."""

    outbox: NotificationOutbox
    recipient: Any
    subject: str
    body: str
    url: str
    language: str


def absolute_url(path: str) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    return f"{base}{path}" if path.startswith("/") else path


def _reverse_or(name: str, args: Sequence[Any], fallback: str) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def _link(row: NotificationOutbox) -> str:
    if row.booking_id:
        return absolute_url(reverse("portal:booking_detail", args=[row.booking_id]))
    if row.party_organization_id:
        return absolute_url(
            _reverse_or("admin:members_partyorganization_change", [row.party_organization_id], "/admin/")
        )
    if row.committee_id:
        return absolute_url(
            _reverse_or("admin:committees_buildingcommittee_change", [row.committee_id], "/admin/")
        )
    return absolute_url("/")


def _place(space: Space | None) -> str:
    if space is None:
        return ""
    station = space.station
    building = station.building
    return f"{building.name}（{building.address}）{station.name} {station.floor}F · {space.name}"


def _changes_for_display(row: NotificationOutbox) -> dict[str, Any]:
    changes = row.context.get("changes", {})
    shown: dict[str, Any] = {}
    for field in ("starts_at", "ends_at"):
        if field in changes:
            old, new = changes[field]
            shown[field] = [datetime.datetime.fromisoformat(v) if v else None for v in (old, new)]
    if "space" in changes:
        ids = [v for v in changes["space"] if v]
        spaces = Space.objects.select_related("station__building").in_bulk(ids)
        shown["place"] = [_place(spaces.get(v)) if v else "" for v in changes["space"]]
    return shown


def _template_context(row: NotificationOutbox, url: str) -> dict[str, Any]:
    ctx: dict[str, Any] = {"row": row, "user": row.recipient, "url": url}
    if row.event_id:
        event = row.event
        ctx.update(event=event, place=_place(event.space), booking=row.booking)
    if row.kind == Kind.WAITLISTED and row.booking_id:
        from .booking import waitlist_position

        ctx["position"] = waitlist_position(row.booking)
    if row.kind == Kind.EVENT_REMINDER:
        minutes = int(row.context.get("offset_minutes", 0))
        ctx.update(hours=minutes // 60 if minutes % 60 == 0 else None, minutes=minutes)
    if row.kind == Kind.EVENT_CHANGED:
        ctx["changes"] = _changes_for_display(row)
    if row.kind == Kind.TERM_ENDING:
        subject = row.party_organization or row.committee
        ctx.update(
            subject=subject,
            is_committee=row.committee_id is not None,
            term_ends_on=datetime.date.fromisoformat(row.context["term_ends_on"]),
            days_before=row.context.get("days_before"),
        )
    return ctx


def render_message(row: NotificationOutbox) -> Message:
    """Subject and text in the recipient's language, times in Asia/Shanghai.

    Templates: ``notifications/<language>/<kind>.txt``, the first line being
    the subject; Chinese when the language has none.
    """
    user = row.recipient
    language = user.language or settings.LANGUAGE_CODE
    url = _link(row)
    with translation.override(language), timezone.override(SHANGHAI):
        text = render_to_string(
            [f"notifications/{language}/{row.kind}.txt", f"notifications/zh-hans/{row.kind}.txt"],
            _template_context(row, url),
        )
    subject, _sep, body = text.strip().partition("\n")
    return Message(
        outbox=row,
        recipient=user,
        subject=" ".join(subject.split())[:200],
        body=body.strip() + "\n",
        url=url,
        language=language,
    )


# --- channels -----------------------------------------------------------------------------------


class Channel:
    """A way to reach a person. Add one (SMS, WeChat) by subclassing and listing it in
    ``NOTIFICATIONS["CHANNELS"]``.

    ``send`` raises on failure; the sender records the error and retries later,
    sending again only through the channels that have not delivered yet.
    """

    #: Stored in ``NotificationOutbox.delivered_channels``; never rename a live one.
    name: ClassVar[str]
    label: ClassVar[str]
    #: True when ``send`` only writes to the portal's database, so the delivery commits or
    #: rolls back together with the outbox row: exactly once, whatever happens to the process.
    #: A database error in such a channel rolls the whole row back; it is retried later.
    transactional: ClassVar[bool] = False

    def wants(self, user) -> bool:
        """Whether ``user`` chose (and can be reached through) this channel."""
        raise NotImplementedError

    def send(self, message: Message) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections at the end of a batch."""


class InPortalChannel(Channel):
    """The bell in the portal: a PortalNotification row (one per outbox row, by a unique key)."""

    name = "portal"
    label = "站内通知"
    transactional = True

    def wants(self, user) -> bool:
        return bool(user.notify_in_portal)

    def send(self, message: Message) -> None:
        # ON CONFLICT DO NOTHING: already in the bell (the unique outbox key) is delivered.
        with connection.cursor() as cursor:
            cursor.execute(
                _sql("portal_insert"),
                [
                    message.outbox.pk,
                    message.recipient.pk,
                    message.subject,
                    message.body,
                    message.url,
                    timezone.now(),
                ],
            )


class EmailChannel(Channel):
    """E-mail through Django's backend (SMTP in production; console or file in development).

    One connection per batch. Each message has a Message-ID derived from its
    outbox row, so the rare repeat after a crash is recognisably the same mail.
    """

    name = "email"
    label = "邮件"

    def __init__(self) -> None:
        self._connection = None

    def wants(self, user) -> bool:
        return bool(user.notify_by_email and user.email)

    def send(self, message: Message) -> None:
        if self._connection is None:
            self._connection = get_connection(fail_silently=False)
            # Opened here, it stays open for the whole batch (send_messages would close
            # a connection it opened itself after every message).
            self._connection.open()
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient.email],
            connection=self._connection,
            headers={
                "Message-ID": f"<notification-{message.outbox.pk}@{domain}>",
                "Auto-Submitted": "auto-generated",
                "Content-Language": message.language,
            },
        )
        try:
            email.send(fail_silently=False)
        except Exception:
            # A broken SMTP connection must not poison the rest of the batch.
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # closing a dead connection
                logger.debug("notifications: error closing the e-mail connection", exc_info=True)
            self._connection = None


def load_channels() -> list[Channel]:
    return [import_string(path)() for path in conf("CHANNELS")]


# --- send side ----------------------------------------------------------------------------------


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
    What the messages need (recipient, booking, event, place) is read a page of
    rows at a time, so the per-row statements stay small.
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
    return NotificationOutbox.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=now or timezone.now()
    ).count()


# The statements every notification runs (take, in-portal copy, outcome), written out
# once: the ORM would rebuild them for each of thousands of rows.
_STATEMENTS: dict[str, str] = {}


def _sql(name: str) -> str:
    if not _STATEMENTS:
        q = connection.ops.quote_name
        outbox, portal = q(NotificationOutbox._meta.db_table), q(PortalNotification._meta.db_table)
        _STATEMENTS.update(
            take=(
                f"SELECT id, next_attempt_at, attempts, delivered_channels FROM {outbox} "
                "WHERE status = 'pending' AND next_attempt_at <= %s "
                "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            ),
            portal_insert=(
                f"INSERT INTO {portal} (outbox_id, recipient_id, title, body, url, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (outbox_id) DO NOTHING"
            ),
            save_attempt=(
                f"UPDATE {outbox} SET status = %s, attempts = %s, last_error = %s, "
                "delivered_channels = %s::jsonb, next_attempt_at = %s, sent_at = %s, sent_by = %s, "
                "updated_at = %s WHERE id = %s"
            ),
        )
    return _STATEMENTS[name]


class _Pages:
    """Due rows read ahead with their related objects (no locks), keyed by id."""

    SIZE = 50
    # Older than this, a read-ahead row's booking and event are read again: a booking
    # cancelled a minute ago must not get its reminder.
    MAX_AGE = 5.0

    def __init__(self) -> None:
        self.rows: dict[int, NotificationOutbox] = {}
        self.read_at = 0.0

    def get(self, pk: int, next_attempt_at: datetime.datetime, now: datetime.datetime) -> NotificationOutbox:
        fresh = time.monotonic() - self.read_at < self.MAX_AGE
        row = self.rows.pop(pk, None) if fresh else None
        if row is None:
            # Read on from the row just taken; rows other workers take meanwhile are skipped
            # by the take itself, so a stale entry here is only ever dropped.
            page = list(
                NotificationOutbox.objects
                # What a booking's message needs; the rare term reminders load their subject lazily.
                .select_related("recipient", "booking", "event__space__station__building")
                .filter(status=Status.PENDING, next_attempt_at__lte=now)
                .filter(
                    Q(next_attempt_at__gt=next_attempt_at) | Q(next_attempt_at=next_attempt_at, pk__gte=pk)
                )
                .order_by("next_attempt_at", "id")[: self.SIZE]
            )
            self.rows = {r.pk: r for r in page}
            self.read_at = time.monotonic()
            row = self.rows.pop(pk, None)
            if row is None:  # cannot happen while we hold its lock; be safe
                row = NotificationOutbox.objects.select_related("recipient", "booking", "event").get(pk=pk)
        return row


def _process_next(pages: _Pages, channels: Sequence[Channel], worker_id: str, stats, now) -> bool:
    # One row, one transaction: the row lock is held while it is delivered, so no other
    # worker can take it, and a crash rolls the row (and its in-portal copy) back to pending.
    taken: list[int] = []
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_sql("take"), [now])
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
        row = (
            NotificationOutbox.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=Status.PENDING)
            .first()
        )
        if row is None:
            return
        row.attempts += 1
        _record_failure(row, [f"{type(exc).__name__}: {exc}"], now, stats)
        row.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "updated_at"])


def _skip_text(text: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(text)


def _reschedule_if_early(row: NotificationOutbox, now: datetime.datetime) -> bool:
    """A reminder whose event moved later without notify_event_changed: wait for the new time."""
    due = row.event.starts_at - datetime.timedelta(minutes=int(row.context.get("offset_minutes", 0)))
    if due > now:
        row.due_at = row.next_attempt_at = due
        row.save(update_fields=["due_at", "next_attempt_at", "updated_at"])
        return True
    return False


def skip_reason(row: NotificationOutbox, now: datetime.datetime) -> str:
    """Why ``row`` makes no sense any more ("" if it should go)."""
    kind = row.kind
    event, booking = row.event, row.booking
    if not row.recipient.is_active:
        return _skip_text(N_("接收人账号已停用。"))
    if kind == Kind.TERM_ENDING:
        subject = row.party_organization or row.committee
        if subject is None or subject.term_ends_on is None:
            return _skip_text(N_("换届对象已不存在或未设换届日期。"))
        if subject.term_ends_on.isoformat() != row.context.get("term_ends_on"):
            return _skip_text(N_("换届日期已变更。"))
        if subject.term_ends_on < timezone.localdate(now, timezone=SHANGHAI):
            return _skip_text(N_("换届日期已过。"))
        if not row.recipient.streets.filter(pk=row.street_id).exists():
            return _skip_text(N_("接收人已不负责该街道。"))
        return ""
    if kind == Kind.EVENT_CANCELLED:
        return ""
    if event is None or booking is None:
        return _skip_text(N_("关联的活动或预约已不存在。"))
    if event.status == Event.Status.CANCELLED:
        return _skip_text(N_("活动已取消。"))
    if now >= event.ends_at:
        return _skip_text(N_("活动已结束。"))
    if kind == Kind.WAITLISTED and booking.status != Booking.Status.WAITLISTED:
        return _skip_text(N_("已不在候补中。"))
    if kind in (Kind.BOOKING_CONFIRMED, Kind.WAITLIST_PROMOTED) and booking.status not in (
        Booking.Status.CONFIRMED,
        Booking.Status.ATTENDED,
    ):
        return _skip_text(N_("预约已取消。"))
    if kind == Kind.EVENT_CHANGED and booking.status not in Booking.ACTIVE:
        return _skip_text(N_("预约已取消。"))
    if kind == Kind.EVENT_REMINDER:
        if booking.status != Booking.Status.CONFIRMED:
            return _skip_text(N_("预约已取消或已签到。"))
        if now >= event.starts_at:
            return _skip_text(N_("活动已开始。"))
        offset = int(row.context.get("offset_minutes", 0))
        nearer = [
            m
            for m in reminder_offsets(event.kind)
            if m < offset and now >= event.starts_at - datetime.timedelta(minutes=m)
        ]
        if nearer:
            return _skip_text(N_("已由更临近的提醒取代。"))
    return ""


def _retry_delay(attempts: int) -> datetime.timedelta:
    seconds = conf("RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, conf("RETRY_MAX_SECONDS")))


def _record_failure(row: NotificationOutbox, errors: list[str], now, stats: SendStats) -> None:
    """Retry later with exponential backoff, or give up visibly after MAX_ATTEMPTS."""
    row.last_error = "\n".join(errors)[:2000]
    if row.attempts >= conf("MAX_ATTEMPTS"):
        row.status = Status.FAILED
        stats.failed += 1
        logger.error("notifications: giving up on outbox row %s after %s attempts", row.pk, row.attempts)
    else:
        row.next_attempt_at = now + _retry_delay(row.attempts)
        stats.retrying += 1


def _deliver(
    row: NotificationOutbox, channels: Sequence[Channel], worker_id: str, stats: SendStats, now
) -> None:
    if row.kind == Kind.EVENT_REMINDER and row.event_id and _reschedule_if_early(row, now):
        stats.rescheduled += 1
        return
    reason = skip_reason(row, now)
    wanted = [channel for channel in channels if channel.wants(row.recipient)]
    if not reason and not wanted:
        reason = _skip_text(N_("接收人关闭了所有提醒方式。"))
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


def _save_attempt(row: NotificationOutbox) -> None:
    """Record an attempt's outcome: one prepared-once statement, as it runs for every notification."""
    with connection.cursor() as cursor:
        cursor.execute(
            _sql("save_attempt"),
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


# --- reads --------------------------------------------------------------------------------------


def failed_notifications(*, user) -> QuerySet[NotificationOutbox]:
    """Failed sends in ``user``'s territory, newest first (the social worker's dashboard)."""
    from core.scoping import scope_queryset

    qs = scope_queryset(
        NotificationOutbox.objects.filter(status=Status.FAILED).select_related("recipient", "event"),
        user,
    )
    if not user.has_perm("services.view_confidential"):
        # Who booked a counselling slot is confidential, failures included.
        qs = qs.exclude(event__kind=Event.Kind.COUNSELLING)
    return qs.order_by("-updated_at", "-id")
