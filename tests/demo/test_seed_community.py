"""The "1 °C" demo data (demo/community.py) inside ``seed_demo``: partner, places, agreement,
riders with pairings, a weekly project with earned hours, registered members, partner staff."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from buildings.models import Partner
from committees.models import Agreement
from demo import small
from members.models import HomeRegistration, User
from services.models import Event, Pairing, ServiceStation, VolunteerHours

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_the_putuo_partnership_is_seeded_once():
    small.seed_demo(out=lambda line: None)
    partner = Partner.objects.get(name="中环居委会")
    assert set(ServiceStation.objects.filter(partner=partner).values_list("name", flat=True)) == {
        "社区长者食堂",
        "党群服务点",
    }
    agreement = Agreement.objects.get(partner=partner)
    assert agreement.status == "active" and agreement.committees.count() == 1
    assert agreement.commitments.count() == 3
    riders = User.objects.filter(person_type="rider")
    assert riders.count() == 3 and all(r.platform for r in riders)
    assert Pairing.objects.filter(partner=partner).count() == 2
    shifts = Event.objects.filter(kind=Event.Kind.VOLUNTEER)
    assert shifts.count() == 10
    # 8 past shifts × 3 riders × 2 h
    assert VolunteerHours.objects.aggregate(h=Sum("hours"))["h"] == Decimal("48.0")
    assert HomeRegistration.objects.filter(partner=partner, ended_on__isnull=True).exists()
    assert User.objects.get(username="juweihui").partner == partner
    counts = small.demo_counts()
    again = {"hours": VolunteerHours.objects.count(), "events": Event.objects.count()}
    small.seed_demo(out=lambda line: None)
    assert small.demo_counts() == counts
    assert {"hours": VolunteerHours.objects.count(), "events": Event.objects.count()} == again
