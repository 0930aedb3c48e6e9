"""The database refuses what the services models forbid, whichever way the rows are written."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from services.models import Booking, Event, SpaceOccupancy, SpaceReservation
from tests.services.factories import (
    BookingFactory,
    EventFactory,
    SpaceFactory,
    SpaceReservationFactory,
)

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


def refused(constraint: str):
    """The block must raise IntegrityError naming ``constraint`` (and is rolled back to a savepoint)."""
    return _Refused(constraint)


class _Refused:
    def __init__(self, constraint):
        self.constraint = constraint

    def __enter__(self):
        self.raises = pytest.raises(IntegrityError, match=self.constraint)
        self.raises.__enter__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def __exit__(self, *exc):
        self.atomic.__exit__(*exc)
        # Deferred checks (foreign keys) would only fire at commit; make them fire now.
        return self.raises.__exit__(*exc)


def at(hours: float) -> datetime.datetime:
    """A round time ``hours`` from now (five days ahead, so every window is open)."""
    base = (timezone.now() + datetime.timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    return base + datetime.timedelta(hours=hours)


def event_at(space, start_h: float, end_h: float, **kwargs) -> Event:
    starts, ends = at(start_h), at(end_h)
    return EventFactory(
        space=space,
        starts_at=starts,
        ends_at=ends,
        booking_opens_at=starts - datetime.timedelta(days=7),
        booking_closes_at=starts,
        cancel_deadline=starts - H,
        **kwargs,
    )


def reservation_at(space, start_h: float, end_h: float, **kwargs) -> SpaceReservation:
    return SpaceReservationFactory(space=space, starts_at=at(start_h), ends_at=at(end_h), **kwargs)


# --- Event --------------------------------------------------------------------------------------


def test_event_capacity_must_be_positive():
    with refused("services_event_capacity_positive"):
        EventFactory(capacity=0)


def test_event_must_end_after_it_starts():
    start = at(0)
    with refused("services_event_ends_after_start"):
        EventFactory(starts_at=start, ends_at=start, booking_closes_at=start, cancel_deadline=start - H)


def test_event_booking_window_must_close_after_it_opens():
    start = at(0)
    with refused("services_event_booking_window"):
        EventFactory(starts_at=start, booking_opens_at=start - H, booking_closes_at=start - 2 * H)


def test_event_booking_window_must_close_by_the_end():
    start = at(0)
    with refused("services_event_booking_window"):
        EventFactory(starts_at=start, ends_at=start + H, booking_closes_at=start + 2 * H)


def test_event_cancel_deadline_not_after_start():
    start = at(0)
    with refused("services_event_cancel_deadline_before_start"):
        EventFactory(starts_at=start, cancel_deadline=start + datetime.timedelta(minutes=1))


def test_event_booking_cannot_open_after_it_starts():
    start = at(0)
    with refused("services_event_booking_opens_before_start"):
        EventFactory(starts_at=start, booking_opens_at=start + H, booking_closes_at=start + 2 * H)
    late = EventFactory.build(
        space=SpaceFactory(), starts_at=start, booking_opens_at=start + H, booking_closes_at=start + 2 * H
    )
    with pytest.raises(ValidationError) as info:
        late.full_clean()
    assert info.value.message_dict == {"booking_opens_at": ["开始报名时间不能晚于活动开始。"]}
    # Opening at the start itself is allowed (a walk-in session booked on the spot).
    assert EventFactory(starts_at=start, booking_opens_at=start, booking_closes_at=start + H).pk


def test_counselling_is_a_one_person_slot():
    with refused("services_event_counselling_one_person"):
        EventFactory(kind=Event.Kind.COUNSELLING, capacity=2)
    assert EventFactory(kind=Event.Kind.COUNSELLING, capacity=1).pk


def test_confirmed_count_can_never_exceed_capacity():
    event = EventFactory(capacity=3)
    with refused("services_event_not_overbooked"):
        Event.objects.filter(pk=event.pk).update(confirmed_count=4)
    Event.objects.filter(pk=event.pk).update(confirmed_count=3)
    with refused("services_event_not_overbooked"):
        Event.objects.filter(pk=event.pk).update(capacity=2)


def test_two_live_events_never_overlap_in_one_space():
    space = SpaceFactory()
    event_at(space, 0, 2)
    with refused("services_event_no_overlap_in_space"):
        event_at(space, 1, 3)
    # Back to back is fine ([start, end) ranges), another space is fine.
    event_at(space, 2, 3)
    event_at(SpaceFactory(), 1, 3)


def test_a_cancelled_event_does_not_hold_its_space():
    space = SpaceFactory()
    event_at(space, 0, 2, status=Event.Status.CANCELLED)
    assert event_at(space, 0, 2).pk


# --- Space: its capacity against what it holds ---------------------------------------------------


def space_errors(space) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        space.full_clean()
    return info.value.message_dict


def test_a_space_cannot_shrink_below_an_event_that_has_not_ended():
    space = SpaceFactory(capacity=100)
    event_at(space, 0, 2, capacity=30, title="小型党课")
    event_at(space, 3, 4, capacity=60, title="大型党课")
    space.capacity = 50
    # The largest such event is named (the one to move or reduce first).
    assert space_errors(space) == {
        "capacity": ["容纳人数不能少于本空间未结束的活动《大型党课》的名额（60人）。"]
    }
    space.capacity = 60
    space.full_clean()


def test_an_event_under_way_still_counts_one_ended_or_cancelled_does_not():
    space = SpaceFactory(capacity=100)
    ongoing = event_at(space, 0, 2, capacity=40)
    Event.objects.filter(pk=ongoing.pk).update(
        starts_at=timezone.now() - H,
        ends_at=timezone.now() + H,
        booking_opens_at=timezone.now() - 30 * H,
        booking_closes_at=timezone.now() - 2 * H,
        cancel_deadline=timezone.now() - 2 * H,
    )
    space.capacity = 39
    assert "capacity" in space_errors(space)
    Event.objects.filter(pk=ongoing.pk).update(ends_at=timezone.now() - datetime.timedelta(minutes=1))
    event_at(space, 5, 6, capacity=80, status=Event.Status.CANCELLED)
    space.full_clean()  # the event has ended, the other is cancelled: the room may shrink


def test_a_space_cannot_shrink_below_an_approved_reservation():
    space = SpaceFactory(capacity=100)
    reservation_at(space, 0, 2, attendees=70, purpose="支部主题党日", status=SpaceReservation.Status.APPROVED)
    reservation_at(space, 3, 4, attendees=90)  # a request holds nothing yet
    space.capacity = 69
    assert space_errors(space) == {
        "capacity": ["容纳人数不能少于本空间已批准的场地预约（支部主题党日）的预计人数（70人）。"]
    }
    space.capacity = 70
    space.full_clean()


# --- Booking ------------------------------------------------------------------------------------


def test_one_active_booking_per_event_and_person():
    booking = BookingFactory(status=Booking.Status.CONFIRMED)
    with refused("services_booking_one_active_per_user"):
        BookingFactory(event=booking.event, user=booking.user, status=Booking.Status.WAITLISTED)
    # A cancelled booking does not count: the person may book again.
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    assert BookingFactory(event=booking.event, user=booking.user, status=Booking.Status.CONFIRMED).pk


def test_checked_in_at_iff_attended():
    now = timezone.now()
    with refused("services_booking_checked_in_iff_attended"):
        BookingFactory(status=Booking.Status.ATTENDED, checked_in_at=None)
    with refused("services_booking_checked_in_iff_attended"):
        BookingFactory(status=Booking.Status.CONFIRMED, checked_in_at=now)
    assert BookingFactory(status=Booking.Status.ATTENDED, checked_in_at=now).pk


# --- SpaceReservation ---------------------------------------------------------------------------


def test_reservation_must_end_after_it_starts_and_have_attendees():
    with refused("services_spacereservation_ends_after_start"):
        reservation_at(SpaceFactory(), 2, 1)
    with refused("services_spacereservation_attendees_positive"):
        reservation_at(SpaceFactory(), 1, 2, attendees=0)


def test_approved_reservations_never_overlap_requested_ones_may():
    space = SpaceFactory()
    reservation_at(space, 0, 2, status=SpaceReservation.Status.APPROVED)
    pending = reservation_at(space, 1, 3)  # a request holds nothing
    with refused("services_spacereservation_no_overlap_approved"):
        SpaceReservation.objects.filter(pk=pending.pk).update(status=SpaceReservation.Status.APPROVED)


# --- Event vs approved reservation: SpaceOccupancy ----------------------------------------------


def test_occupancy_mirrors_live_events_and_approved_reservations():
    space = SpaceFactory()
    event = event_at(space, 0, 2)
    requested = reservation_at(space, 3, 4)
    approved = reservation_at(space, 5, 6, status=SpaceReservation.Status.APPROVED)
    rows = {(o.event_id, o.reservation_id, o.starts_at, o.ends_at) for o in SpaceOccupancy.objects.all()}
    assert rows == {
        (event.pk, None, event.starts_at, event.ends_at),
        (None, approved.pk, approved.starts_at, approved.ends_at),
    }
    assert not SpaceOccupancy.objects.filter(reservation=requested).exists()

    # Moving the event moves its occupancy; cancelling frees it.
    Event.objects.filter(pk=event.pk).update(starts_at=at(1), ends_at=at(3))
    assert SpaceOccupancy.objects.get(event=event).starts_at == at(1)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    assert not SpaceOccupancy.objects.filter(event=event).exists()
    SpaceReservation.objects.filter(pk=approved.pk).update(status=SpaceReservation.Status.CANCELLED)
    assert not SpaceOccupancy.objects.exists()


def test_an_event_cannot_be_created_over_an_approved_reservation():
    space = SpaceFactory()
    reservation_at(space, 0, 2, status=SpaceReservation.Status.APPROVED)
    with refused("services_spaceoccupancy_no_overlap"):
        event_at(space, 1, 3)
    assert event_at(space, 2, 3).pk  # right after is fine


def test_a_reservation_cannot_be_approved_over_an_event_by_any_write_path():
    space = SpaceFactory()
    event_at(space, 0, 2)
    pending = reservation_at(space, 1, 3)
    with refused("services_spaceoccupancy_no_overlap"):
        SpaceReservation.objects.filter(pk=pending.pk).update(status=SpaceReservation.Status.APPROVED)
    with refused("services_spaceoccupancy_no_overlap"):
        reservation_at(space, 1, 3, status=SpaceReservation.Status.APPROVED)


def test_moving_or_reviving_an_event_into_a_reserved_slot_is_refused():
    space = SpaceFactory()
    reservation_at(space, 4, 6, status=SpaceReservation.Status.APPROVED)
    event = event_at(space, 0, 2)
    with refused("services_spaceoccupancy_no_overlap"):
        Event.objects.filter(pk=event.pk).update(ends_at=at(5), booking_closes_at=at(0))
    cancelled = event_at(space, 4, 5, status=Event.Status.CANCELLED)
    with refused("services_spaceoccupancy_no_overlap"):
        Event.objects.filter(pk=cancelled.pk).update(status=Event.Status.PUBLISHED)
    other_space = SpaceFactory()
    moved = event_at(other_space, 4, 5)
    with refused("services_spaceoccupancy_no_overlap"):
        Event.objects.filter(pk=moved.pk).update(space=space)


def test_bulk_insert_is_covered_and_a_clash_in_the_batch_is_refused():
    space = SpaceFactory()
    reservation_at(space, 10, 12, status=SpaceReservation.Status.APPROVED)
    template = EventFactory.build(space=space)

    def build(start_h, end_h):
        starts, ends = at(start_h), at(end_h)
        return Event(
            space=space,
            title=template.title,
            kind=template.kind,
            starts_at=starts,
            ends_at=ends,
            capacity=10,
            booking_opens_at=starts - datetime.timedelta(days=7),
            booking_closes_at=starts,
            cancel_deadline=starts - H,
            status=Event.Status.PUBLISHED,
        )

    Event.objects.bulk_create([build(h, h + 1) for h in range(0, 10)])
    assert SpaceOccupancy.objects.filter(event__isnull=False).count() == 10
    with refused("services_spaceoccupancy_no_overlap"):
        Event.objects.bulk_create([build(20, 21), build(11, 13)])
    assert SpaceOccupancy.objects.filter(event__isnull=False).count() == 10


def test_deleting_an_event_or_reservation_frees_the_space():
    space = SpaceFactory()
    event = event_at(space, 0, 2)
    approved = reservation_at(space, 3, 4, status=SpaceReservation.Status.APPROVED)
    event.delete()
    approved.delete()
    with connection.cursor() as cursor:  # foreign keys are deferred: check them now, not at commit
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not SpaceOccupancy.objects.exists()
    assert reservation_at(space, 0, 4, status=SpaceReservation.Status.APPROVED).pk


def test_occupancy_has_exactly_one_owner():
    event = EventFactory()
    reservation = SpaceReservationFactory()
    with refused("services_spaceoccupancy_exactly_one_owner"), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO services_spaceoccupancy (space_id, starts_at, ends_at, event_id, reservation_id) "
            "VALUES (%s, %s, %s, %s, %s)",
            [event.space_id, at(50), at(51), event.pk, reservation.pk],
        )
    with refused("services_spaceoccupancy_exactly_one_owner"), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO services_spaceoccupancy (space_id, starts_at, ends_at) VALUES (%s, %s, %s)",
            [event.space_id, at(50), at(51)],
        )


def test_booking_counter_updates_leave_the_occupancy_row_alone():
    """The update trigger fires only when space, times or status change (cheap for the engine)."""
    event = EventFactory()
    occupancy_id = SpaceOccupancy.objects.get(event=event).pk

    def row_version():
        with connection.cursor() as cursor:
            cursor.execute("SELECT ctid::text FROM services_spaceoccupancy WHERE id = %s", [occupancy_id])
            return cursor.fetchone()[0]

    before = row_version()
    Event.objects.filter(pk=event.pk).update(confirmed_count=2, waitlist_count=1, title="改名")
    assert row_version() == before  # no new row version written
    Event.objects.filter(pk=event.pk).update(ends_at=event.ends_at + H)
    assert row_version() != before
    assert SpaceOccupancy.objects.get(pk=occupancy_id).ends_at == event.ends_at + H


# --- clean(): the cross-table rule for forms (admin, API) ---------------------------------------


def test_event_clean_names_the_reservation_it_clashes_with():
    space = SpaceFactory()
    reservation_at(space, 0, 2, status=SpaceReservation.Status.APPROVED, purpose="支部主题党日")
    event = EventFactory.build(
        space=space,
        starts_at=at(1),
        ends_at=at(3),
        booking_opens_at=at(-100),
        booking_closes_at=at(1),
        cancel_deadline=at(0),
    )
    with pytest.raises(ValidationError) as info:
        event.full_clean()
    [message] = info.value.message_dict["starts_at"]
    assert "已批准的场地预约（支部主题党日）冲突" in message


def test_reservation_clean_names_the_event_it_clashes_with():
    space = SpaceFactory()
    event_at(space, 0, 2, title="安全生产讲座")
    pending = reservation_at(space, 1, 3)
    pending.full_clean()  # a request holds nothing: no clash yet
    pending.status = SpaceReservation.Status.APPROVED
    with pytest.raises(ValidationError) as info:
        pending.full_clean()
    assert info.value.message_dict["starts_at"] == ["该时段与活动《安全生产讲座》冲突。"]


def test_rebuild_space_occupancy_repairs_writes_made_with_the_triggers_off():
    import pgtrigger

    from services.reservations import rebuild_space_occupancy

    space = SpaceFactory()
    kept = event_at(space, 0, 2)
    with pgtrigger.ignore("services.Event:occupancy_insert", "services.SpaceReservation:occupancy_insert"):
        hidden = event_at(space, 3, 4)
        approved = reservation_at(space, 5, 6, status=SpaceReservation.Status.APPROVED)
        reservation_at(space, 5, 6)  # a request: holds nothing
    assert list(SpaceOccupancy.objects.values_list("event_id", flat=True)) == [kept.pk]
    assert rebuild_space_occupancy() == 3
    assert set(SpaceOccupancy.objects.values_list("event_id", "reservation_id")) == {
        (kept.pk, None),
        (hidden.pk, None),
        (None, approved.pk),
    }
    with pgtrigger.ignore("services.Event:occupancy_insert"):
        event_at(space, 5, 6)  # the triggers would have refused this clash
    with refused("services_spaceoccupancy_no_overlap"):
        rebuild_space_occupancy()
