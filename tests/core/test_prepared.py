"""core/prepared.py: a query built once per process gives the ORM's own objects, in one statement."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.utils import timezone

from core.prepared import PreparedQuery
from services import selectors
from services.models import Booking, Event
from tests.members.factories import UserFactory
from tests.services.factories import BookingFactory, EventFactory

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {k: v for k, v in vars(obj).items() if k != "_state"}


def _same(orm, prepared) -> None:
    """The same values, the same related objects loaded (select_related), the same annotations."""
    assert type(prepared) is type(orm)
    assert _fields(prepared) == _fields(orm)
    assert prepared._state.adding is False and prepared._state.db == orm._state.db
    assert prepared._state.fields_cache.keys() == orm._state.fields_cache.keys()
    assert _fields(prepared.space.station.street) == _fields(orm.space.station.street)
    assert _fields(prepared.space.station) == _fields(orm.space.station)


def test_prepared_gives_the_orms_objects_for_each_value():
    first, second = EventFactory(title="第一讲"), EventFactory(title="第二讲")
    prepared = PreparedQuery(
        lambda pk: (
            selectors.event_queryset().filter(pk=pk).annotate(left=F("capacity") - F("confirmed_count"))
        )
    )
    for event in (first, second, first):
        orm = selectors.event_queryset().annotate(left=F("capacity") - F("confirmed_count")).get(pk=event.pk)
        _same(orm, prepared.first(event.pk))
        assert prepared.first(event.pk).left == event.capacity
    assert prepared.first(10**9) is None
    assert len(prepared._plans) == 1  # built once, run with each value


def test_prepared_runs_one_statement(django_assert_num_queries):
    event = EventFactory()
    prepared = PreparedQuery(lambda pk: selectors.event_queryset().filter(pk=pk))
    prepared.first(event.pk)
    with django_assert_num_queries(1):
        found = prepared.first(event.pk)
        assert found.space.station.street.name  # joined in, no further query


def test_forget_all_makes_each_prepared_query_build_again():
    event = EventFactory()
    built = []

    def build(pk):
        built.append(pk)
        return Event.objects.filter(pk=pk)

    prepared = PreparedQuery(build)
    prepared.first(event.pk)
    prepared.first(event.pk)
    assert len(built) == 1
    PreparedQuery.forget_all()
    assert prepared.first(event.pk).pk == event.pk
    assert len(built) == 2


def test_a_value_that_is_not_a_parameter_is_refused():
    EventFactory()
    prepared = PreparedQuery(lambda pk: Event.objects.all())
    with pytest.raises(ValueError):
        prepared.first(1)


def test_portal_event_is_the_orms_query_for_each_person():
    event = EventFactory()
    booker, other = UserFactory(), UserFactory()
    booking = BookingFactory(event=event, user=booker, status=Booking.Status.WAITLISTED)
    EventFactory(status=Event.Status.DRAFT)
    for user in (None, AnonymousUser(), booker, other):
        orm = selectors._portal_event_queryset(event.pk, user).first()
        _same(orm, selectors.portal_event(pk=event.pk, user=user))
    mine = selectors.portal_event(pk=event.pk, user=booker)
    assert (mine.my_booking_id, mine.my_booking_status) == (booking.pk, Booking.Status.WAITLISTED)
    assert selectors.portal_event(pk=event.pk, user=other).my_booking_id is None
    assert selectors.portal_event(pk=event.pk, user=AnonymousUser()).my_booking_status is None


def test_portal_event_leaves_out_drafts():
    draft = EventFactory(status=Event.Status.DRAFT)
    cancelled = EventFactory(status=Event.Status.CANCELLED)
    user = UserFactory()
    assert selectors.portal_event(pk=draft.pk) is None
    assert selectors.portal_event(pk=draft.pk, user=user) is None
    assert selectors.portal_event(pk=cancelled.pk, user=user).pk == cancelled.pk


def test_events_by_ids_is_the_orms_query_with_the_persons_booking():
    events = [EventFactory() for _ in range(3)]
    booker = UserFactory()
    BookingFactory(event=events[1], user=booker)
    ids = [e.pk for e in events]
    for user in (AnonymousUser(), booker):
        orm = {
            e.pk: e
            for e in selectors.with_my_booking(selectors.event_queryset().filter(pk__in=ids), user=user)
        }
        found = selectors.events_by_ids(ids, user=user)
        assert found.keys() == orm.keys()
        for pk in ids:
            _same(orm[pk], found[pk])
    statuses = [selectors.events_by_ids(ids, user=booker)[pk].my_booking_status for pk in ids]
    assert statuses == [None, Booking.Status.CONFIRMED, None]
    assert selectors.events_by_ids(ids[:2], user=booker).keys() == set(ids[:2])  # another plan
    assert selectors.events_by_ids([], user=booker) == {}


def test_my_last_booking_is_the_orms_query_with_deferred_fields():
    event = EventFactory()
    user = UserFactory()
    assert selectors.my_last_booking(user=user, event=event) is None
    BookingFactory(event=event, user=user, status=Booking.Status.CANCELLED)
    later = BookingFactory(event=event, user=user, status=Booking.Status.CANCELLED)
    BookingFactory(event=event, status=Booking.Status.CANCELLED)  # someone else's
    found = selectors.my_last_booking(user=user, event=event)
    orm = selectors._my_last_booking_queryset(user.pk, event.pk).first()
    assert found.pk == orm.pk == later.pk
    assert found.get_deferred_fields() == orm.get_deferred_fields() != set()
    assert (found.status, found.event_id) == (Booking.Status.CANCELLED, event.pk)
    BookingFactory(event=event, user=user, status=Booking.Status.CONFIRMED)  # active: not "last"
    assert selectors.my_last_booking(user=user, event=event).pk == later.pk
    assert selectors.my_last_booking(user=AnonymousUser(), event=event) is None


def test_an_id_out_of_any_columns_range_is_the_orms_answer(django_assert_num_queries):
    EventFactory()
    assert selectors.portal_event(pk=2**63 + 5) is None
    assert selectors.portal_event(pk=2**31, user=UserFactory()) is None
    assert selectors.events_by_ids([2**40], user=AnonymousUser()) == {}


def test_a_time_taken_in_python_is_refused():
    """It would be frozen into every later run of the query."""
    event = EventFactory()
    prepared = PreparedQuery(lambda pk: Event.objects.filter(pk=pk, ends_at__gt=timezone.now()))
    with pytest.raises(ValueError):
        prepared.first(event.pk)
