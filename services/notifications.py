"""The booking engine's notifications: confirmations, waitlist notices, reminders, changed and
cancelled events — written to the shared outbox (``core.notifications``) and rendered here.

**Write side.** ``enqueue_booking_made``, ``enqueue_waitlist_promoted``,
``notify_event_cancelled`` and ``notify_event_changed`` are called *inside* the
transaction of the change that causes them (services/booking.py,
services/events.py). Each writes outbox rows that commit or roll back with their
cause; the unique key ``(recipient, kind, cause)`` makes writing a row twice a no-op.
Every row is about a booking (its ``subject``), grouped by its event
(``topic = "event:<id>"``), and confidential when the event is counselling.

**Kinds.** Each kind below says how its rows are loaded (a page of bookings with
their event and place at once), rendered, linked, and re-checked when they are sent:
no reminder for a cancelled booking or event, none once the event has begun, none
superseded by a nearer reminder; a reminder whose event moved later waits for the
new time. They are registered in ``ServicesConfig.ready()``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from core.notifications import outbox, registry
from core.notifications.models import Outbox
from core.notifications.outbox import conf, skip_text

from .calendar import booking_ics, space_location
from .models import Booking, Event, Space

Status = Outbox.Status

# Changes of an event its bookers must hear about.
EVENT_CHANGE_FIELDS = ("starts_at", "ends_at", "space")


class Kind(models.TextChoices):
    """The kinds of notification the booking engine writes (``Outbox.kind``)."""

    BOOKING_CONFIRMED = "booking_confirmed", _("预约成功")
    WAITLISTED = "waitlisted", _("进入候补")
    WAITLIST_PROMOTED = "waitlist_promoted", _("候补转正")
    EVENT_REMINDER = "event_reminder", _("活动提醒")
    EVENT_CHANGED = "event_changed", _("活动变更")
    EVENT_CANCELLED = "event_cancelled", _("活动取消")


def reminder_offsets(event_kind: str) -> list[int]:
    """Minutes before the start at which an event of ``event_kind`` is recalled, largest first."""
    offsets = conf("REMINDER_OFFSETS")
    chosen = offsets.get(event_kind, offsets.get("default", []))
    return sorted({int(m) for m in chosen if int(m) > 0}, reverse=True)


def event_topic(event_id: int) -> str:
    return f"event:{event_id}"


# --- write side -----------------------------------------------------------------------------------


def _event_street(event: Event):
    """The event's street for the outbox row, as a subquery: resolved inside the INSERT itself,
    so writing a notification costs the booking transaction one statement, not two."""
    return Subquery(Event.objects.filter(pk=event.pk).values("space__station__street_id")[:1])


def _row(
    booking: Booking,
    event: Event,
    *,
    kind: str,
    cause: str,
    due_at: datetime.datetime,
    street_id,
    context: dict | None = None,
) -> Outbox:
    return outbox.row(
        recipient_id=booking.user_id,
        kind=kind,
        cause=cause,
        due_at=due_at,
        subject=booking,
        street_id=street_id,
        topic=event_topic(event.pk),
        # Who booked a counselling slot is confidential, in the outbox too.
        confidential=event.kind == Event.Kind.COUNSELLING,
        context=context,
    )


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
            booking,
            event,
            kind=Kind.EVENT_REMINDER,
            cause=f"booking:{booking.pk}:before:{minutes}m",
            due_at=due,
            street_id=street_id,
            context={"offset_minutes": minutes},
        )


def booking_made_rows(*, booking: Booking, now: datetime.datetime, street_id: Any = None) -> list[Outbox]:
    """The rows a new booking writes: its confirmation and reminders, or its waitlist notice.

    ``street_id``: the event's street when the caller knows it; otherwise resolved inside
    the INSERT (a subquery).
    """
    event = booking.event
    if street_id is None:
        street_id = _event_street(event)
    if booking.status == Booking.Status.CONFIRMED:
        return [
            _row(
                booking,
                event,
                kind=Kind.BOOKING_CONFIRMED,
                cause=_booking_cause(booking),
                due_at=now,
                street_id=street_id,
            ),
            *_reminder_rows(booking, event, street_id, now),
        ]
    if booking.status == Booking.Status.WAITLISTED:
        return [
            _row(
                booking,
                event,
                kind=Kind.WAITLISTED,
                cause=_booking_cause(booking),
                due_at=now,
                street_id=street_id,
            )
        ]
    return []


def enqueue_booking_made(*, booking: Booking, now: datetime.datetime | None = None) -> int:
    """A booking was made: its confirmation (or waitlist notice) and, when confirmed, its reminders.

    Call inside the transaction that created the booking.
    """
    now = now or timezone.now()
    return outbox.write(booking_made_rows(booking=booking, now=now), now=now)


def prepare_booking_made(*, booking: Booking, now: datetime.datetime, street_id: int) -> outbox.PreparedWrite:
    """``enqueue_booking_made`` compiled ahead of time, for the engine to run under the event lock.

    ``booking`` need not be saved yet: its id, status and event are what the rows need.
    ``street_id``: the event's street, as read by the caller (a prepared write takes values only,
    not the subquery ``booking_made_rows`` would use without it).
    """
    return outbox.prepare(booking_made_rows(booking=booking, now=now, street_id=street_id), now=now)


def enqueue_waitlist_promoted(*, bookings: Iterable[Booking], now: datetime.datetime | None = None) -> int:
    """Waitlisted bookings got a seat: "you have a seat" and their reminders.

    Call inside the transaction that promoted them.
    """
    now = now or timezone.now()
    rows: list[Outbox] = []
    for booking in bookings:
        event = booking.event
        street_id = _event_street(event)
        rows.append(
            _row(
                booking,
                event,
                kind=Kind.WAITLIST_PROMOTED,
                cause=_booking_cause(booking),
                due_at=now,
                street_id=street_id,
            )
        )
        rows.extend(_reminder_rows(booking, event, street_id, now))
    return outbox.write(rows, now=now)


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
            booking,
            event,
            kind=Kind.EVENT_CANCELLED,
            cause=f"event:{event.pk}:cancelled",
            due_at=now,
            street_id=street_id,
            context={"booking_status": booking.status},
        )
        for booking in bookings
    ]
    return outbox.write(rows, now=now)


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
    transaction (``services.events.update_event``). Pending reminders follow the new
    start; one that no longer makes sense is skipped; one that makes sense only now
    (the event moved later) is added.
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
    rows: list[Outbox] = [
        _row(
            booking,
            event,
            kind=Kind.EVENT_CHANGED,
            cause=f"event:{event.pk}:changed:{digest}",
            due_at=now,
            street_id=street_id,
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
    return outbox.write(rows, now=now)


#: What a cancelled booking makes senseless: its reminders and its not-yet-sent seat notices.
_BOOKING_OWN_KINDS = (
    Kind.EVENT_REMINDER,
    Kind.BOOKING_CONFIRMED,
    Kind.WAITLISTED,
    Kind.WAITLIST_PROMOTED,
)


def skip_cancelled_booking_notices(*, booking: Booking, now: datetime.datetime) -> int:
    """Mark the pending reminders and seat notices of a cancelled booking as skipped.

    Call inside the cancellation's transaction: the outbox then never shows a cancelled
    booking's reminder as "待发送" (the sender's re-check stays, for rows written elsewhere).
    """
    return Outbox.objects.filter(
        subject_type=ContentType.objects.get_for_model(Booking),
        subject_id=booking.pk,
        kind__in=_BOOKING_OWN_KINDS,
        status=Status.PENDING,
    ).update(status=Status.SKIPPED, skip_reason=skip_text(N_("预约已取消。")), updated_at=now)


def pending_reminders(*, event_id: int):
    """The event's reminders not sent yet (the outbox's topic index)."""
    return Outbox.objects.filter(topic=event_topic(event_id), kind=Kind.EVENT_REMINDER, status=Status.PENDING)


def reschedule_reminders(*, event: Event, now: datetime.datetime | None = None) -> int:
    """Move the pending reminders of ``event`` to its current start; skip those now senseless."""
    now = now or timezone.now()
    pending = list(pending_reminders(event_id=event.pk).select_for_update().order_by("pk"))
    for row in pending:
        due = event.starts_at - datetime.timedelta(minutes=int(row.context.get("offset_minutes", 0)))
        if due <= now:
            row.status = Status.SKIPPED
            row.skip_reason = skip_text(N_("活动时间变更后，该提醒已无意义。"))
        else:
            row.due_at = row.next_attempt_at = due
    Outbox.objects.bulk_update(pending, ["status", "skip_reason", "due_at", "next_attempt_at"])
    return len(pending)


# --- the kinds: loading, rendering, links and re-checks -------------------------------------------


def place_label(space: Space | None) -> str:
    """ "Building (address) 6层 station · room", written as the pages and calendars write a place."""
    if space is None:
        return ""
    return space_location(space)


class BookingNoticeKind(registry.NotificationKind):
    """A notification about one booking (its subject), with the event and its place."""

    subject_related = ("event__space__station__building", "event__space__station__partner")

    def __init__(self, kind: Kind):
        self.name = kind.value
        self.label = kind.label

    def link(self, row: Outbox) -> str:
        return reverse("portal:booking_detail", args=[row.subject_id])

    def describe(self, row: Outbox) -> str:
        return f"《{row.subject.event.title}》" if row.subject is not None else ""

    def context(self, row: Outbox) -> dict[str, Any]:
        booking = row.subject
        if booking is None:
            return {}
        event = booking.event
        return {"event": event, "place": place_label(event.space), "booking": booking}

    def skip_reason(self, row: Outbox, now: datetime.datetime) -> str:
        booking = row.subject
        if booking is None:
            return skip_text(N_("关联的活动或预约已不存在。"))
        event = booking.event
        if event.status == Event.Status.CANCELLED:
            return skip_text(N_("活动已取消。"))
        if now >= event.ends_at:
            return skip_text(N_("活动已结束。"))
        return self.booking_skip_reason(booking, row, now)

    def booking_skip_reason(self, booking: Booking, row: Outbox, now: datetime.datetime) -> str:
        return ""


class CalendarNoticeKind(BookingNoticeKind):
    """A notice whose e-mail carries the booking's .ics (new, moved or cancelled in one's calendar)."""

    def attachments(self, row: Outbox, *, language: str) -> list[tuple[str, bytes, str]]:
        booking = row.subject
        if booking is None:
            return []
        return [
            (
                f"booking-{booking.pk}.ics",
                booking_ics(booking, language=language),
                "text/calendar; method=PUBLISH; charset=utf-8",
            )
        ]


class SeatNoticeKind(CalendarNoticeKind):
    """ "Booked" and "promoted": only while the seat is held."""

    def booking_skip_reason(self, booking, row, now) -> str:
        if booking.status not in (Booking.Status.CONFIRMED, Booking.Status.ATTENDED):
            return skip_text(N_("预约已取消。"))
        return ""


class WaitlistedKind(BookingNoticeKind):
    def booking_skip_reason(self, booking, row, now) -> str:
        if booking.status != Booking.Status.WAITLISTED:
            return skip_text(N_("已不在候补中。"))
        return ""

    def context(self, row: Outbox) -> dict[str, Any]:
        from .selectors import waitlist_position

        ctx = super().context(row)
        if row.subject is not None:
            ctx["position"] = waitlist_position(row.subject)
        return ctx


class EventReminderKind(BookingNoticeKind):
    def due_again_at(self, row: Outbox, now: datetime.datetime) -> datetime.datetime | None:
        """A reminder whose event moved later without notify_event_changed waits for the new time."""
        if row.subject is None:
            return None
        return row.subject.event.starts_at - datetime.timedelta(
            minutes=int(row.context.get("offset_minutes", 0))
        )

    def booking_skip_reason(self, booking, row, now) -> str:
        event = booking.event
        if booking.status != Booking.Status.CONFIRMED:
            return skip_text(N_("预约已取消或已签到。"))
        if now >= event.starts_at:
            return skip_text(N_("活动已开始。"))
        offset = int(row.context.get("offset_minutes", 0))
        nearer = [
            m
            for m in reminder_offsets(event.kind)
            if m < offset and now >= event.starts_at - datetime.timedelta(minutes=m)
        ]
        if nearer:
            return skip_text(N_("已由更临近的提醒取代。"))
        return ""

    def context(self, row: Outbox) -> dict[str, Any]:
        minutes = int(row.context.get("offset_minutes", 0))
        return {
            **super().context(row),
            "hours": minutes // 60 if minutes % 60 == 0 else None,
            "minutes": minutes,
        }


class EventChangedKind(CalendarNoticeKind):
    def booking_skip_reason(self, booking, row, now) -> str:
        if booking.status not in Booking.ACTIVE:
            return skip_text(N_("预约已取消。"))
        return ""

    def context(self, row: Outbox) -> dict[str, Any]:
        changes = row.context.get("changes", {})
        shown: dict[str, Any] = {}
        for field in ("starts_at", "ends_at"):
            if field in changes:
                old, new = changes[field]
                shown[field] = [datetime.datetime.fromisoformat(v) if v else None for v in (old, new)]
        if "space" in changes:
            ids = [v for v in changes["space"] if v]
            spaces = Space.objects.select_related("station__building", "station__partner").in_bulk(ids)
            shown["place"] = [place_label(spaces.get(v)) if v else "" for v in changes["space"]]
        return {**super().context(row), "changes": shown}


class EventCancelledKind(CalendarNoticeKind):
    def skip_reason(self, row: Outbox, now: datetime.datetime) -> str:
        # The notice of a cancellation is sent even though the event is cancelled.
        return ""


KINDS: list[registry.NotificationKind] = [
    SeatNoticeKind(Kind.BOOKING_CONFIRMED),
    WaitlistedKind(Kind.WAITLISTED),
    SeatNoticeKind(Kind.WAITLIST_PROMOTED),
    EventReminderKind(Kind.EVENT_REMINDER),
    EventChangedKind(Kind.EVENT_CHANGED),
    EventCancelledKind(Kind.EVENT_CANCELLED),
]


def register_kinds() -> None:
    for kind in KINDS:
        registry.register(kind)
