"""Factories for stations, spaces, events, bookings and space reservations."""

import datetime

import factory
from django.utils import timezone

from services.models import (
    Booking,
    Event,
    HoursCorrection,
    Pairing,
    ServiceStation,
    Space,
    SpaceReservation,
    VolunteerHours,
    VolunteerProject,
)
from tests.buildings.factories import BuildingFactory, PartnerFactory, StreetFactory
from tests.members.factories import PartyOrganizationFactory, UserFactory


class ServiceStationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceStation

    building = factory.SubFactory(BuildingFactory)
    name = factory.Sequence(lambda n: f"党群服务站{n}")
    floor = 6
    area_m2 = 300
    opening_hours = "工作日 9:00–18:00"


class CommunityPlaceFactory(ServiceStationFactory):
    """A community partner's place open to riders and employees (a canteen, a service site)."""

    building = None
    partner = factory.SubFactory(PartnerFactory)
    name = factory.Sequence(lambda n: f"社区食堂{n}")
    floor = 1
    area_m2 = 120
    opening_hours = "每天 11:00–14:00"


class SpaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Space

    station = factory.SubFactory(ServiceStationFactory)
    name = factory.Sequence(lambda n: f"活动室{n}")
    function = Space.Function.ACTIVITY_ROOM
    capacity = 100


def _in_days(days: float, hours: float = 0) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days, hours=hours)


class EventFactory(factory.django.DjangoModelFactory):
    """A published event three days ahead, open for booking now."""

    class Meta:
        model = Event

    space = factory.SubFactory(SpaceFactory)
    title = factory.Sequence(lambda n: f"党课第{n}讲")
    kind = Event.Kind.PARTY_CLASS
    description = "学习贯彻党的二十大精神"
    speaker = "李老师"
    starts_at = factory.LazyFunction(lambda: _in_days(3).replace(microsecond=0))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    capacity = 10
    audience = Event.Audience.EVERYONE
    booking_opens_at = factory.LazyAttribute(lambda o: o.starts_at - datetime.timedelta(days=7))
    booking_closes_at = factory.LazyAttribute(lambda o: o.starts_at - datetime.timedelta(hours=1))
    cancel_deadline = factory.LazyAttribute(lambda o: o.starts_at - datetime.timedelta(hours=12))
    status = Event.Status.PUBLISHED


class BookingFactory(factory.django.DjangoModelFactory):
    """A raw row, for tests of reads and constraints; writes go through services/booking.py."""

    class Meta:
        model = Booking

    event = factory.SubFactory(EventFactory)
    user = factory.SubFactory(UserFactory)
    status = Booking.Status.CONFIRMED


class SpaceReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SpaceReservation

    space = factory.SubFactory(SpaceFactory)
    organization = factory.SubFactory(PartyOrganizationFactory)
    requested_by = factory.SubFactory(UserFactory)
    purpose = "支部主题党日"
    attendees = 20
    starts_at = factory.LazyFunction(lambda: _in_days(5).replace(microsecond=0))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))


def outbox_rows(
    *, booking=None, bookings=None, event=None, party_organization=None, committee=None, **filters
):
    """Outbox rows (core/notifications) about a booking, an event (its topic), an organization or a committee."""
    from django.contrib.contenttypes.models import ContentType

    from core.notifications.models import Outbox

    qs = Outbox.objects.filter(**filters)
    for subject in (booking, party_organization, committee):
        if subject is not None:
            qs = qs.filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk)
    if bookings is not None:
        qs = qs.filter(
            subject_type=ContentType.objects.get_for_model(Booking), subject_id__in=[b.pk for b in bookings]
        )
    if event is not None:
        qs = qs.filter(topic=f"event:{event.pk}")
    return qs


class VolunteerProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VolunteerProject

    partner = factory.SubFactory(PartnerFactory)
    street = factory.LazyAttribute(lambda o: o.partner.street if o.partner else StreetFactory())
    name = factory.Sequence(lambda n: f"陪伴社区老人{n}")


class VolunteerShiftFactory(EventFactory):
    """A volunteer shift at a partner's place, two hours long."""

    space = factory.SubFactory(SpaceFactory, station=factory.SubFactory(CommunityPlaceFactory))
    title = factory.Sequence(lambda n: f"陪伴老人第{n}班")
    kind = Event.Kind.VOLUNTEER
    speaker = ""
    project = factory.SubFactory(
        VolunteerProjectFactory,
        partner=factory.SelfAttribute("..space.station.partner"),
    )


class PairingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pairing

    partner = factory.SubFactory(PartnerFactory)
    volunteer = factory.SubFactory(
        UserFactory, person_type="rider", platform="饿了么·长寿路站", building=None
    )
    resident_name = factory.Sequence(lambda n: f"张阿婆{n}")
    resident_address = factory.Sequence(lambda n: f"长寿路{n}弄3号")
    started_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))


class VolunteerHoursFactory(factory.django.DjangoModelFactory):
    """A raw row; hours are earned through services/volunteering.py."""

    class Meta:
        model = VolunteerHours

    booking = factory.SubFactory(
        BookingFactory,
        event=factory.SubFactory(VolunteerShiftFactory),
        status=Booking.Status.ATTENDED,
        checked_in_at=factory.LazyFunction(timezone.now),
    )
    user = factory.SelfAttribute("booking.user")
    event = factory.SelfAttribute("booking.event")
    hours = 2
    earned_at = factory.LazyFunction(timezone.now)


class HoursCorrectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HoursCorrection

    record = factory.SubFactory(VolunteerHoursFactory)
    old_hours = 2
    new_hours = 3
    reason = "补记提前到场布置的时间"
    corrected_by = factory.SubFactory(UserFactory)
    corrected_at = factory.LazyFunction(timezone.now)
