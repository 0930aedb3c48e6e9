"""The booking engine under real concurrency on PostgreSQL: threads with their own connections.

Each thread opens its own database connection, waits at a barrier so that all
press "book" at the same moment, and closes its connection when done. The
event row lock is what makes the outcome exact.
"""

import datetime
import threading
from collections import Counter

import pytest
from django.db import connection

from services import booking as engine
from services.booking import BookingError
from services.models import Booking, Event
from tests.concurrency import held_elsewhere
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def run_together(calls):
    """Run each zero-argument callable in its own thread, all released at once.

    Returns one result per call, in order: ("ok", value) or ("error", exception).
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = ("ok", call())
        except BaseException as exc:  # record everything, the test decides what is acceptable
            results[index] = ("error", exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def fresh(event):
    """A separate Python instance per thread, as separate requests would have."""
    return Event.objects.get(pk=event.pk)


def test_fifty_people_book_ten_seats_at_once_then_five_cancel():
    event = EventFactory(capacity=10, waitlist_limit=50)
    users = [UserFactory() for _ in range(50)]
    instances = [fresh(event) for _ in users]

    results = run_together(
        [lambda u=u, e=e: engine.book_event(user=u, event=e) for u, e in zip(users, instances, strict=True)]
    )

    errors = [value for kind, value in results if kind == "error"]
    assert errors == []
    assert Counter(b.status for _, b in results) == {
        Booking.Status.CONFIRMED: 10,
        Booking.Status.WAITLISTED: 40,
    }
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (10, 40)
    assert Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED).count() == 10

    # First come, first served: in the order the lock let them in, the first ten got seats
    # and the waitlist positions are exactly 1..40 in that same order.
    in_order = list(Booking.objects.filter(event=event).order_by("created_at", "id"))
    assert [b.status for b in in_order] == [Booking.Status.CONFIRMED] * 10 + [Booking.Status.WAITLISTED] * 40
    waiting = in_order[10:]
    assert [engine.waitlist_position(b) for b in waiting] == list(range(1, 41))

    # Five confirmed people cancel at the same moment: exactly the first five waiting move up.
    leaving = in_order[:5]
    results = run_together([lambda b=b: engine.cancel_booking(booking=b) for b in leaving])
    assert [kind for kind, _ in results] == ["ok"] * 5

    status = dict(Booking.objects.filter(event=event).values_list("pk", "status"))
    assert {status[b.pk] for b in leaving} == {Booking.Status.CANCELLED}
    assert [status[b.pk] for b in waiting[:5]] == [Booking.Status.CONFIRMED] * 5
    assert {status[b.pk] for b in waiting[5:]} == {Booking.Status.WAITLISTED}
    still_waiting = [Booking.objects.get(pk=b.pk) for b in waiting[5:]]
    assert [engine.waitlist_position(b) for b in still_waiting] == list(range(1, 36))
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (10, 35)
    assert Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED).count() == 10


def test_twenty_presses_by_one_person_give_one_booking():
    event = EventFactory(capacity=10)
    user = UserFactory()
    instances = [fresh(event) for _ in range(20)]

    results = run_together([lambda e=e: engine.book_event(user=user, event=e) for e in instances])

    booked = [value for kind, value in results if kind == "ok"]
    refused = [value for kind, value in results if kind == "error"]
    assert len(booked) == 1
    assert len(refused) == 19
    # Every other press got the clear domain message, not a database error.
    assert all(isinstance(exc, BookingError) and exc.code == "already_booked" for exc in refused)
    assert Booking.objects.filter(event=event, user=user).count() == 1
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (1, 0)


def test_parallel_capacity_increase_and_bookings_never_overbook():
    """Bookings racing a capacity change: counters and rows agree, seats never exceed capacity."""
    event = EventFactory(capacity=5, waitlist_limit=50)
    users = [UserFactory() for _ in range(30)]
    calls = [
        lambda u=u, e=e: engine.book_event(user=u, event=e) for u, e in ((u, fresh(event)) for u in users)
    ]
    widened = fresh(event)
    calls.insert(15, lambda: engine.change_capacity(event=widened, capacity=12))

    results = run_together(calls)

    assert [value for kind, value in results if kind == "error"] == []
    event.refresh_from_db()
    confirmed = Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED).count()
    waitlisted = Booking.objects.filter(event=event, status=Booking.Status.WAITLISTED).count()
    assert event.capacity == 12
    assert (confirmed, waitlisted) == (12, 18) == (event.confirmed_count, event.waitlist_count)
    # Nobody who came later holds a seat while someone earlier still waits.
    in_order = list(Booking.objects.filter(event=event).order_by("created_at", "id"))
    assert [b.status for b in in_order] == [Booking.Status.CONFIRMED] * 12 + [Booking.Status.WAITLISTED] * 18


def test_marking_no_shows_locks_only_the_events_it_marks():
    """An ended event with nothing to mark is not locked: a transaction holding it (an editor,
    a report) does not hold up mark_no_shows."""
    marked, idle = EventFactory(), EventFactory()
    missed = engine.book_event(user=UserFactory(), event=marked)
    engine.cancel_booking(booking=engine.book_event(user=UserFactory(), event=idle))
    now = max(marked.ends_at, idle.ends_at) + datetime.timedelta(hours=1)
    with held_elsewhere(Event, idle.pk):  # waiting for the idle event would fail
        assert engine.mark_no_shows(now=now) == 1
    assert Booking.objects.get(pk=missed.pk).status == Booking.Status.NO_SHOW
