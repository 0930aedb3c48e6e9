"""History of events and bookings (core/history.py, pghistory triggers): what it records and what not.

The seat counters are the booking engine's tally, not an edit: forty bookings leave the
event's history as it was, while each booking's own history says who booked and when.
"""

from __future__ import annotations

import pghistory
import pytest
from pghistory.models import Events

from services import booking as engine
from services.models import Booking, Event
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db


def event_rows(event: Event) -> list[tuple[str, dict]]:
    return list(
        Events.objects.tracks(event)
        .filter(pgh_model="services.EventEvent")
        .values_list("pgh_label", "pgh_data")
    )


def test_forty_bookings_add_no_event_history_rows_and_each_booking_records_who_and_when():
    event = EventFactory(capacity=30, waitlist_limit=20)
    before = event_rows(event)
    assert [label for label, _data in before] == ["insert"]
    people = [UserFactory() for _ in range(40)]
    with pghistory.context(user=people[0].pk, url="/events/1/book/"):
        bookings = [engine.book_event(user=person, event=event) for person in people]
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (30, 10)
    assert event_rows(event) == before
    first = Events.objects.tracks(bookings[0]).get()
    assert first.pgh_label == "insert" and first.pgh_data["user_id"] == people[0].pk
    assert first.pgh_context["user"] == people[0].pk and first.pgh_created_at is not None
    assert Booking.objects.filter(event=event).count() == 40


def test_an_edit_is_recorded_without_the_counters():
    event = EventFactory(capacity=30)
    engine.book_event(user=UserFactory(), event=event)
    Event.objects.filter(pk=event.pk).update(title="新标题")
    labels = [(label, data.get("title")) for label, data in event_rows(event)]
    assert labels[-1] == ("update", "新标题") and len(labels) == 2
    assert "confirmed_count" not in event_rows(event)[-1][1]
