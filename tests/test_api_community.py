"""The building–community figures against hand-counted data: /api/v1/volunteer-hours/,
/api/v1/stats/community/, /api/v1/partners/ (masking) and /api/v1/agreements/.

Hand count (street A of district A, street B of district B):
* street A: partner P1 with a canteen; two shifts there: 2.0 h + 2.0 h (one person twice) in
  2026-11 and 1.5 h (another person) in 2026-12; an active agreement; a pairing; two members
  registered (one of them ended); a building station with an event opened to the community.
* street B: partner P2; one shift, 3.0 h; an agreement that ended; nothing else.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.buildings.factories import DistrictFactory, PartnerFactory, StreetFactory
from tests.committees.factories import AgreementFactory
from tests.members.factories import HomeRegistrationFactory, StaffUserFactory, UserFactory
from tests.services.factories import (
    EventFactory,
    PairingFactory,
    VolunteerHoursFactory,
    VolunteerShiftFactory,
)

pytestmark = pytest.mark.django_db


def at(year, month, day):
    return timezone.make_aware(datetime.datetime(year, month, day, 10))


@pytest.fixture
def figures():
    district_a, district_b = DistrictFactory(code="310107"), DistrictFactory(code="310108")
    street_a, street_b = StreetFactory(district=district_a), StreetFactory(district=district_b)
    p1, p2 = PartnerFactory(street=street_a, phone="13912345678"), PartnerFactory(street=street_b)
    shift_a = VolunteerShiftFactory(space__station__partner=p1)
    shift_b = VolunteerShiftFactory(space__station__partner=p2)
    person, other = UserFactory(), UserFactory()
    VolunteerHoursFactory(booking__event=shift_a, booking__user=person, hours=2, earned_at=at(2026, 11, 3))
    second = VolunteerShiftFactory(
        space=shift_a.space, starts_at=shift_a.starts_at + datetime.timedelta(days=7)
    )
    VolunteerHoursFactory(booking__event=second, booking__user=person, hours=2, earned_at=at(2026, 11, 10))
    VolunteerHoursFactory(
        booking__event=shift_a, booking__user=other, hours=Decimal("1.5"), earned_at=at(2026, 12, 1)
    )
    VolunteerHoursFactory(booking__event=shift_b, hours=3, earned_at=at(2026, 11, 5))
    today = timezone.localdate()
    AgreementFactory(
        partner=p1,
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today + datetime.timedelta(days=300),
    )
    AgreementFactory(partner=p2, status="ended")
    PairingFactory(partner=p1)
    HomeRegistrationFactory(partner=p1)
    HomeRegistrationFactory(partner=p1, ended_on=today)
    from tests.services.factories import ServiceStationFactory, SpaceFactory

    EventFactory(
        space=SpaceFactory(station=ServiceStationFactory(building__street=street_a)), audience="community"
    )
    from django.contrib.auth.models import Group

    from members.groups import DISTRICT_STAFF

    staff_a = StaffUserFactory(district=district_a)
    staff_a.groups.add(Group.objects.get(name=DISTRICT_STAFF))
    superuser = UserFactory(is_staff=True, is_superuser=True)
    return {"a": staff_a, "root": superuser, "p1": p1, "street_a": street_a}


def get(user, name, params=None):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)
    return client.get(reverse(f"api:{name}"), params or {})


def test_hours_per_street_partner_month_as_hand_counted(figures):
    by_street = get(figures["root"], "volunteer-hours", {"by": "street"}).json()
    assert sorted(Decimal(r["hours"]) for r in by_street) == [Decimal("3.0"), Decimal("5.5")]
    mine = get(figures["a"], "volunteer-hours", {"by": "partner"}).json()
    assert [(r["label"], Decimal(r["hours"]), r["attendances"], r["volunteers"]) for r in mine] == [
        (figures["p1"].name, Decimal("5.5"), 3, 2)
    ]
    months = get(figures["a"], "volunteer-hours", {"by": "month"}).json()
    assert [(r["key"], Decimal(r["hours"])) for r in months] == [
        ("2026-11", Decimal("4.0")),
        ("2026-12", Decimal("1.5")),
    ]


def test_hours_never_name_a_person(figures):
    rows = get(figures["root"], "volunteer-hours", {"by": "month"}).json()
    assert all(set(r) == {"key", "label", "hours", "attendances", "volunteers"} for r in rows)


def test_bad_grouping_is_a_400(figures):
    response = get(figures["a"], "volunteer-hours", {"by": "person"})
    assert response.status_code == 400
    assert "by" in response.content.decode()


def test_community_figures_as_hand_counted(figures):
    data = get(figures["a"], "stats-community").json()
    assert data == {
        "active_agreements": 1,
        "community_places_open_to_buildings": 1,
        "building_stations_open_to_community": 1,
        "volunteer_hours": "5.5",
        "volunteer_attendances": 3,
        "residents_served": 1,
        "members_reported": 1,
    }


def test_partner_phone_is_masked_without_the_permission(figures):
    rows = get(figures["a"], "partner-list").json()["results"]
    assert [r["phone"] for r in rows] == ["139****5678"]
    root = get(figures["root"], "partner-list").json()["results"]
    assert "13912345678" in {r["phone"] for r in root}


def test_dashboard_shows_the_agreements_and_hours(client, figures):
    client.force_login(figures["a"])
    response = client.get(reverse("admin_dashboard"))
    assert response.status_code == 200
    assert response.context["community"]["active_agreements"] == 1
    assert response.context["community"]["volunteer_hours"] == Decimal("5.5")
    assert [(r["label"], r["hours"]) for r in response.context["hours_by_month"]] == [
        ("2026-11", Decimal("4.0")),
        ("2026-12", Decimal("1.5")),
    ]
    assert 'id="hours-chart"' in response.content.decode()
