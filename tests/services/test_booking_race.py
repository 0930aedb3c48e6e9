"""Booking between the read and the lock (services/booking.py ``book_event``, issue 19's engine).

``book_event`` reads the event without a lock, answers what it can from that read and
prepares the booking and its notices; then one statement (``_TAKE_SEAT_SQL``) locks the
event, checks again what the read found and writes. These tests change the event (or the
person's bookings) in that window — right after the read, as another request would — and
check that the statement notices: the outcome is the one the changed event gives, and the
notices are made from the event as it is when the booking is written. Found by mutation
testing: no other test reaches the second read, the ``already_booked`` of the unique index,
or ``event_changed``.
"""

import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from core.notifications.models import Outbox
from services import booking as engine
from services.booking import BookingError
from services.models import Booking, Event
from services.notifications import Kind
from tests.buildings.factories import StreetFactory
from tests.members.factories import PartyMemberFactory, UserFactory
from tests.services.factories import BookingFactory, EventFactory, SpaceFactory, outbox_rows

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
US = datetime.timedelta(microseconds=1)


def change_after_first_read(monkeypatch, change):
    """Run ``change()`` right after ``book_event``'s first read of the event; return the reads."""
    real = engine._booking_snapshot
    reads = []

    def read(event_id, user_id):
        current = real(event_id, user_id)
        reads.append(current)
        if len(reads) == 1:
            change()
        return current

    monkeypatch.setattr(engine, "_booking_snapshot", read)
    return reads


def update(event: Event, **fields) -> None:
    Event.objects.filter(pk=event.pk).update(**fields)


def counts(event: Event) -> tuple[int, int]:
    event.refresh_from_db()
    return event.confirmed_count, event.waitlist_count


# --- a change that refuses the booking: read again, refused as the changed event says ---------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda e, now: update(e, status=Event.Status.CANCELLED), "event_cancelled"),
        (lambda e, now: update(e, status=Event.Status.DRAFT), "event_draft"),
        (lambda e, now: update(e, booking_closes_at=now), "booking_closed"),
        (lambda e, now: update(e, booking_opens_at=now + US), "booking_not_open"),
        (lambda e, now: update(e, audience=Event.Audience.PARTY_MEMBERS), "members_only"),
    ],
    ids=["cancelled", "unpublished", "closed at that instant", "opens a microsecond later", "members only"],
)
def test_a_change_after_the_read_that_refuses_the_booking_is_noticed_under_the_lock(
    monkeypatch, change, code
):
    event, user = EventFactory(), UserFactory()
    now = timezone.now()
    reads = change_after_first_read(monkeypatch, lambda: change(event, now))
    with pytest.raises(BookingError) as info:
        engine.book_event(user=user, event=event, now=now)
    assert info.value.code == code
    assert len(reads) == 2  # refused by the second read, after the statement found the change
    assert not Booking.objects.filter(event=event).exists()
    assert not Outbox.objects.filter(topic=f"event:{event.pk}").exists()
    assert counts(event) == (0, 0)


def test_booking_that_opens_at_the_instant_read_again_is_made(monkeypatch):
    """The statement's ``booking_opens_at <= now`` holds at the instant itself."""
    event, user = EventFactory(), UserFactory()
    now = timezone.now()
    reads = change_after_first_read(monkeypatch, lambda: update(event, booking_opens_at=now))
    booking = engine.book_event(user=user, event=event, now=now)
    assert booking.status == Booking.Status.CONFIRMED
    assert len(reads) == 1  # nothing changed that the statement checks: one read, one statement


def test_a_member_may_book_an_event_that_became_members_only_after_the_read(monkeypatch):
    event, user = EventFactory(), UserFactory(party_member=PartyMemberFactory())
    reads = change_after_first_read(monkeypatch, lambda: update(event, audience=Event.Audience.PARTY_MEMBERS))
    assert engine.book_event(user=user, event=event).status == Booking.Status.CONFIRMED
    assert len(reads) == 1


def test_an_event_closed_to_the_community_after_the_read_is_refused_to_a_rider(monkeypatch):
    """The statement's own audience check: a rider may book a building's event only while it
    is open to the community (``_TAKE_SEAT_SQL``: ``open_to_person OR audience = community``)."""
    event = EventFactory(audience=Event.Audience.COMMUNITY)
    rider = UserFactory(person_type="rider", platform="饿了么·长寿路站", building=None, enterprise=None)
    reads = change_after_first_read(monkeypatch, lambda: update(event, audience=Event.Audience.EVERYONE))
    with pytest.raises(BookingError) as info:
        engine.book_event(user=rider, event=event)
    assert info.value.code == "employees_only"
    assert len(reads) == 2
    assert counts(event) == (0, 0)
    assert not Booking.objects.filter(event=event).exists()


# --- a change the notices were made from: read again, the notices follow the event -------------------


def test_an_event_moved_after_the_read_gets_reminders_at_its_new_time(monkeypatch):
    event, user = EventFactory(), UserFactory()
    later = event.starts_at + 5 * H
    reads = change_after_first_read(
        monkeypatch, lambda: update(event, starts_at=later, ends_at=later + 2 * H, cancel_deadline=later - H)
    )
    booking = engine.book_event(user=user, event=event)
    assert len(reads) == 2
    reminders = outbox_rows(booking=booking, kind=Kind.EVENT_REMINDER)
    assert sorted(r.due_at for r in reminders) == [later - 24 * H, later - 2 * H]


def test_an_event_that_became_a_counselling_slot_after_the_read_writes_confidential_notices(monkeypatch):
    event, user = EventFactory(capacity=1), UserFactory()
    reads = change_after_first_read(monkeypatch, lambda: update(event, kind=Event.Kind.COUNSELLING))
    booking = engine.book_event(user=user, event=event)
    assert len(reads) == 2
    notices = outbox_rows(booking=booking)
    assert notices.exists() and all(row.confidential for row in notices)


def test_an_event_moved_to_another_street_after_the_read_writes_notices_of_that_street(monkeypatch):
    event, user = EventFactory(), UserFactory()
    elsewhere = SpaceFactory(station__building__street=StreetFactory())
    reads = change_after_first_read(monkeypatch, lambda: update(event, space=elsewhere))
    booking = engine.book_event(user=user, event=event)
    assert len(reads) == 2
    streets = set(outbox_rows(booking=booking).values_list("street_id", flat=True))
    assert streets == {elsewhere.station.building.street_id}


# --- seats taken in between: the statement decides -----------------------------------------------


def test_the_last_seat_taken_after_the_read_gives_a_waitlist_place(monkeypatch):
    event, user = EventFactory(capacity=1, waitlist_limit=3), UserFactory()
    reads = change_after_first_read(monkeypatch, lambda: engine.book_event(user=UserFactory(), event=event))
    booking = engine.book_event(user=user, event=event)
    assert len(reads) == 2  # the read, and the other booking's own read
    assert booking.status == Booking.Status.WAITLISTED and booking.confirmed_at is None
    assert (event.confirmed_count, event.waitlist_count) == (1, 1)  # the caller's instance follows
    assert counts(event) == (1, 1)
    assert set(outbox_rows(booking=booking).values_list("kind", flat=True)) == {Kind.WAITLISTED}
    stored = Booking.objects.get(pk=booking.pk)
    assert (stored.status, stored.confirmed_at) == (Booking.Status.WAITLISTED, None)


def test_the_last_waitlist_place_taken_after_the_read_is_refused_and_writes_nothing(monkeypatch):
    event, user = EventFactory(capacity=1, waitlist_limit=1), UserFactory()
    engine.book_event(user=UserFactory(), event=event)
    change_after_first_read(monkeypatch, lambda: engine.book_event(user=UserFactory(), event=event))
    with pytest.raises(BookingError) as info:
        engine.book_event(user=user, event=event)
    assert info.value.code == "waitlist_full"
    assert str(info.value.message) == "名额已满，候补人数也已达上限。"
    # (The other booking, made inside the engine's savepoint here, is rolled back with it.)
    assert counts(event) == (1, 0)
    assert not Booking.objects.filter(user=user).exists()
    assert not Outbox.objects.filter(recipient=user).exists()


def test_the_same_person_booked_in_between_is_refused_by_the_one_active_booking_index(monkeypatch):
    event, user = EventFactory(), UserFactory()
    reads = change_after_first_read(monkeypatch, lambda: BookingFactory(event=event, user=user))
    with pytest.raises(BookingError) as info:
        engine.book_event(user=user, event=event)
    assert info.value.code == "already_booked"
    assert str(info.value.message) == "您已预约过该活动。"
    assert len(reads) == 1  # refused by the index, not by a second read
    # (The other booking, made inside the engine's savepoint here, is rolled back with it.)
    assert not Booking.objects.filter(event=event).exists()
    assert counts(event) == (0, 0)
    assert not Outbox.objects.filter(recipient=user).exists()


def test_any_other_integrity_error_of_the_statement_is_not_mistaken_for_a_second_booking(monkeypatch):
    """A clash that is not the one-active-booking index goes up as it is (here: the id is taken)."""
    event, user = EventFactory(), UserFactory()
    taken = BookingFactory(event=EventFactory())
    real = engine._booking_snapshot

    def read(event_id, user_id):
        current = real(event_id, user_id)
        current.next_id = taken.pk
        return current

    monkeypatch.setattr(engine, "_booking_snapshot", read)
    with pytest.raises(IntegrityError):
        engine.book_event(user=user, event=event)


def test_an_event_that_keeps_changing_between_read_and_lock_is_tried_three_times_then_refused(monkeypatch):
    """Every read disagrees with the row the statement locks (here: a start the read reports
    wrongly): three attempts, then "event_changed", and nothing written."""
    event, user = EventFactory(), UserFactory()
    real = engine._booking_snapshot
    reads = []

    def stale(event_id, user_id):
        current = real(event_id, user_id)
        current.starts_at -= H
        reads.append(current)
        return current

    monkeypatch.setattr(engine, "_booking_snapshot", stale)
    with pytest.raises(BookingError) as info:
        engine.book_event(user=user, event=event)
    assert info.value.code == "event_changed"
    assert str(info.value.message) == "活动信息刚刚发生变化，请刷新后重试。"
    assert len(reads) == 3
    assert counts(event) == (0, 0)
    assert not Booking.objects.filter(event=event).exists()
    assert not Outbox.objects.filter(recipient=user).exists()


def test_the_waitlist_is_in_the_order_the_lock_let_people_in_not_the_order_of_their_clocks():
    """``created_at`` is PostgreSQL's clock once the lock is taken, not the ``now`` the request
    read earlier: a request that read its clock later but reached the lock first is served first."""
    event = EventFactory(capacity=1, waitlist_limit=5)
    engine.book_event(user=UserFactory(), event=event)
    now = timezone.now()
    first = engine.book_event(user=UserFactory(), event=event, now=now + US)
    second = engine.book_event(user=UserFactory(), event=event, now=now)
    assert first.created_at < second.created_at
    assert [engine.waitlist_position(b) for b in (first, second)] == [1, 2]
    assert Booking.objects.get(pk=first.pk).created_at == first.created_at
