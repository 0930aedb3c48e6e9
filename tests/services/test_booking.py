"""The booking engine (services/booking.py): rules, messages, waitlist order, check-in, no-shows.

Every refused rule is checked for its code, its exact message, and that the
database is exactly as it was before the attempt.
"""

import datetime
import pickle
import types

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.notifications.models import Outbox as NotificationOutbox
from services import booking as engine
from services.booking import BookingError
from services.models import Booking, Event, SpaceOccupancy, VolunteerHours
from services.notifications import Kind
from services.tasks import mark_no_shows_task
from tests.members.factories import PartyMemberFactory, SocialWorkerFactory, StaffUserFactory, UserFactory
from tests.services.factories import (
    BookingFactory,
    CommunityPlaceFactory,
    EventFactory,
    SpaceFactory,
    VolunteerShiftFactory,
)

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)


def local(dt, fmt="%Y-%m-%d %H:%M"):
    return timezone.localtime(dt).strftime(fmt)


def snapshot(event: Event):
    """Everything the engine could have changed about ``event``."""
    row = Event.objects.filter(pk=event.pk).values().get()
    bookings = list(Booking.objects.filter(event_id=event.pk).order_by("pk").values())
    return row, bookings


def assert_refused(event, code, message, action):
    """``action()`` raises BookingError(code, message) and leaves ``event`` and its bookings untouched."""
    before = snapshot(event)
    with pytest.raises(BookingError) as info:
        action()
    assert info.value.code == code
    assert str(info.value.message) == message
    assert snapshot(event) == before
    return info.value


def shift(event: Event, delta: datetime.timedelta) -> Event:
    """Move an event and all its deadlines in time (as if the clock had moved the other way)."""
    fields = ("starts_at", "ends_at", "booking_opens_at", "booking_closes_at", "cancel_deadline")
    Event.objects.filter(pk=event.pk).update(**{f: getattr(event, f) + delta for f in fields})
    event.refresh_from_db()
    return event


def past_event(**kwargs) -> Event:
    now = timezone.now()
    return EventFactory(
        starts_at=now - 3 * H,
        ends_at=now - H,
        booking_opens_at=now - 10 * D,
        booking_closes_at=now - 3 * H,
        cancel_deadline=now - 4 * H,
        **kwargs,
    )


def soon_event(**kwargs) -> Event:
    """Starts in 30 minutes: bookable, and check-in is already open."""
    now = timezone.now()
    starts = now + 30 * datetime.timedelta(minutes=1)
    return EventFactory(
        starts_at=starts,
        ends_at=starts + 2 * H,
        booking_opens_at=now - 2 * D,
        booking_closes_at=starts,
        cancel_deadline=starts,
        **kwargs,
    )


def member_user():
    return UserFactory(party_member=PartyMemberFactory())


def fill(event: Event, n: int) -> list[Booking]:
    return [engine.book_event(user=UserFactory(), event=event) for _ in range(n)]


# --- book_event ---------------------------------------------------------------------------------


def test_book_confirms_while_seats_are_free_then_waitlists_in_order():
    event = EventFactory(capacity=2, waitlist_limit=5)
    first, second, third, fourth = fill(event, 4)
    assert [b.status for b in (first, second)] == [Booking.Status.CONFIRMED] * 2
    assert first.confirmed_at is not None
    assert [b.status for b in (third, fourth)] == [Booking.Status.WAITLISTED] * 2
    assert third.confirmed_at is None
    assert [engine.waitlist_position(b) for b in (first, third, fourth)] == [None, 1, 2]
    assert (event.confirmed_count, event.waitlist_count) == (2, 2)  # the caller's instance is kept in step
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (2, 2)


def test_waitlist_full_is_refused_and_changes_nothing():
    event = EventFactory(capacity=1, waitlist_limit=1)
    fill(event, 2)
    assert_refused(
        event,
        "waitlist_full",
        "名额已满，候补人数也已达上限。",
        lambda: engine.book_event(user=UserFactory(), event=event),
    )


def test_a_full_waitlist_is_refused_from_the_read_without_taking_the_lock():
    """Seats and waitlist both exactly full as read: refused by the read alone (one statement)."""
    event = EventFactory(capacity=1, waitlist_limit=1)
    fill(event, 2)
    user = UserFactory()
    with CaptureQueriesContext(connection) as ctx, pytest.raises(BookingError) as info:
        engine.book_event(user=user, event=event)
    assert info.value.code == "waitlist_full"
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1 and "FOR UPDATE" not in statements[0], statements


def test_a_person_the_event_is_not_for_is_told_who_it_is_for():
    rider = UserFactory(person_type="rider", platform="饿了么·长寿路站", building=None, enterprise=None)
    event = EventFactory()
    assert_refused(
        event,
        "employees_only",
        "该活动面向楼宇白领；骑手和社区居民可报名社区场所的活动和“面向社区开放”的活动。",
        lambda: engine.book_event(user=rider, event=event),
    )


def test_the_booking_returned_is_as_if_read_back_and_passes_the_models_checks():
    """Its constraints (one active booking per person) see it as the stored row, not a new one."""
    for capacity in (1, 0):
        event = EventFactory(capacity=max(capacity, 1))
        if capacity == 0:
            fill(event, 1)
        booking = engine.book_event(user=UserFactory(), event=event)
        assert booking._state.adding is False
        booking.full_clean()
        assert booking.status == (Booking.Status.CONFIRMED if capacity else Booking.Status.WAITLISTED)


def test_the_benchmark_is_told_the_databases_instants_of_the_lock_and_the_last_write(monkeypatch):
    """``core.bench.record_lock_hold`` gets PostgreSQL's clock when the seat statement took the
    event's lock and when it had written everything (the benchmark's "lock held" figure)."""
    from core import bench

    seen = []
    monkeypatch.setattr(bench, "record_lock_hold", lambda *args, **kwargs: seen.append((args, kwargs)))
    before = timezone.now()
    engine.book_event(user=UserFactory(), event=EventFactory())
    after = timezone.now()
    [(args, kwargs)] = seen
    assert kwargs == {} and len(args) == 2
    locked_at, written_at = args
    assert before <= locked_at <= written_at <= after


def test_no_waitlist_when_limit_is_zero():
    event = EventFactory(capacity=1, waitlist_limit=0)
    fill(event, 1)
    assert_refused(
        event,
        "waitlist_full",
        "名额已满，候补人数也已达上限。",
        lambda: engine.book_event(user=UserFactory(), event=event),
    )


def test_booking_before_the_window_opens_is_refused():
    now = timezone.now()
    event = EventFactory(booking_opens_at=now + D)
    assert_refused(
        event,
        "booking_not_open",
        f"报名尚未开始，将于 {local(event.booking_opens_at)} 开放。",
        lambda: engine.book_event(user=UserFactory(), event=event),
    )


def test_booking_after_the_window_closes_is_refused():
    now = timezone.now()
    event = EventFactory(booking_opens_at=now - 3 * D, booking_closes_at=now - H)
    assert_refused(
        event,
        "booking_closed",
        f"报名已于 {local(event.booking_closes_at)} 截止。",
        lambda: engine.book_event(user=UserFactory(), event=event),
    )


def test_booking_a_draft_is_refused():
    event = EventFactory(status=Event.Status.DRAFT)
    assert_refused(
        event, "event_draft", "该活动尚未发布。", lambda: engine.book_event(user=UserFactory(), event=event)
    )


def test_booking_a_cancelled_event_is_refused():
    event = EventFactory(status=Event.Status.CANCELLED)
    assert_refused(
        event, "event_cancelled", "该活动已取消。", lambda: engine.book_event(user=UserFactory(), event=event)
    )


def test_booking_a_past_event_is_refused():
    event = past_event()
    assert_refused(
        event, "event_past", "该活动已结束。", lambda: engine.book_event(user=UserFactory(), event=event)
    )


def test_members_only_event_refuses_non_members_and_accepts_members():
    event = EventFactory(audience=Event.Audience.PARTY_MEMBERS)
    assert_refused(
        event,
        "members_only",
        "该活动仅限党员报名。如您是党员，请先在“我的账号”中申请关联党员档案。",
        lambda: engine.book_event(user=UserFactory(), event=event),
    )
    assert engine.book_event(user=member_user(), event=event).status == Booking.Status.CONFIRMED


def test_a_second_active_booking_is_refused_confirmed_or_waitlisted():
    event = EventFactory(capacity=1)
    seated, waiting = UserFactory(), UserFactory()
    engine.book_event(user=seated, event=event)
    engine.book_event(user=waiting, event=event)
    for user in (seated, waiting):
        assert_refused(
            event,
            "already_booked",
            "您已预约过该活动。",
            lambda u=user: engine.book_event(user=u, event=event),
        )


def test_a_second_booking_is_refused_from_the_read_without_taking_the_lock():
    """The person's active booking is seen by the read (one statement): no lock, no insert tried."""
    event = EventFactory()
    user = UserFactory()
    engine.book_event(user=user, event=event)
    with CaptureQueriesContext(connection) as ctx, pytest.raises(BookingError) as info:
        engine.book_event(user=user, event=event)
    assert info.value.code == "already_booked"
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1 and statements[0].startswith("SELECT"), statements
    assert "FOR UPDATE" not in statements[0]


def test_a_rider_books_a_partners_place_in_two_statements():
    """Whether the place is a partner's comes with the read: the rider's booking is the read and
    the seat statement, with no query for the place or its station."""
    event = EventFactory(space=SpaceFactory(station=CommunityPlaceFactory()))
    rider = UserFactory(person_type="rider", platform="美团·曹杨站", building=None)
    engine.book_event(user=UserFactory(), event=EventFactory())  # the content types read and cached
    with CaptureQueriesContext(connection) as ctx:
        booking = engine.book_event(user=rider, event=event)
    assert booking.status == Booking.Status.CONFIRMED
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2, [sql[:70] for sql in statements]


def test_booking_an_event_that_is_gone_raises_as_the_orm_does():
    event = EventFactory()
    Event.objects.filter(pk=event.pk).delete()
    with pytest.raises(Event.DoesNotExist) as orm:
        Event.objects.get(pk=event.pk)
    with pytest.raises(Event.DoesNotExist) as info:
        engine.book_event(user=UserFactory(), event=event)
    assert info.value.args == orm.value.args == ("Event matching query does not exist.",)


def test_anonymous_user_is_asked_to_log_in():
    from django.contrib.auth.models import AnonymousUser

    event = EventFactory()
    assert_refused(
        event,
        "login_required",
        "请先登录再预约。",
        lambda: engine.book_event(user=AnonymousUser(), event=event),
    )


def test_booking_again_after_cancelling_is_allowed():
    event = EventFactory()
    user = UserFactory()
    engine.cancel_booking(booking=engine.book_event(user=user, event=event))
    again = engine.book_event(user=user, event=event)
    assert again.status == Booking.Status.CONFIRMED
    assert Booking.objects.filter(event=event, user=user).count() == 2


def test_counselling_slot_is_for_one_person():
    event = EventFactory(kind=Event.Kind.COUNSELLING, capacity=1)
    first, second = fill(event, 2)
    assert (first.status, second.status) == (Booking.Status.CONFIRMED, Booking.Status.WAITLISTED)
    assert_refused(
        event,
        "counselling_one_person",
        "心理咨询为一对一，名额必须为1。",
        lambda: engine.change_capacity(event=event, capacity=2),
    )


def test_book_event_query_count_is_bounded_and_independent_of_bookings(django_assert_max_num_queries):
    event = EventFactory(capacity=30)
    fill(event, 20)
    user = UserFactory()
    # savepoint, lock, exists, insert, update counters, the notification outbox insert, release
    with django_assert_max_num_queries(7):
        engine.book_event(user=user, event=event)
    full = EventFactory(capacity=1)
    fill(full, 1)
    with django_assert_max_num_queries(7):
        assert engine.book_event(user=user, event=full).status == Booking.Status.WAITLISTED


def test_the_seat_statement_reads_its_clock_after_writing_the_outcomes_notices(monkeypatch):
    """The seat statement's ``written_at`` (the end of the benchmark's "lock held") is read by the
    SELECT that also counts the notices it wrote, so it comes after them: the statement reports
    the number of notices of its outcome (a confirmation and its reminders, or a waitlist notice)."""
    seen = []
    take_seat = engine._take_seat

    def spy(booking, user, now, notices):
        row = take_seat(booking, user, now, notices)
        seen.append((row, {status: len(prepared.rows) for status, prepared in notices.items()}))
        return row

    monkeypatch.setattr(engine, "_take_seat", spy)
    event = EventFactory(capacity=1, starts_at=timezone.now() + 3 * D)
    for _ in range(2):
        engine.book_event(user=UserFactory(), event=event)
    (first, first_sizes), (second, second_sizes) = seen
    assert first[1] == Booking.Status.CONFIRMED and first[6] == first_sizes[Booking.Status.CONFIRMED] > 1
    assert (
        second[1] == Booking.Status.WAITLISTED and second[6] == second_sizes[Booking.Status.WAITLISTED] == 1
    )


def test_book_event_locks_the_event_row_last():
    """Issue 19: the event's lock is taken last. Everything else is read or prepared before it;
    one statement locks the event row (and nothing else) and writes the counters, the booking
    and its notices; nothing runs between it and the commit."""
    event, user = EventFactory(), UserFactory()
    with CaptureQueriesContext(connection) as ctx:
        engine.book_event(user=user, event=event)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert sqls[0].startswith("SAVEPOINT")
    assert sqls[1].startswith('SELECT "services_event"') and "FOR UPDATE" not in sqls[1]
    locking = [i for i, sql in enumerate(sqls) if "FOR UPDATE" in sql]
    assert len(locking) == 1
    assert sqls[locking[0]].count("FOR UPDATE") == 1 and "FROM services_event" in sqls[locking[0]]
    assert 'INSERT INTO "notifications_outbox"' in sqls[locking[0]]
    assert [sql.split()[0] for sql in sqls[locking[0] + 1 :]] == ["RELEASE"]


@pytest.mark.django_db(transaction=True)
def test_booking_outside_a_transaction_holds_the_lock_in_one_committed_statement():
    """Called outside any transaction (as a request calls it), the locking statement is the
    last one and a transaction of its own: PostgreSQL commits it, no COMMIT round trip follows;
    the booking, its counters, its notices and its history (with the request's context) are
    all there."""
    import pghistory

    event, user = EventFactory(capacity=1), UserFactory()
    assert connection.get_autocommit() and not connection.in_atomic_block
    with (
        pghistory.context(user=user.pk, url=f"/events/{event.pk}/book/"),
        CaptureQueriesContext(connection) as ctx,
    ):
        booking = engine.book_event(user=user, event=event)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert [i for i, sql in enumerate(sqls) if "FOR UPDATE" in sql] == [len(sqls) - 1]
    assert not any(sql.upper().startswith(("COMMIT", "SAVEPOINT", "RELEASE")) for sql in sqls)
    assert booking.status == Booking.Status.CONFIRMED
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (1, 0)
    kinds = set(
        NotificationOutbox.objects.filter(cause__startswith=f"booking:{booking.pk}").values_list(
            "kind", flat=True
        )
    )
    assert Kind.BOOKING_CONFIRMED in kinds
    history = pghistory.models.Events.objects.tracks(Booking.objects.get(pk=booking.pk)).get()
    assert history.pgh_context["user"] == user.pk and history.pgh_context["url"].endswith("/book/")
    # The next person is waitlisted the same way.
    second = engine.book_event(user=UserFactory(), event=event)
    assert second.status == Booking.Status.WAITLISTED and engine.waitlist_position(second) == 1


def test_a_booking_error_reads_as_its_message_and_survives_pickling():
    """The message is what str() shows (logs, admin messages); code and message survive a trip
    through pickle (a Celery result, another process) unchanged."""
    event = EventFactory(status=Event.Status.CANCELLED)
    with pytest.raises(BookingError) as info:
        engine.book_event(user=UserFactory(), event=event)
    assert str(info.value) == "该活动已取消。"
    # args are what repr(), error trackers and Celery's JSON results show
    assert info.value.args == ("event_cancelled", info.value.message)
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.code, str(copy.message), str(copy)) == (
        "event_cancelled",
        "该活动已取消。",
        "该活动已取消。",
    )


# --- cancel_booking and promotion ---------------------------------------------------------------


def test_cancel_frees_the_seat_for_the_head_of_the_waitlist():
    event = EventFactory(capacity=2, waitlist_limit=10)
    seated, _other, head, second, third = fill(event, 5)
    cancelled = engine.cancel_booking(booking=seated)
    assert cancelled.status == Booking.Status.CANCELLED and cancelled.cancelled_at is not None
    assert seated.status == Booking.Status.CANCELLED  # the caller's instance follows
    head.refresh_from_db()
    second.refresh_from_db()
    assert head.status == Booking.Status.CONFIRMED and head.confirmed_at is not None
    assert second.status == Booking.Status.WAITLISTED
    assert [engine.waitlist_position(b) for b in (second, third)] == [1, 2]
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (2, 2)


def test_cancelling_after_the_deadline_is_refused():
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    Event.objects.filter(pk=event.pk).update(cancel_deadline=timezone.now() - H)
    event.refresh_from_db()
    assert_refused(
        event,
        "cancel_deadline_passed",
        f"已过取消截止时间（{local(event.cancel_deadline)}），不能取消。如确有困难，请联系服务站。",
        lambda: engine.cancel_booking(booking=booking, by=booking.user),
    )


def test_staff_in_scope_may_cancel_after_the_deadline_and_the_waitlist_moves(street_a, social_worker):
    event = EventFactory(capacity=1, space__station__building__street=street_a)
    seated, waiting = fill(event, 2)
    Event.objects.filter(pk=event.pk).update(cancel_deadline=timezone.now() - H)
    engine.cancel_booking(booking=seated, by=social_worker)
    waiting.refresh_from_db()
    assert waiting.status == Booking.Status.CONFIRMED


def test_staff_of_another_street_and_other_people_may_not_cancel(street_b):
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    outsider = StaffUserFactory(streets=[street_b])
    # in the event's street, but without the permission to change bookings (no group)
    no_permission = StaffUserFactory(username="no_booking_permission", streets=[event.space.station.street])
    for by in (outsider, no_permission, UserFactory()):
        assert_refused(
            event,
            "not_owner",
            "只能取消本人的预约。",
            lambda by=by: engine.cancel_booking(booking=booking, by=by),
        )


def test_a_superuser_may_cancel_anyones_booking_but_not_once_deactivated():
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    Event.objects.filter(pk=event.pk).update(cancel_deadline=timezone.now() - H)
    event.refresh_from_db()
    from django.contrib.auth.models import AnonymousUser

    inactive_root = UserFactory(is_staff=True, is_superuser=True, is_active=False)
    for by in (inactive_root, AnonymousUser()):
        assert_refused(
            event,
            "not_owner",
            "只能取消本人的预约。",
            lambda by=by: engine.cancel_booking(booking=booking, by=by),
        )
    root = UserFactory(is_staff=True, is_superuser=True)  # no street: a superuser's territory is everything
    assert engine.cancel_booking(booking=booking, by=root).status == Booking.Status.CANCELLED


def test_the_returned_booking_carries_the_event_with_its_new_counts():
    event = EventFactory(capacity=1)
    seated, _waiting = fill(event, 2)
    cancelled = engine.cancel_booking(booking=Booking.objects.get(pk=seated.pk))
    assert cancelled.event_id == event.pk
    assert (cancelled.event.confirmed_count, cancelled.event.waitlist_count) == (1, 0)


def test_a_freed_seat_goes_to_this_events_waitlist_only():
    other = EventFactory(capacity=1)
    fill(other, 2)  # someone waits for the other event, longer than anyone here
    event = EventFactory(capacity=1)
    seated, waiting = fill(event, 2)
    assert engine.waitlist_position(waiting) == 1
    engine.cancel_booking(booking=seated)
    assert Booking.objects.get(pk=waiting.pk).status == Booking.Status.CONFIRMED
    assert list(Booking.objects.filter(event=other).values_list("status", flat=True)) == [
        Booking.Status.CONFIRMED,
        Booking.Status.WAITLISTED,
    ]
    assert Event.objects.filter(pk=other.pk).values_list("confirmed_count", "waitlist_count").get() == (1, 1)


def _promote_one_by_one(event: Event, n: int) -> list[int]:
    """Free one seat at a time (outside the engine) and collect who gets it."""
    order = []
    for _ in range(n):
        event.refresh_from_db()
        Event.objects.filter(pk=event.pk).update(capacity=event.capacity + 1)
        order += [b.pk for b in engine.promote_waitlist(event=event)]
    return order


def test_the_waitlist_is_served_by_time_of_booking_not_by_id():
    """First come, first served is by created_at: a row whose id is younger than its time of
    booking (restored from a backup, imported) keeps its place."""
    event = EventFactory(capacity=1)
    _seated, *waiting = fill(event, 4)
    t = timezone.now() - D
    for hours, booking in enumerate(reversed(waiting)):  # the highest id booked first
        Booking.objects.filter(pk=booking.pk).update(created_at=t + hours * H)
    expected = [b.pk for b in reversed(waiting)]
    positions = {b.pk: engine.waitlist_position(Booking.objects.get(pk=b.pk)) for b in waiting}
    assert [pk for pk, _ in sorted(positions.items(), key=lambda item: item[1])] == expected
    assert sorted(positions.values()) == [1, 2, 3]
    assert _promote_one_by_one(event, 3) == expected


def test_bookings_made_at_the_same_instant_are_served_by_id():
    """Equal created_at (a bulk import) falls back to the id, for the position shown and the promotion."""
    event = EventFactory(capacity=1)
    _seated, *waiting = fill(event, 7)
    t = timezone.now() - D
    for booking in reversed(waiting):  # stored in the reverse order of their ids
        Booking.objects.filter(pk=booking.pk).update(created_at=t)
    assert [engine.waitlist_position(Booking.objects.get(pk=b.pk)) for b in waiting] == [1, 2, 3, 4, 5, 6]
    with connection.cursor() as cursor:  # until the test's transaction ends: rows in the order stored
        # (an index would hand back ties in id order whatever the ORDER BY says)
        for scan in ("indexscan", "bitmapscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
    assert _promote_one_by_one(event, 6) == [b.pk for b in waiting]


def test_promoted_bookings_are_returned_confirmed():
    event = EventFactory(capacity=1)
    _seated, waiting = fill(event, 2)
    Event.objects.filter(pk=event.pk).update(capacity=2)
    (promoted,) = engine.promote_waitlist(event=event)
    assert promoted.pk == waiting.pk
    assert promoted.status == Booking.Status.CONFIRMED and promoted.confirmed_at is not None
    assert promoted.event.confirmed_count == 2


def test_a_seat_freed_with_nobody_waiting_does_not_read_the_waitlist():
    event = EventFactory(capacity=3)
    seated, _other = fill(event, 2)
    with CaptureQueriesContext(connection) as ctx:
        engine.cancel_booking(booking=seated)
    selects = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in selects if "'waitlisted'" in sql], selects
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (1, 0)


def test_leaving_the_waitlist_after_the_deadline_is_allowed():
    event = EventFactory(capacity=1)
    _seated, waiting = fill(event, 2)
    Event.objects.filter(pk=event.pk).update(cancel_deadline=timezone.now() - H)
    assert engine.cancel_booking(booking=waiting).status == Booking.Status.CANCELLED
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (1, 0)


def test_cancelling_twice_is_refused():
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    engine.cancel_booking(booking=booking)
    assert_refused(
        event,
        "not_cancellable",
        "该预约当前状态为“已取消”，不能取消。",
        lambda: engine.cancel_booking(booking=booking),
    )


def test_cancelling_after_the_event_ended_is_refused():
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    shift(event, -5 * D)
    assert_refused(
        event, "event_past", "活动已结束，预约不能再取消。", lambda: engine.cancel_booking(booking=booking)
    )


def test_promote_waitlist_fills_seats_freed_outside_the_engine_in_order():
    event = EventFactory(capacity=1)
    _seated, first, second, third = fill(event, 4)
    Event.objects.filter(pk=event.pk).update(capacity=3)  # e.g. an editor widened the event
    promoted = engine.promote_waitlist(event=event)
    assert [b.pk for b in promoted] == [first.pk, second.pk]
    assert engine.waitlist_position(Booking.objects.get(pk=third.pk)) == 1
    assert (event.confirmed_count, event.waitlist_count) == (3, 1)
    assert engine.promote_waitlist(event=event) == []  # nothing left to do


# --- change_capacity ----------------------------------------------------------------------------


def test_increasing_capacity_promotes_exactly_the_first_waiting():
    event = EventFactory(capacity=2)
    bookings = fill(event, 6)
    engine.change_capacity(event=event, capacity=4)
    statuses = [Booking.objects.get(pk=b.pk).status for b in bookings]
    assert statuses == [Booking.Status.CONFIRMED] * 4 + [Booking.Status.WAITLISTED] * 2
    assert (event.capacity, event.confirmed_count, event.waitlist_count) == (4, 4, 2)


def test_capacity_below_confirmed_is_refused():
    event = EventFactory(capacity=5)
    fill(event, 4)
    assert_refused(
        event,
        "capacity_below_confirmed",
        "名额不能少于已确认的人数（4人）。",
        lambda: engine.change_capacity(event=event, capacity=3),
    )
    engine.change_capacity(event=event, capacity=4)
    event.refresh_from_db()
    assert (event.capacity, event.confirmed_count) == (4, 4)


def test_capacity_must_be_positive_and_fit_the_room():
    event = EventFactory(capacity=5, space__capacity=40)
    assert_refused(
        event, "capacity_invalid", "名额必须大于0。", lambda: engine.change_capacity(event=event, capacity=0)
    )
    assert_refused(
        event,
        "capacity_exceeds_space",
        "名额不能超过空间容纳人数（40人）。",
        lambda: engine.change_capacity(event=event, capacity=41),
    )


def test_capacity_of_a_cancelled_or_ended_event_cannot_change():
    cancelled = EventFactory(capacity=5)
    engine.cancel_event(event=cancelled)
    assert_refused(
        cancelled,
        "event_cancelled",
        "该活动已取消。",
        lambda: engine.change_capacity(event=cancelled, capacity=6),
    )
    ended = past_event(capacity=5)
    assert_refused(
        ended, "event_past", "该活动已结束。", lambda: engine.change_capacity(event=ended, capacity=6)
    )


def test_capacity_may_be_one_or_exactly_the_rooms_capacity():
    event = EventFactory(capacity=5, space__capacity=40)
    assert engine.change_capacity(event=event, capacity=40).capacity == 40
    assert engine.change_capacity(event=event, capacity=1).capacity == 1
    event.refresh_from_db()
    assert event.capacity == 1


def test_a_capacity_change_marks_the_event_as_updated():
    """updated_at is what the notification de-duplication stamp of "the event changed" hangs on."""
    event = EventFactory(capacity=5)
    Event.objects.filter(pk=event.pk).update(updated_at=timezone.now() - D)
    before = timezone.now()
    engine.change_capacity(event=event, capacity=6)
    assert Event.objects.get(pk=event.pk).updated_at >= before
    # Unchanged capacity: nothing written, not even the stamp.
    Event.objects.filter(pk=event.pk).update(updated_at=before - D)
    engine.change_capacity(event=event, capacity=6)
    assert Event.objects.get(pk=event.pk).updated_at == before - D


# --- cancel_event -------------------------------------------------------------------------------


def test_cancelling_an_event_cancels_its_bookings_and_frees_the_space(street_a, social_worker):
    event = EventFactory(capacity=2, space__station__building__street=street_a)
    bookings = fill(event, 3)
    assert SpaceOccupancy.objects.filter(event=event).exists()
    engine.cancel_event(event=event, by=social_worker)
    assert event.status == Event.Status.CANCELLED
    assert {b.status for b in Booking.objects.filter(pk__in=[b.pk for b in bookings])} == {
        Booking.Status.CANCELLED
    }
    assert not Booking.objects.filter(event=event, cancelled_at__isnull=True).exists()
    event.refresh_from_db()
    assert (event.status, event.confirmed_count, event.waitlist_count) == (Event.Status.CANCELLED, 0, 0)
    assert not SpaceOccupancy.objects.filter(event=event).exists()
    assert_refused(
        event, "event_cancelled", "该活动已取消。", lambda: engine.book_event(user=UserFactory(), event=event)
    )
    assert_refused(event, "event_cancelled", "该活动已取消。", lambda: engine.cancel_event(event=event))


def test_cancelling_an_event_keeps_the_seats_of_those_who_checked_in():
    event = soon_event(capacity=3)
    came, booked, _waiting_none = fill(event, 3)
    engine.check_in(code=engine.checkin_code(came))
    Event.objects.filter(pk=event.pk).update(updated_at=timezone.now() - D)
    before = timezone.now()
    engine.cancel_event(event=event)
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (1, 0)  # the attended seat stays on record
    assert event.updated_at >= before
    assert Booking.objects.get(pk=came.pk).status == Booking.Status.ATTENDED
    assert Booking.objects.get(pk=booked.pk).status == Booking.Status.CANCELLED


def test_cancelling_an_event_tells_exactly_those_booked_or_waiting():
    event = EventFactory(capacity=2)
    seated, left, waiting = fill(event, 3)
    engine.cancel_booking(booking=left)  # its seat goes to `waiting`
    engine.cancel_booking(booking=seated)  # a seat free, nobody waits
    late, queued = fill(event, 2)  # `late` takes the seat, `queued` waits
    fill(EventFactory(), 1)  # someone booked for another event
    engine.cancel_event(event=event)
    told = NotificationOutbox.objects.filter(kind=Kind.EVENT_CANCELLED)
    assert sorted(told.values_list("subject_id", flat=True)) == sorted([waiting.pk, late.pk, queued.pk])
    assert {row.subject.__class__ for row in told} == {Booking}
    assert set(told.values_list("topic", flat=True)) == {f"event:{event.pk}"}
    assert sorted(told.values_list("context__booking_status", flat=True)) == [
        Booking.Status.CONFIRMED,
        Booking.Status.CONFIRMED,
        Booking.Status.WAITLISTED,
    ]


def test_cancelling_an_event_is_for_staff_in_scope(street_b):
    event = EventFactory()
    fill(event, 2)
    assert_refused(
        event,
        "forbidden",
        "您无权管理该活动。",
        lambda: engine.cancel_event(event=event, by=StaffUserFactory(streets=[street_b])),
    )
    # in the event's street but without the permission to change events: refused too
    no_permission = StaffUserFactory(username="no_event_permission", streets=[event.space.station.street])
    assert_refused(
        event, "forbidden", "您无权管理该活动。", lambda: engine.cancel_event(event=event, by=no_permission)
    )


def test_cancelling_a_past_event_is_refused():
    event = past_event()
    assert_refused(event, "event_past", "该活动已结束，不能取消。", lambda: engine.cancel_event(event=event))


# --- check-in -----------------------------------------------------------------------------------


def test_checkin_code_is_short_signed_and_checks_in_once():
    event = soon_event()
    booking = engine.book_event(user=UserFactory(), event=event)
    code = engine.checkin_code(booking)
    assert code.startswith(f"{booking.pk}-{event.pk}.") and len(code) <= 40
    assert code != engine.checkin_code(engine.book_event(user=UserFactory(), event=event))
    attended = engine.check_in(code=f"  {code.lower()} ", event=event)
    assert attended.pk == booking.pk
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED and booking.checked_in_at is not None
    event.refresh_from_db()
    assert event.confirmed_count == 2  # an attended person still holds their seat
    assert_refused(
        event,
        "checkin_already_used",
        f"该预约已于 {local(booking.checked_in_at, '%H:%M')} 签到。",
        lambda: engine.check_in(code=code, event=event),
    )


def test_checkin_code_typed_with_lookalike_digits_is_accepted():
    event = soon_event(capacity=30)
    typed_with_digits = 0
    for _ in range(30):
        booking = engine.book_event(user=UserFactory(), event=event)
        head, sig = engine.checkin_code(booking).rsplit(".", 1)
        typed = head + "." + sig.replace("O", "0").replace("I", "1").replace("B", "8")
        typed_with_digits += typed[len(head) :] != "." + sig
        assert engine.check_in(code=typed).pk == booking.pk
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    assert typed_with_digits >= 5  # most signatures hold an O, I or B: the digits were really read


def test_checkin_codes_stay_the_same_from_release_to_release(settings):
    """Codes already on people's phones must still check in after an upgrade: the same booking,
    event and key give the same code, a 12-character signature (60 bits)."""
    settings.SECRET_KEY = "golden-key-for-the-check-in-code-test-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = []
    assert engine.checkin_code(Booking(pk=1234, event_id=56)) == "1234-56.RS276OUQOQ5V"
    code = engine.checkin_code(Booking(pk=987654, event_id=4321))
    assert code == "987654-4321.EAV3XSZYSBTN"
    assert len(code.rsplit(".", 1)[1]) == 12


@pytest.mark.parametrize(
    "code", ["", "hello", "12-34", "12.ABCDEFGHIJKL", "12-34.abc!@#", "x-1.ABCDEFGHIJKL"]
)
def test_malformed_codes_are_not_recognised(code):
    event = soon_event()
    engine.book_event(user=UserFactory(), event=event)
    assert_refused(
        event, "checkin_unrecognised", "未识别，请核对签到码。", lambda: engine.check_in(code=code)
    )


def test_tampered_codes_are_recognised():
    event = soon_event()
    booking = engine.book_event(user=UserFactory(), event=event)
    other = engine.book_event(user=UserFactory(), event=event)
    code = engine.checkin_code(booking)
    head, sig = code.rsplit(".", 1)
    flipped = head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    someone_elses = f"{other.pk}-{event.pk}.{sig}"  # another booking id under my signature
    for bad in (flipped, someone_elses):
        assert_refused(
            event, "checkin_tampered", "签到码已被篡改。", lambda bad=bad: engine.check_in(code=bad)
        )


def test_a_validly_signed_code_for_a_missing_booking_is_invalid():
    event = soon_event()
    ghost = Booking(pk=987654, event_id=event.pk)
    assert_refused(
        event, "checkin_invalid", "签到码无效。", lambda: engine.check_in(code=engine.checkin_code(ghost))
    )


def test_a_signed_code_naming_a_missing_event_or_the_wrong_event_is_invalid():
    event = soon_event()
    booking = engine.book_event(user=UserFactory(), event=event)
    other = soon_event()
    for forged in (Booking(pk=booking.pk, event_id=987654), Booking(pk=booking.pk, event_id=other.pk)):
        # validly signed (e.g. by an older release, or for a deleted event), but not this booking's event
        assert_refused(
            event,
            "checkin_invalid",
            "签到码无效。",
            lambda f=forged: engine.check_in(code=engine.checkin_code(f)),
        )
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


def test_a_confirmed_booking_of_a_cancelled_event_cannot_check_in():
    event = soon_event()
    booking = BookingFactory(event=event)  # a raw row: the engine would have cancelled it
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    assert_refused(
        event, "event_cancelled", "该活动已取消。", lambda: engine.check_in(code=engine.checkin_code(booking))
    )


def test_check_in_returns_the_booking_with_its_event():
    event = soon_event(title="青年联谊会")
    booking = engine.book_event(user=UserFactory(), event=event)
    attended = engine.check_in(code=engine.checkin_code(booking))
    assert (attended.event_id, attended.event.title) == (event.pk, "青年联谊会")


def test_codes_survive_secret_key_rotation(settings):
    event = soon_event()
    booking = engine.book_event(user=UserFactory(), event=event)
    code = engine.checkin_code(booking)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-after-rotation-" + "x" * 40
    assert engine.check_in(code=code).status == Booking.Status.ATTENDED


def test_a_code_of_another_event_says_which_event():
    event = soon_event(title="消防安全讲座")
    other = soon_event()
    code = engine.checkin_code(engine.book_event(user=UserFactory(), event=event))
    assert_refused(
        event,
        "checkin_wrong_event",
        "该签到码属于另一场活动《消防安全讲座》。",
        lambda: engine.check_in(code=code, event=other),
    )


def test_waitlisted_cancelled_and_no_show_bookings_cannot_check_in():
    event = soon_event(capacity=1)
    _seated, waiting, leaving = fill(event, 3)
    engine.cancel_booking(booking=leaving)
    assert_refused(
        event,
        "checkin_not_confirmed",
        "该预约仍在候补中，尚未获得名额，不能签到。",
        lambda: engine.check_in(code=engine.checkin_code(waiting)),
    )
    assert_refused(
        event,
        "checkin_not_confirmed",
        "该预约已取消，不能签到。",
        lambda: engine.check_in(code=engine.checkin_code(leaving)),
    )
    no_show = BookingFactory(event=past_event(), status=Booking.Status.NO_SHOW)
    assert_refused(
        no_show.event,
        "checkin_not_confirmed",
        "该预约已被记为未到场，不能签到。",
        lambda: engine.check_in(code=engine.checkin_code(no_show)),
    )


def test_checkin_opens_one_hour_before_the_start_and_closes_at_the_end():
    event = EventFactory()  # three days ahead
    booking = engine.book_event(user=UserFactory(), event=event)
    code = engine.checkin_code(booking)
    assert_refused(
        event,
        "checkin_too_early",
        f"签到将于 {local(event.starts_at - H)} 开始。",
        lambda: engine.check_in(code=code),
    )
    shift(event, -(event.ends_at - timezone.now()) - H)  # now it ended an hour ago
    assert_refused(event, "checkin_closed", "活动已结束，签到已关闭。", lambda: engine.check_in(code=code))


def test_checkin_by_staff_of_another_street_is_refused(street_a, street_b, social_worker, district_staff):
    event = soon_event(space__station__building__street=street_a)
    code = engine.checkin_code(engine.book_event(user=UserFactory(), event=event))
    # another street's social worker; the district's staff, whose group only reads bookings
    for by in (SocialWorkerFactory(streets=[street_b]), district_staff):
        assert_refused(
            event,
            "forbidden",
            "您无权为该活动签到。",
            lambda by=by: engine.check_in(code=code, event=event, by=by),
        )
    assert engine.check_in(code=code, event=event, by=social_worker).status == Booking.Status.ATTENDED


def test_checkin_qr_is_a_full_qr_code_of_the_code():
    event = soon_event()
    booking = engine.book_event(user=UserFactory(), event=event)
    # segno picks a Micro QR for short texts, which phone cameras and jsQR cannot read
    assert engine.checkin_qr(booking).is_micro is False
    svg = engine.checkin_qr_svg(booking)
    assert svg.startswith("<svg") and 'class="qr"' in svg and "path" in svg


def test_checkin_qr_is_never_a_micro_qr_even_for_the_shortest_codes():
    assert engine.checkin_qr(Booking(pk=1, event_id=2)).is_micro is False


def test_checkin_qr_keeps_medium_error_correction_for_long_codes():
    """Level M (15 % of the symbol may be lost: glare, a cracked screen), even where a smaller
    low-correction symbol would fit the code."""
    qr = engine.checkin_qr(Booking(pk=123456, event_id=7890))
    assert qr.error in {"M", "Q", "H"}


def test_checkin_qr_svg_scales_with_css_on_a_white_quiet_zone():
    event = soon_event()
    booking = engine.book_event(user=UserFactory(), event=event)
    qr = engine.checkin_qr(booking)
    svg = engine.checkin_qr_svg(booking)
    side = qr.symbol_size(scale=6, border=2)[0]
    assert svg.startswith(f'<svg viewBox="0 0 {side} {side}" class="qr">')  # no width/height: CSS sizes it
    assert 'transform="scale(6)"' in svg
    modules = qr.symbol_size(scale=1, border=2)[0]
    assert f'<path fill="#fff" d="M0 0h{modules}v{modules}h-{modules}z"/>' in svg  # white background
    assert 'stroke="#000"' in svg  # black modules


# --- no-shows -----------------------------------------------------------------------------------


def _ended_event_with_bookings():
    event = soon_event(capacity=3)
    came, missed, left = fill(event, 3)
    engine.check_in(code=engine.checkin_code(came))
    engine.cancel_booking(booking=left)
    shift(event, -(event.ends_at - timezone.now()) - H)
    return event, came, missed, left


def test_mark_no_shows_marks_only_confirmed_bookings_of_ended_events_and_is_idempotent():
    event, came, missed, left = _ended_event_with_bookings()
    upcoming = EventFactory()
    future = engine.book_event(user=UserFactory(), event=upcoming)
    assert engine.mark_no_shows() == 1
    statuses = {b.pk: b.status for b in Booking.objects.all()}
    assert statuses[missed.pk] == Booking.Status.NO_SHOW
    assert statuses[came.pk] == Booking.Status.ATTENDED
    assert statuses[left.pk] == Booking.Status.CANCELLED
    assert statuses[future.pk] == Booking.Status.CONFIRMED
    assert engine.mark_no_shows() == 0
    event.refresh_from_db()
    assert event.confirmed_count == 2  # seats taken stay taken: attended + no-show


def test_mark_no_shows_respects_the_given_now():
    event, _came, missed, _left = _ended_event_with_bookings()
    assert engine.mark_no_shows(now=event.ends_at - H) == 0
    assert engine.mark_no_shows(now=event.ends_at) == 1
    missed.refresh_from_db()
    assert missed.status == Booking.Status.NO_SHOW


def test_mark_no_shows_command_and_task():
    _ended_event_with_bookings()
    from io import StringIO

    out = StringIO()
    call_command("mark_no_shows", stdout=out)
    assert "已标记 1 个未到场预约" in out.getvalue()
    _ended_event_with_bookings()
    assert mark_no_shows_task() == 1


def test_mark_no_shows_leaves_the_waitlist_of_an_ended_event_alone():
    event = soon_event(capacity=1)
    seated, waiting = fill(event, 2)
    assert engine.mark_no_shows(now=event.ends_at) == 1
    assert Booking.objects.get(pk=seated.pk).status == Booking.Status.NO_SHOW
    assert Booking.objects.get(pk=waiting.pk).status == Booking.Status.WAITLISTED


def test_mark_no_shows_works_through_every_batch_and_counts_them_all(monkeypatch):
    monkeypatch.setattr(engine, "_NO_SHOW_CHUNK", 2)
    events = [EventFactory(starts_at=timezone.now() + (3 + i) * D) for i in range(5)]
    missed = [
        engine.book_event(user=UserFactory(), event=e) for i, e in enumerate(events) for _ in range(i % 2 + 1)
    ]
    with CaptureQueriesContext(connection) as ctx:
        assert engine.mark_no_shows(now=events[-1].ends_at) == len(missed) == 7
    assert set(Booking.objects.values_list("status", flat=True)) == {Booking.Status.NO_SHOW}
    # Five events in batches of two: three transactions, each locking its batch.
    assert sum("FOR UPDATE" in q["sql"] for q in ctx.captured_queries) == 3


def test_mark_no_shows_with_nothing_to_mark_locks_nothing(django_assert_num_queries):
    """Ended events with no confirmed booking left, and events still to come, are not even locked."""
    done = soon_event(capacity=2)
    came, left = fill(done, 2)
    engine.check_in(code=engine.checkin_code(came))
    engine.cancel_booking(booking=left)
    engine.book_event(user=UserFactory(), event=EventFactory(starts_at=done.starts_at + 5 * D))
    with django_assert_num_queries(1):
        assert engine.mark_no_shows(now=done.ends_at + H) == 0


def test_an_event_extended_while_no_shows_are_being_marked_is_left_alone(monkeypatch):
    """The events are found, then locked: one moved later in between (an editor extended it) is
    re-checked under the lock and its bookings stay confirmed."""
    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    now = event.ends_at + H
    real_atomic = engine.transaction.atomic

    def atomic_after_an_edit(*args, **kwargs):
        Event.objects.filter(pk=event.pk).update(ends_at=now + D)
        return real_atomic(*args, **kwargs)

    monkeypatch.setattr(engine, "transaction", types.SimpleNamespace(atomic=atomic_after_an_edit))
    assert engine.mark_no_shows(now=now) == 0
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


# --- booking_action: the one button -------------------------------------------------------------


def _action(user, event):
    before = snapshot(event)
    action = engine.booking_action(user=user, event=event)
    assert snapshot(event) == before
    return action.kind, str(action.label), action.enabled, str(action.reason)


def test_booking_action_for_each_situation():
    from django.contrib.auth.models import AnonymousUser

    user = UserFactory()
    now = timezone.now()
    event = EventFactory(capacity=3, waitlist_limit=1)
    assert _action(AnonymousUser(), event) == ("login", "登录后预约", True, "请先登录再预约。")
    assert _action(user, event) == ("book", "立即预约", True, "剩余3个名额。")
    fill(event, 1)
    event.refresh_from_db()
    assert _action(user, event) == ("book", "立即预约", True, "剩余2个名额。")
    fill(event, 2)
    event.refresh_from_db()
    assert _action(user, event) == (
        "waitlist",
        "加入候补",
        True,
        "名额已满，目前有0人候补；有人取消时按先后顺序递补。",
    )
    waiting = engine.book_event(user=user, event=event)
    event.refresh_from_db()
    assert _action(user, event) == (
        "booked",
        "候补中（第1位）",
        False,
        "有人取消时，将按候补顺序自动为您确认。",
    )
    assert _action(UserFactory(), event) == ("full", "名额已满", False, "名额已满，候补人数也已达上限。")
    engine.cancel_booking(booking=waiting)
    event.refresh_from_db()
    # A cancelled booking is no booking: the button offers the waitlist again.
    assert _action(user, event)[:3] == ("waitlist", "加入候补", True)
    engine.change_capacity(event=event, capacity=4)
    engine.book_event(user=user, event=event)
    assert _action(user, event) == ("booked", "已预约", False, "您已预约该活动，可在“我的预约”中取消。")

    later = EventFactory(booking_opens_at=now + D)
    assert _action(user, later) == (
        "not_open",
        "报名未开始",
        False,
        f"报名尚未开始，将于 {local(later.booking_opens_at)} 开放。",
    )
    closed = EventFactory(booking_opens_at=now - 3 * D, booking_closes_at=now - H)
    assert _action(user, closed)[:3] == ("closed", "报名已截止", False)
    members = EventFactory(audience=Event.Audience.PARTY_MEMBERS)
    assert _action(user, members)[:3] == ("members_only", "仅限党员", False)
    assert _action(member_user(), members)[0] == "book"
    rider = UserFactory(person_type="rider", platform="饿了么·长寿路站", building=None, enterprise=None)
    assert _action(rider, EventFactory())[:3] == ("employees_only", "面向楼宇白领", False)
    assert _action(user, EventFactory(status=Event.Status.CANCELLED)) == (
        "cancelled",
        "活动已取消",
        False,
        "该活动已取消。",
    )
    assert _action(user, past_event()) == ("past", "活动已结束", False, "该活动已结束。")
    assert _action(user, EventFactory(status=Event.Status.DRAFT)) == (
        "not_open",
        "尚未发布",
        False,
        "该活动尚未发布。",
    )


# --- the cancel button: the same rule as cancel_booking -------------------------------------------


@pytest.mark.parametrize(
    ("status", "offset", "enabled", "code"),
    [
        ("confirmed", -H, True, None),  # before the deadline
        ("confirmed", datetime.timedelta(0), True, None),  # at the deadline itself
        ("confirmed", datetime.timedelta(microseconds=1), False, "cancel_deadline_passed"),
        ("waitlisted", 3 * H, True, None),  # past the deadline, the waitlist may still be left
        ("waitlisted", 4 * H, False, "event_past"),  # the event has ended
        ("confirmed", 4 * H, False, "event_past"),
    ],
)
def test_cancel_action_says_what_cancel_booking_does(status, offset, enabled, code):
    start = timezone.now() + 2 * D
    event = EventFactory(
        starts_at=start, ends_at=start + H, cancel_deadline=start - 3 * H, capacity=1, waitlist_limit=5
    )
    seated, waiting = fill(event, 2)
    booking = seated if status == "confirmed" else waiting
    now = event.cancel_deadline + offset
    action = engine.cancel_action(booking=booking, now=now)
    assert action.enabled is enabled
    if enabled:
        assert action.reason == ""
        engine.cancel_booking(booking=booking, now=now)
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    else:
        with pytest.raises(BookingError) as refused:
            engine.cancel_booking(booking=booking, now=now)
        assert refused.value.code == code and str(refused.value.message) == action.reason


def test_booking_action_takes_the_callers_read_of_the_booking_and_its_place(django_assert_num_queries):
    """The event page reads the person's booking with its waitlist place (one query for all):
    ``booking_action`` then reads nothing, and says the place it was given."""
    event = EventFactory(capacity=1, waitlist_limit=5)
    engine.book_event(user=UserFactory(), event=event)
    user = UserFactory()
    mine = engine.book_event(user=user, event=event)
    mine.queue_position = 3  # as the page's read would carry it
    with django_assert_num_queries(0):
        action = engine.booking_action(user=user, event=event, mine=mine)
    assert (action.kind, str(action.label)) == ("booked", "候补中（第3位）")
    other = UserFactory()
    with django_assert_num_queries(0):
        assert engine.booking_action(user=other, event=event, mine=None).kind == "waitlist"


def test_cancel_action_is_silent_for_a_booking_that_is_no_longer_active():
    event = EventFactory(capacity=1)
    [booking] = fill(event, 1)
    engine.cancel_booking(booking=booking)
    action = engine.cancel_action(booking=Booking.objects.select_related("event").get(pk=booking.pk))
    assert action == engine.CancelAction(False, "")


def test_a_community_place_is_read_from_the_snapshot_when_it_has_it_and_from_the_place_otherwise(
    django_assert_num_queries,
):
    """``_is_community_place``: the booking snapshot carries the station's partner (no query);
    an event without it reads its place."""
    from tests.services.factories import CommunityPlaceFactory, SpaceFactory

    event = EventFactory(space=SpaceFactory(station=CommunityPlaceFactory()))
    fresh = Event.objects.get(pk=event.pk)
    with django_assert_num_queries(2):  # the space, its station
        assert engine._is_community_place(fresh) is True
    with django_assert_num_queries(0):
        assert engine._is_community_place(EventFactory.build(space=fresh.space)) is True
    for partner, expected in ((None, False), (fresh.space.station.partner_id, True)):
        snapshot = Event.objects.get(pk=event.pk)
        snapshot.station_partner = partner
        with django_assert_num_queries(0):
            assert engine._is_community_place(snapshot) is expected
    building_event = Event.objects.get(pk=EventFactory().pk)
    assert engine._is_community_place(building_event) is False


def test_checking_in_to_a_volunteer_shift_credits_that_booking_at_the_given_now():
    """The check-in credits the shift's hours to the booking checked in, earned at the check-in's
    own instant (the caller's ``now``, not the clock)."""
    shift = VolunteerShiftFactory()
    rider = UserFactory(person_type="rider", platform="美团·曹杨站", building=None)
    booking = engine.book_event(user=rider, event=shift)
    at = shift.starts_at + datetime.timedelta(minutes=5)
    staff = SocialWorkerFactory(streets=[shift.space.station.street])
    engine.check_in(code=engine.checkin_code(booking), event=shift, by=staff, now=at)
    record = VolunteerHours.objects.get()
    assert (record.booking_id, record.user_id, record.event_id) == (booking.pk, rider.pk, shift.pk)
    assert record.earned_at == at
