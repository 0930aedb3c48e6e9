"""Every clock boundary of the booking engine (services/booking.py), to the microsecond.

The write functions take ``now`` (default: the current time), so each rule is tried at
the instant where it flips and one microsecond either side: booking opens and closes, the
cancellation deadline, the end of the event (booking, cancelling, capacity, cancelling the
event, promotion, the event page's button, no-shows) and the check-in window. Then: the
``now`` given is the one written (timestamps, notifications), and without it the engine
reads the real clock (held still with time-machine).
"""

import datetime

import pytest
import time_machine
from django.utils import timezone

from services import booking as engine
from services.booking import BookingError
from services.models import Booking, Event
from services.notifications import Kind
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory, outbox_rows

pytestmark = pytest.mark.django_db

US = datetime.timedelta(microseconds=1)
H = datetime.timedelta(hours=1)
BEFORE, AT, AFTER = -US, datetime.timedelta(0), US
OFFSETS = {"one microsecond before": BEFORE, "at the instant": AT, "one microsecond after": AFTER}


def outcome(action) -> str:
    """``ok``, or the code of the BookingError that ``action()`` raised."""
    try:
        action()
    except BookingError as exc:
        return exc.code
    return "ok"


def boundary(*expected: str):
    """Parametrize a test over the three instants with the outcome expected at each."""
    return pytest.mark.parametrize(
        ("offset", "expected"), list(zip(OFFSETS.values(), expected, strict=True)), ids=list(OFFSETS)
    )


def closing_at_the_end(**kwargs) -> Event:
    """An event whose booking stays open until it ends (the latest the booking window may close)."""
    event = EventFactory(**kwargs)
    Event.objects.filter(pk=event.pk).update(booking_closes_at=event.ends_at)
    event.refresh_from_db()
    return event


# --- booking ------------------------------------------------------------------------------------


@boundary("booking_not_open", "ok", "ok")
def test_booking_opens_at_booking_opens_at(offset, expected):
    event = EventFactory()
    now = event.booking_opens_at + offset
    assert outcome(lambda: engine.book_event(user=UserFactory(), event=event, now=now)) == expected


@boundary("ok", "booking_closed", "booking_closed")
def test_booking_closes_at_booking_closes_at(offset, expected):
    event = EventFactory()
    now = event.booking_closes_at + offset
    assert outcome(lambda: engine.book_event(user=UserFactory(), event=event, now=now)) == expected


@boundary("ok", "event_past", "event_past")
def test_booking_ends_with_the_event(offset, expected):
    event = closing_at_the_end()
    now = event.ends_at + offset
    assert outcome(lambda: engine.book_event(user=UserFactory(), event=event, now=now)) == expected


# --- cancelling ---------------------------------------------------------------------------------


@boundary("ok", "ok", "cancel_deadline_passed")
def test_a_seat_may_be_given_back_until_the_cancel_deadline_inclusive(offset, expected):
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    now = event.cancel_deadline + offset
    assert outcome(lambda: engine.cancel_booking(booking=booking, now=now)) == expected


@boundary("ok", "event_past", "event_past")
def test_the_waitlist_may_be_left_until_the_event_ends(offset, expected):
    event = EventFactory(capacity=1)
    _seated, waiting = [engine.book_event(user=UserFactory(), event=event) for _ in range(2)]
    now = event.ends_at + offset
    assert outcome(lambda: engine.cancel_booking(booking=waiting, now=now)) == expected


@boundary("ok", "event_past", "event_past")
def test_capacity_may_change_until_the_event_ends(offset, expected):
    event = EventFactory(capacity=5)
    now = event.ends_at + offset
    assert outcome(lambda: engine.change_capacity(event=event, capacity=6, now=now)) == expected


@boundary("ok", "event_past", "event_past")
def test_an_event_may_be_cancelled_until_it_ends(offset, expected):
    event = EventFactory()
    now = event.ends_at + offset
    assert outcome(lambda: engine.cancel_event(event=event, now=now)) == expected


@boundary("promoted", "nobody", "nobody")
def test_the_waitlist_moves_up_until_the_event_ends(offset, expected):
    event = EventFactory(capacity=1)
    _seated, waiting = [engine.book_event(user=UserFactory(), event=event) for _ in range(2)]
    Event.objects.filter(pk=event.pk).update(capacity=2)  # a seat freed outside the engine
    promoted = engine.promote_waitlist(event=event, now=event.ends_at + offset)
    assert ("promoted" if [b.pk for b in promoted] == [waiting.pk] else "nobody") == expected
    waiting.refresh_from_db()
    assert waiting.status == (
        Booking.Status.CONFIRMED if expected == "promoted" else Booking.Status.WAITLISTED
    )


# --- check-in -----------------------------------------------------------------------------------


@boundary("checkin_too_early", "ok", "ok")
def test_checkin_opens_an_hour_before_the_start(offset, expected):
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    now = event.starts_at - engine.CHECKIN_OPENS_BEFORE + offset
    assert outcome(lambda: engine.check_in(code=engine.checkin_code(booking), now=now)) == expected


@boundary("ok", "checkin_closed", "checkin_closed")
def test_checkin_closes_when_the_event_ends(offset, expected):
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    now = event.ends_at + offset
    assert outcome(lambda: engine.check_in(code=engine.checkin_code(booking), now=now)) == expected


# --- no-shows -----------------------------------------------------------------------------------


@boundary(0, 1, 1)
def test_a_booking_becomes_a_no_show_from_the_instant_the_event_ends(offset, expected):
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    assert engine.mark_no_shows(now=event.ends_at + offset) == expected
    booking.refresh_from_db()
    assert booking.status == (Booking.Status.NO_SHOW if expected else Booking.Status.CONFIRMED)


# --- the event page's button --------------------------------------------------------------------


def _kind(event, now) -> str:
    return engine.booking_action(user=UserFactory(), event=event, now=now).kind


@boundary("not_open", "book", "book")
def test_the_button_opens_with_the_booking_window(offset, expected):
    event = EventFactory()
    assert _kind(event, event.booking_opens_at + offset) == expected


@boundary("book", "closed", "closed")
def test_the_button_closes_with_the_booking_window(offset, expected):
    event = EventFactory()
    assert _kind(event, event.booking_closes_at + offset) == expected


@boundary("book", "past", "past")
def test_the_button_says_past_from_the_instant_the_event_ends(offset, expected):
    event = closing_at_the_end()
    assert _kind(event, event.ends_at + offset) == expected


# --- the ``now`` given is the one written -------------------------------------------------------


def _outbox(kind, **filters):
    return list(outbox_rows(kind=kind, **filters).values_list("due_at", flat=True))


def test_book_and_cancel_write_the_given_now_and_notify_as_of_it():
    event = EventFactory(capacity=1)
    booked_at = event.booking_opens_at + H
    seated = engine.book_event(user=UserFactory(), event=event, now=booked_at)
    waiting = engine.book_event(user=UserFactory(), event=event, now=booked_at + H)
    assert seated.confirmed_at == booked_at
    assert _outbox(Kind.BOOKING_CONFIRMED, booking=seated) == [booked_at]
    assert _outbox(Kind.WAITLISTED, booking=waiting) == [booked_at + H]

    cancelled_at = booked_at + 2 * H
    engine.cancel_booking(booking=seated, now=cancelled_at)
    seated.refresh_from_db()
    waiting.refresh_from_db()
    assert seated.cancelled_at == cancelled_at
    assert (waiting.status, waiting.confirmed_at) == (Booking.Status.CONFIRMED, cancelled_at)
    assert _outbox(Kind.WAITLIST_PROMOTED, booking=waiting) == [cancelled_at]


def test_promotion_and_capacity_changes_write_the_given_now():
    event = EventFactory(capacity=1)
    _seated, first, second = [engine.book_event(user=UserFactory(), event=event) for _ in range(3)]
    now = event.starts_at - 5 * H
    engine.change_capacity(event=event, capacity=2, now=now)
    first.refresh_from_db()
    assert (first.status, first.confirmed_at) == (Booking.Status.CONFIRMED, now)
    assert _outbox(Kind.WAITLIST_PROMOTED, booking=first) == [now]
    assert Event.objects.get(pk=event.pk).updated_at == now

    Event.objects.filter(pk=event.pk).update(capacity=3)
    later = now + H
    (promoted,) = engine.promote_waitlist(event=event, now=later)
    assert promoted.pk == second.pk
    assert (promoted.status, promoted.confirmed_at) == (Booking.Status.CONFIRMED, later)
    second.refresh_from_db()
    assert (second.status, second.confirmed_at) == (Booking.Status.CONFIRMED, later)
    assert _outbox(Kind.WAITLIST_PROMOTED, booking=second) == [later]


def test_check_in_writes_the_given_now_and_reports_it_when_used_again():
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    code = engine.checkin_code(booking)
    now = event.starts_at - 10 * datetime.timedelta(minutes=1)  # not the real time of day
    engine.check_in(code=code, now=now)
    booking.refresh_from_db()
    assert (booking.status, booking.checked_in_at) == (Booking.Status.ATTENDED, now)
    with pytest.raises(BookingError) as info:
        engine.check_in(code=code, now=now + H)
    assert str(info.value.message) == f"该预约已于 {timezone.localtime(now):%H:%M} 签到。"


def test_cancel_event_writes_the_given_now_everywhere():
    event = EventFactory(capacity=1)
    seated, waiting = [engine.book_event(user=UserFactory(), event=event) for _ in range(2)]
    now = event.starts_at - 5 * H
    engine.cancel_event(event=event, now=now)
    assert Event.objects.get(pk=event.pk).updated_at == now
    assert set(Booking.objects.filter(event=event).values_list("cancelled_at", flat=True)) == {now}
    assert _outbox(Kind.EVENT_CANCELLED, event=event) == [now, now]


# --- without ``now``: the real clock ------------------------------------------------------------


def test_without_now_the_engine_reads_the_real_clock():
    event = closing_at_the_end(capacity=1)
    seated = engine.book_event(user=UserFactory(), event=event)
    with time_machine.travel(event.ends_at - US, tick=False):
        assert timezone.now() == event.ends_at - US
        waiting = engine.book_event(user=UserFactory(), event=event)
        assert waiting.status == Booking.Status.WAITLISTED
        assert engine.booking_action(user=UserFactory(), event=event).kind == "waitlist"
        engine.change_capacity(event=event, capacity=2)
        waiting.refresh_from_db()
        assert (waiting.status, waiting.confirmed_at) == (Booking.Status.CONFIRMED, event.ends_at - US)
        attended = engine.check_in(code=engine.checkin_code(seated))
        assert attended.checked_in_at == event.ends_at - US
        assert engine.mark_no_shows() == 0
    late = engine.book_event(user=UserFactory(), event=event)
    Event.objects.filter(pk=event.pk).update(capacity=3)  # a free seat for the waitlist
    with time_machine.travel(event.ends_at, tick=False):
        for action in (
            lambda: engine.book_event(user=UserFactory(), event=event),
            lambda: engine.cancel_booking(booking=waiting),
            lambda: engine.change_capacity(event=event, capacity=4),
            lambda: engine.cancel_event(event=event),
        ):
            assert outcome(action) == "event_past"
        assert outcome(lambda: engine.check_in(code=engine.checkin_code(waiting))) == "checkin_closed"
        assert engine.promote_waitlist(event=event) == []
        assert engine.booking_action(user=UserFactory(), event=event).kind == "past"
        assert engine.mark_no_shows() == 1
    waiting.refresh_from_db()
    late.refresh_from_db()
    assert (waiting.status, late.status) == (Booking.Status.NO_SHOW, Booking.Status.WAITLISTED)
