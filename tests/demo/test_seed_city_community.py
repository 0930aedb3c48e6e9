"""``seed_demo --scale city`` (demo/city.py) at a small scale: partners in every street and
volunteer hours, one record per attended booking of a volunteer shift, written by COPY."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count

from buildings.models import Partner, Street
from demo import city
from services.models import Booking, Event, VolunteerHours

pytestmark = pytest.mark.django_db


def test_city_scale_has_partners_per_street_and_volunteer_hours():
    out = io.StringIO()
    call_command("seed_demo", "--scale", "city", "--factor", "0.02", stdout=out)
    assert "共建单位" in out.getvalue() and "志愿时长" in out.getvalue()

    # Every street has its partners (the small demo's streets keep theirs and may have more).
    per_street = dict(Street.objects.annotate(n=Count("partners")).values_list("pk", "n"))
    assert per_street and min(per_street.values()) >= city.PARTNERS_PER_STREET
    assert Partner.objects.count() >= len(per_street) * city.PARTNERS_PER_STREET

    # About the target number of hours records (the last shift may overshoot it).
    target = round(city.CITY_TARGETS["volunteer_hours"] * 0.02)
    records = VolunteerHours.objects.select_related("booking", "event")
    assert target <= records.count() <= target * 1.5

    # Each one is an attended booking of a volunteer shift, credited once with the shift's length.
    assert not records.exclude(booking__status=Booking.Status.ATTENDED).exists()
    assert not records.exclude(event__kind=Event.Kind.VOLUNTEER).exists()
    for record in records.order_by("?")[:200]:
        assert record.user_id == record.booking.user_id and record.event_id == record.booking.event_id
        assert record.hours == record.event.credited_hours
        assert record.hours > Decimal(0)
    # Every attended booking of a city shift has its record.
    city_shifts = Event.objects.filter(kind=Event.Kind.VOLUNTEER, hours_earned__isnull=False).distinct()
    attended = Booking.objects.filter(event__in=city_shifts, status=Booking.Status.ATTENDED)
    assert attended.count() == attended.filter(volunteer_hours__isnull=False).count()

    # A second run writes nothing more.
    before = (Partner.objects.count(), VolunteerHours.objects.count())
    call_command("seed_demo", "--scale", "city", "--factor", "0.02", stdout=io.StringIO())
    assert (Partner.objects.count(), VolunteerHours.objects.count()) == before
