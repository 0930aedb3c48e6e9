"""BookingTally: PostgreSQL keeps each event's bookings per status exact, whatever writes them.

The activity statistics read the tally instead of the bookings, so every way a
booking is written (the engine, bulk updates, deletes) must leave the tally
equal to a count of the bookings themselves.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from services import booking as engine
from services import stats
from services.models import Booking, BookingTally, Event
from services.triggers import BOOKING_STATUSES
from tests.members.factories import UserFactory
from tests.services.factories import BookingFactory, EventFactory

pytestmark = pytest.mark.django_db


def counted(event) -> dict[str, int]:
    """The bookings of ``event`` counted by status (the truth the tally must equal)."""
    rows = Booking.objects.filter(event=event).values("status").annotate(n=Count("id"))
    found = {row["status"]: row["n"] for row in rows}
    return {status: found.get(status, 0) for status in BOOKING_STATUSES}


def tallied(event) -> dict[str, int]:
    tally = BookingTally.objects.filter(event=event).first()
    return {status: getattr(tally, status, 0) if tally else 0 for status in BOOKING_STATUSES}


def test_tally_columns_are_the_booking_statuses():
    assert set(BOOKING_STATUSES) == set(Booking.Status.values)
    assert {f.name for f in BookingTally._meta.fields} == {"event", *BOOKING_STATUSES}


def test_engine_writes_keep_the_tally_exact():
    event = EventFactory(capacity=2, waitlist_limit=5)
    other = EventFactory(capacity=5)
    people = UserFactory.create_batch(4)
    made = [engine.book_event(user=person, event=event) for person in people]
    engine.book_event(user=people[0], event=other)
    assert (
        tallied(event)
        == counted(event)
        == {
            "confirmed": 2,
            "waitlisted": 2,
            "cancelled": 0,
            "attended": 0,
            "no_show": 0,
        }
    )
    # Cancelling a seat promotes the head of the waitlist in the same transaction.
    engine.cancel_booking(booking=made[0], by=people[0])
    assert tallied(event) == counted(event)
    assert tallied(event)["cancelled"] == 1 and tallied(event)["waitlisted"] == 1
    # A check-in (one row saved), then cancelling the whole event.
    confirmed = Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED).first()
    confirmed.status, confirmed.checked_in_at = Booking.Status.ATTENDED, timezone.now()
    confirmed.save(update_fields=["status", "checked_in_at"])
    assert tallied(event) == counted(event) and tallied(event)["attended"] == 1
    engine.cancel_event(event=Event.objects.get(pk=event.pk))
    assert tallied(event) == counted(event)
    assert tallied(other) == counted(other) == {**dict.fromkeys(BOOKING_STATUSES, 0), "confirmed": 1}


def test_bulk_updates_and_deletes_keep_the_tally_exact():
    first, second = EventFactory(capacity=50), EventFactory(capacity=50)
    BookingFactory.create_batch(4, event=first)
    BookingFactory.create_batch(3, event=second)
    # One statement over two events: the no-show marking does this.
    Booking.objects.filter(event__in=[first, second]).update(status=Booking.Status.NO_SHOW)
    assert tallied(first) == counted(first) and tallied(first)["no_show"] == 4
    assert tallied(second) == counted(second) and tallied(second)["no_show"] == 3
    # An update that changes no status writes nothing new.
    Booking.objects.filter(event=first).update(confirmed_at=timezone.now())
    assert tallied(first) == counted(first)
    Booking.objects.filter(event=second).delete()
    assert tallied(second) == counted(second) == dict.fromkeys(BOOKING_STATUSES, 0)


def test_mark_no_shows_keeps_the_tally_exact():
    start = timezone.now() - datetime.timedelta(days=2)
    past = EventFactory(
        capacity=10,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        booking_opens_at=start - datetime.timedelta(days=7),
        booking_closes_at=start - datetime.timedelta(hours=1),
        cancel_deadline=start - datetime.timedelta(hours=12),
    )
    BookingFactory.create_batch(3, event=past, status=Booking.Status.CONFIRMED)
    engine.mark_no_shows()
    assert tallied(past) == counted(past) and tallied(past)["no_show"] == 3


def test_activity_reads_the_tally_not_the_bookings():
    event = EventFactory(capacity=10)
    BookingFactory.create_batch(3, event=event)
    BookingFactory(event=event, status=Booking.Status.CANCELLED, cancelled_at=timezone.now())
    root = UserFactory(is_superuser=True)
    with CaptureQueriesContext(connection) as ctx:
        data = stats.activity(user=root)
    assert data["total"]["bookings"] == 3 and data["total"]["cancelled"] == 1
    assert not any('FROM "services_booking"' in q["sql"] for q in ctx.captured_queries)
    assert len(ctx.captured_queries) == 1


def test_copy_in_chunks_keeps_the_tally_exact():
    """seed_demo COPYs bookings in chunks of 50,000; an event may straddle two chunks."""
    import io

    event = EventFactory(capacity=50)
    users = UserFactory.create_batch(4)
    now = timezone.now().isoformat()
    rows = [
        f"{event.pk}\t{u.pk}\t{s}\t{now}\n"
        for u, s in zip(users, ["confirmed", "confirmed", "cancelled", "waitlisted"], strict=True)
    ]
    with connection.cursor() as cursor:
        for chunk in (rows[:3], rows[3:]):
            cursor.cursor.copy_expert(
                "COPY services_booking (event_id, user_id, status, created_at) FROM STDIN",
                io.StringIO("".join(chunk)),
            )
    assert (
        tallied(event)
        == counted(event)
        == {
            "confirmed": 2,
            "waitlisted": 1,
            "cancelled": 1,
            "attended": 0,
            "no_show": 0,
        }
    )
