"""The headline figures (services/stats.py, /api/v1/stats/*) against a small world counted by hand.

黄浦区 (X): 南京东路 (S1) and 外滩 (S2); 徐汇区 (Y): 徐家汇 (S3).

S1  B1 key,     1000 employees, covered by joint organization O1, committee
    B2 key,      500 employees, its tenant E2 has a standalone organization O2, committee
    B3 key,      300 employees, no organization
    B4 not key,  200 employees, covered by O1
    O1 has 4 members, O2 has 2
S2  B5 not key, 1000 employees; O3 (a street organization covering no building) has 1 member
S3  B6 key,      400 employees, covered by O4 (2 members), committee
"""

from __future__ import annotations

import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from members.tokens import issue_token
from services import stats
from services.models import Booking, Event
from tests.buildings.factories import BuildingFactory, DistrictFactory, EnterpriseFactory, StreetFactory
from tests.committees.factories import BuildingCommitteeFactory
from tests.members.factories import (
    PartyMemberFactory,
    PartyOrganizationFactory,
    StaffUserFactory,
    UserFactory,
)
from tests.services.factories import BookingFactory, EventFactory, ServiceStationFactory, SpaceFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def members(organization, n):
    for _ in range(n):
        PartyMemberFactory(organization=organization, enterprise=None)


@pytest.fixture
def city():
    x = DistrictFactory(name="黄浦区", code="310101")
    y = DistrictFactory(name="徐汇区", code="310104")
    s1 = StreetFactory(district=x, name="南京东路街道")
    s2 = StreetFactory(district=x, name="外滩街道")
    s3 = StreetFactory(district=y, name="徐家汇街道")
    b1 = BuildingFactory(street=s1, is_key_building=True, employee_count=1000)
    b2 = BuildingFactory(street=s1, is_key_building=True, employee_count=500)
    b3 = BuildingFactory(street=s1, is_key_building=True, employee_count=300)
    b4 = BuildingFactory(street=s1, is_key_building=False, employee_count=200)
    BuildingFactory(street=s2, is_key_building=False, employee_count=1000)
    b6 = BuildingFactory(street=s3, is_key_building=True, employee_count=400)
    o1 = PartyOrganizationFactory(street=s1)
    o1.buildings.add(b1, b4)
    o2 = PartyOrganizationFactory(street=s1, enterprise=EnterpriseFactory(building=b2))
    o3 = PartyOrganizationFactory(street=s2)
    o4 = PartyOrganizationFactory(street=s3)
    o4.buildings.add(b6)
    members(o1, 4), members(o2, 2), members(o3, 1), members(o4, 2)
    for building in (b1, b2, b6):
        BuildingCommitteeFactory(building=building)
    return {"x": x, "y": y, "s1": s1, "s2": s2, "s3": s3, "b3": b3}


S1 = {
    "buildings": 4,
    "key_buildings": 3,
    "key_buildings_with_party_organization": 2,
    "coverage_percent": 66.7,
    "party_organizations": 2,
    "employees": 2000,
    "party_members": 6,
    "party_member_share_percent": 0.3,
    "committees": 2,
}
S2 = {
    "buildings": 1,
    "key_buildings": 0,
    "key_buildings_with_party_organization": 0,
    "coverage_percent": None,
    "party_organizations": 1,
    "employees": 1000,
    "party_members": 1,
    "party_member_share_percent": 0.1,
    "committees": 0,
}
S3 = {
    "buildings": 1,
    "key_buildings": 1,
    "key_buildings_with_party_organization": 1,
    "coverage_percent": 100.0,
    "party_organizations": 1,
    "employees": 400,
    "party_members": 2,
    "party_member_share_percent": 0.5,
    "committees": 1,
}
X = {
    "buildings": 5,
    "key_buildings": 3,
    "key_buildings_with_party_organization": 2,
    "coverage_percent": 66.7,
    "party_organizations": 3,
    "employees": 3000,
    "party_members": 7,
    "party_member_share_percent": 0.2,
    "committees": 2,
}
CITY = {
    "buildings": 6,
    "key_buildings": 4,
    "key_buildings_with_party_organization": 3,
    "coverage_percent": 75.0,
    "party_organizations": 4,
    "employees": 3400,
    "party_members": 9,
    "party_member_share_percent": 0.3,
    "committees": 3,
}


def figures(row: dict) -> dict:
    return {key: row[key] for key in S1}


def test_city_coverage_for_a_superuser(city):
    data = stats.coverage(user=UserFactory(is_superuser=True))
    assert data["scope"] == "全市"
    assert figures(data["total"]) == CITY
    assert {d["name"]: figures(d) for d in data["districts"]} == {"黄浦区": X, "徐汇区": S3}
    assert {s["name"]: figures(s) for s in data["streets"]} == {
        "南京东路街道": S1,
        "外滩街道": S2,
        "徐家汇街道": S3,
    }


def test_district_key_sees_its_district_only(city, client):
    staff = StaffUserFactory(district=city["x"])
    _token, key = issue_token(user=staff, name="黄浦区")
    response = client.get(reverse("api:stats-coverage"), HTTP_AUTHORIZATION=f"Token {key}")
    data = response.json()
    assert response.status_code == 200
    assert data["scope"] == "黄浦区"
    assert figures(data["total"]) == X
    assert [d["name"] for d in data["districts"]] == ["黄浦区"]
    assert {s["name"] for s in data["streets"]} == {"南京东路街道", "外滩街道"}
    # Asking for the other district's street gives nothing, not its figures.
    other = client.get(
        reverse("api:stats-coverage"), {"street": city["s3"].pk}, HTTP_AUTHORIZATION=f"Token {key}"
    ).json()
    assert other["streets"] == [] and other["total"]["buildings"] == 0


def test_social_worker_sees_their_street(city):
    worker = StaffUserFactory(streets=[city["s1"]])
    data = stats.coverage(user=worker)
    assert figures(data["total"]) == S1
    assert [(d["name"], figures(d)) for d in data["districts"]] == [("黄浦区", S1)]


def test_filter_by_street_and_district(city):
    root = UserFactory(is_superuser=True)
    assert figures(stats.coverage(user=root, street_ids=[city["s2"].pk])["total"]) == S2
    assert figures(stats.coverage(user=root, district_ids=[city["y"].pk])["total"]) == S3


def test_coverage_follows_a_new_organization(city):
    """B3 (key, S1) gets a standalone organization in a tenant: S1 coverage 2/3 → 3/3."""
    PartyOrganizationFactory(street=city["s1"], enterprise=EnterpriseFactory(building=city["b3"]))
    data = stats.coverage(user=UserFactory(is_superuser=True), street_ids=[city["s1"].pk])
    assert data["total"]["key_buildings_with_party_organization"] == 3
    assert data["total"]["coverage_percent"] == 100.0
    assert data["total"]["party_organizations"] == 3


def test_empty_territory_is_all_zero():
    data = stats.coverage(user=StaffUserFactory(streets=[StreetFactory()]))
    assert data["total"]["buildings"] == 0 and data["total"]["coverage_percent"] is None
    assert len(data["streets"]) == 1


# --- Activity -----------------------------------------------------------------------------------


def local(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def past_event(space, kind, starts, capacity, hours=2, status=Event.Status.PUBLISHED):
    return EventFactory(
        space=space,
        kind=kind,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=hours)
        if hours >= 1
        else starts + datetime.timedelta(minutes=50),
        capacity=capacity,
        status=status,
    )


def bookings(event, **counts):
    for status, n in counts.items():
        for _ in range(n):
            BookingFactory(
                event=event,
                status=status,
                checked_in_at=event.starts_at if status == Booking.Status.ATTENDED else None,
                cancelled_at=timezone.now() if status == Booking.Status.CANCELLED else None,
            )


@pytest.fixture
def activity_world(city):
    space = SpaceFactory(station=ServiceStationFactory(building=BuildingFactory(street=city["s1"])))
    other = SpaceFactory(station=ServiceStationFactory(building=BuildingFactory(street=city["s3"])))
    K = Event.Kind
    p1 = past_event(space, K.PARTY_CLASS, local(2026, 3, 10, 10), 10)
    bookings(p1, attended=3, no_show=1, cancelled=1)
    p2 = past_event(space, K.PARTY_CLASS, local(2026, 3, 20, 10), 5)
    bookings(p2, attended=1, no_show=1)
    # 23:00 on 31 March in Shanghai is 15:00 UTC: still March.
    p3 = past_event(space, K.PARTY_CLASS, local(2026, 3, 31, 23), 5, hours=0)
    bookings(p3, attended=1)
    l1 = past_event(space, K.SAFETY_LECTURE, local(2026, 4, 5, 14), 20)
    bookings(l1, attended=2)
    # 00:30 on 1 April in Shanghai is still 31 March in UTC: April.
    y1 = past_event(space, K.YOUTH_SOCIAL, local(2026, 4, 1, 0, 30), 5)
    bookings(y1, no_show=1)
    # Not held: a draft and a cancelled event.
    past_event(space, K.PARTY_CLASS, local(2026, 3, 12, 10), 5, status=Event.Status.DRAFT)
    cancelled = past_event(space, K.PARTY_CLASS, local(2026, 3, 14, 10), 5, status=Event.Status.CANCELLED)
    bookings(cancelled, cancelled=1)
    # Another district.
    bookings(past_event(other, K.PARTY_CLASS, local(2026, 3, 15, 10), 8), attended=1)
    return city


def activity_figures(row):
    keys = (
        "events",
        "capacity",
        "bookings",
        "cancelled",
        "attended",
        "no_show",
        "attendance_rate",
        "no_show_rate",
    )
    return tuple(row[k] for k in keys)


def test_activity_by_month_and_kind(activity_world):
    staff = StaffUserFactory(district=activity_world["x"])
    data = stats.activity(user=staff)
    assert [(r["month"], r["kind"], activity_figures(r)) for r in data["rows"]] == [
        ("2026-03", "party_class", (3, 20, 7, 1, 5, 2, 71.4, 28.6)),
        ("2026-04", "safety_lecture", (1, 20, 2, 0, 2, 0, 100.0, 0.0)),
        ("2026-04", "youth_social", (1, 5, 1, 0, 0, 1, 0.0, 100.0)),
    ]
    assert activity_figures(data["total"]) == (5, 45, 10, 1, 7, 3, 70.0, 30.0)
    assert [(m["month"], m["events"]) for m in data["by_month"]] == [("2026-03", 3), ("2026-04", 2)]
    assert [(k["kind"], k["events"]) for k in data["by_kind"]] == [
        ("party_class", 3),
        ("safety_lecture", 1),
        ("youth_social", 1),
    ]


def test_activity_for_the_city_and_filters(activity_world, client):
    root = UserFactory(is_superuser=True)
    assert stats.activity(user=root)["total"]["events"] == 6
    assert stats.activity(user=root, district_ids=[activity_world["y"].pk])["total"]["attended"] == 1
    april = stats.activity(user=root, date_from=datetime.date(2026, 4, 1))
    assert april["total"]["events"] == 2
    march_end = stats.activity(
        user=root, date_from=datetime.date(2026, 3, 31), date_to=datetime.date(2026, 3, 31)
    )
    assert march_end["total"]["events"] == 1 and march_end["rows"][0]["month"] == "2026-03"
    assert stats.activity(user=root, street_ids=[activity_world["s2"].pk])["total"]["events"] == 0
    client.force_login(root)
    response = client.get(
        reverse("api:stats-activity"), {"kind": ["safety_lecture", "youth_social"], "date_to": "2026-04-30"}
    )
    assert response.status_code == 200
    assert response.json()["total"]["events"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_from": "2026-04-02", "date_to": "2026-04-01"}, "date_to"),
        ({"district": "a,b"}, "district"),
        ({"street": "-1"}, "street"),
        ({"kind": "picnic"}, "kind"),
    ],
)
def test_bad_statistics_parameters_are_400(city, client, params, field):
    client.force_login(UserFactory(is_superuser=True))
    response = client.get(reverse("api:stats-activity"), params)
    assert response.status_code == 400
    assert field in response.json()


# --- The admin dashboard (same figures, for the viewer's territory) ------------------------------


def dashboard(client, user, **params):
    client.force_login(user)
    return client.get(reverse("admin_dashboard"), params)


def test_dashboard_shows_the_district_figures(activity_world, client):
    from django.contrib.auth.models import Group

    from members.groups import DISTRICT_STAFF

    staff = StaffUserFactory(district=activity_world["x"])
    staff.groups.add(Group.objects.get(name=DISTRICT_STAFF))
    response = dashboard(client, staff, date_from="2026-03-01", date_to="2026-04-30")
    assert response.status_code == 200
    page = response.content.decode()
    assert "统计范围：黄浦区" in page
    assert response.context["coverage"]["total"]["buildings"] == X["buildings"] + 1  # + the events' building
    assert response.context["activity"]["total"]["events"] == 5
    assert "徐家汇街道" not in page and "徐汇区" not in page
    data = response.context["chart_data"]
    assert data["months"]["labels"] == ["2026-03", "2026-04"]
    assert data["months"]["events"] == [3, 2]
    assert 'id="dashboard-data"' in page and "vendor/chartjs/chart.umd.min.js" in page
    assert "cdn" not in page.lower()


def test_dashboard_for_a_social_worker_and_the_city(city, client):
    worker = StaffUserFactory(streets=[city["s1"]])
    assert dashboard(client, worker).context["coverage"]["total"]["key_buildings"] == S1["key_buildings"]
    root = UserFactory(is_staff=True, is_superuser=True)
    response = dashboard(client, root, district=city["y"].pk)
    assert figures(response.context["coverage"]["total"]) == S3


def test_dashboard_refuses_other_territories_and_bad_dates(city, client):
    worker = StaffUserFactory(streets=[city["s1"]])
    response = dashboard(client, worker, street=city["s3"].pk, date_from="2026-05-02", date_to="2026-05-01")
    assert response.status_code == 200
    form = response.context["form"]
    assert "street" in form.errors and "date_to" in form.errors
    # The figures stay those of the worker's own territory.
    assert figures(response.context["coverage"]["total"]) == S1


def test_dashboard_without_territory_and_for_employees(client):
    lonely = StaffUserFactory()
    response = dashboard(client, lonely)
    assert response.status_code == 200
    assert "没有分配管辖" in response.content.decode()
    employee = UserFactory()
    response = dashboard(client, employee)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_chart_library_is_vendored_with_its_licence():
    from django.contrib.staticfiles import finders

    script = finders.find("vendor/chartjs/chart.umd.min.js")
    assert script and "Chart.js" in Path(script).read_text(encoding="utf-8")[:400]
    licence = finders.find("vendor/chartjs/LICENSE.md")
    assert licence and "MIT" in Path(licence).read_text(encoding="utf-8")
    assert finders.find(
        "vendor/chartjs/chart.umd.min.js.map"
    )  # referenced by the script; collectstatic needs it
