"""Places both ways: stations owned by a building or a partner, booked with the one engine.

The station's owner is exactly one (the database refuses both or neither); its street is
the owner's whatever writes the row; riders book a partner's place through
services/booking.py with the same rules and reminders; a building's event is open to riders
and residents only when its audience says so; partner staff see their own places only.
"""

import pytest
from django.db import IntegrityError, transaction

from core.notifications.models import Outbox
from core.scoping import scope_queryset
from services import booking as engine
from services.booking import BookingError
from services.models import Booking, Event, ServiceStation
from tests.buildings.factories import BuildingFactory, PartnerFactory, StreetFactory
from tests.members.factories import StaffUserFactory, UserFactory
from tests.services.factories import (
    CommunityPlaceFactory,
    EventFactory,
    ServiceStationFactory,
    SpaceFactory,
)

pytestmark = pytest.mark.django_db


def rider(**kwargs):
    return UserFactory(
        person_type="rider", platform="饿了么·长寿路站", building=None, enterprise=None, **kwargs
    )


def partner_event(**kwargs):
    return EventFactory(space=SpaceFactory(station=CommunityPlaceFactory()), **kwargs)


class TestOwner:
    def test_database_refuses_a_station_with_both_owners(self):
        station = ServiceStationFactory()
        partner = PartnerFactory(street=station.street)
        with pytest.raises(IntegrityError, match="services_servicestation_one_owner"), transaction.atomic():
            ServiceStation.objects.filter(pk=station.pk).update(partner=partner)

    def test_database_refuses_a_station_without_owner(self):
        station = ServiceStationFactory()
        with pytest.raises(IntegrityError, match="services_servicestation_one_owner"), transaction.atomic():
            ServiceStation.objects.filter(pk=station.pk).update(building=None)

    def test_one_owner_either_way_is_accepted(self):
        assert ServiceStationFactory().building_id is not None
        place = CommunityPlaceFactory()
        assert place.building_id is None and place.partner_id is not None
        assert place.is_community_place and place.owner == place.partner


class TestStreet:
    def test_the_database_copies_the_owner_street(self):
        place = CommunityPlaceFactory()
        other = StreetFactory()
        # Whatever a raw write says, the street is the owner's.
        ServiceStation.objects.filter(pk=place.pk).update(street=other)
        place.refresh_from_db()
        assert place.street_id == place.partner.street_id

    def test_stations_follow_their_owner_to_another_street(self):
        station = ServiceStationFactory()
        place = CommunityPlaceFactory()
        new_street = StreetFactory()
        type(station.building).objects.filter(pk=station.building_id).update(street=new_street)
        type(place.partner).objects.filter(pk=place.partner_id).update(street=new_street)
        station.refresh_from_db()
        place.refresh_from_db()
        assert station.street_id == new_street.pk
        assert place.street_id == new_street.pk

    def test_social_worker_of_the_partner_street_sees_its_events(self):
        event = partner_event()
        worker = StaffUserFactory(streets=[event.space.station.partner.street])
        outsider = StaffUserFactory(streets=[StreetFactory()])
        assert list(scope_queryset(Event.objects.all(), worker)) == [event]
        assert not scope_queryset(Event.objects.all(), outsider).exists()


class TestBooking:
    def test_rider_books_a_partner_place_through_the_engine_with_reminders(self):
        event = partner_event(capacity=2)
        person = rider()
        booking = engine.book_event(user=person, event=event)
        assert booking.status == Booking.Status.CONFIRMED
        event.refresh_from_db()
        assert event.confirmed_count == 1
        # the same notices as any booking: a confirmation and reminders, in the partner's street
        kinds = set(Outbox.objects.filter(recipient=person).values_list("kind", flat=True))
        assert "booking_confirmed" in kinds and "event_reminder" in kinds, kinds

    def test_partner_place_waitlist_and_capacity_as_everywhere(self):
        event = partner_event(capacity=1)
        first, second = rider(), UserFactory()
        assert engine.book_event(user=first, event=event).status == Booking.Status.CONFIRMED
        assert engine.book_event(user=second, event=event).status == Booking.Status.WAITLISTED

    def test_rider_refused_at_a_building_event_not_opened_to_the_community(self):
        event = EventFactory()
        with pytest.raises(BookingError) as info:
            engine.book_event(user=rider(), event=event)
        assert info.value.code == "employees_only"
        assert not Booking.objects.filter(event=event).exists()

    def test_rider_books_a_building_event_opened_to_the_community(self):
        event = EventFactory(audience=Event.Audience.COMMUNITY)
        assert engine.book_event(user=rider(), event=event).status == Booking.Status.CONFIRMED

    def test_employee_books_both_ways(self):
        person = UserFactory()
        assert engine.book_event(user=person, event=partner_event()).status == Booking.Status.CONFIRMED
        assert engine.book_event(user=person, event=EventFactory()).status == Booking.Status.CONFIRMED

    def test_booking_action_says_why_a_rider_cannot_book(self):
        action = engine.booking_action(user=rider(), event=EventFactory())
        assert action.kind == "employees_only" and not action.enabled


class TestPartnerStaff:
    def test_partner_staff_see_their_own_places_events_and_bookings_only(self):
        mine = partner_event()
        other = partner_event()
        EventFactory()  # a building's
        staff = StaffUserFactory(partner=mine.space.station.partner)
        engine.book_event(user=rider(), event=mine)
        engine.book_event(user=rider(), event=other)
        assert list(scope_queryset(Event.objects.all(), staff)) == [mine]
        assert list(scope_queryset(ServiceStation.objects.all(), staff)) == [mine.space.station]
        assert {b.event_id for b in scope_queryset(Booking.objects.all(), staff)} == {mine.pk}

    def test_partner_staff_see_no_building(self):
        from buildings.models import Building

        BuildingFactory()
        staff = StaffUserFactory(partner=PartnerFactory())
        assert not scope_queryset(Building.objects.all(), staff).exists()
