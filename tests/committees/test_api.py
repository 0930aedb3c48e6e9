"""The demand endpoints: /api/v1/demands/ (filters, CSV), /api/v1/visits/ and /api/v1/stats/demands/
against hand-counted data, in the caller's territory. (Permission matrix, schema and query counts:
tests/test_api_permissions.py, test_api_schema.py, test_api_queries.py.)"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from tests.buildings.factories import DistrictFactory, EnterpriseFactory, StreetFactory
from tests.committees.factories import DemandCategoryFactory, DemandFactory, VisitFactory
from tests.members.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 16)


def at(day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, tzinfo=SH)


@pytest.fixture
def city():
    district = DistrictFactory()
    north, south = (
        StreetFactory(district=district, name="北街道"),
        StreetFactory(district=district, name="南街道"),
    )
    elsewhere = StreetFactory(district=DistrictFactory(), name="外区街道")
    property_, policy = DemandCategoryFactory(name="物业设施"), DemandCategoryFactory(name="政策咨询")
    n_ent, s_ent, x_ent = (EnterpriseFactory(building__street=s) for s in (north, south, elsewhere))

    def demand(enterprise, category, state, *, submitted, resolved=None, deadline=TODAY, rating=None):
        fields = {"state": state, "submitted_at": submitted, "deadline": deadline}
        if state in ("resolved", "closed"):
            fields.update(resolution="办好了", resolved_at=resolved)
            if state == "resolved":
                fields["confirm_by"] = resolved + datetime.timedelta(days=7)
            else:
                fields["closed_at"] = resolved + datetime.timedelta(days=1)
        if state == "assigned":
            fields.update(handler_kind="street", handler_department="营商办")
        if state == "declined":
            fields["decline_reason"] = "不属于受理范围"
        return DemandFactory(enterprise=enterprise, category=category, rating=rating, **fields)

    # North: 4 demands. Closed after 2 days (rated 5), closed after 6 days (rated 3),
    # assigned and overdue (deadline 13 Nov), submitted not yet due.
    demand(n_ent, property_, "closed", submitted=at(2), resolved=at(4), rating=5)
    demand(n_ent, property_, "closed", submitted=at(2), resolved=at(8), rating=3)
    demand(n_ent, policy, "assigned", submitted=at(3), deadline=datetime.date(2026, 11, 13))
    demand(n_ent, policy, "submitted", submitted=at(10), deadline=datetime.date(2026, 11, 17))
    # South: 2 demands. Resolved after 3 days (awaiting confirmation), declined.
    demand(s_ent, property_, "resolved", submitted=at(5), resolved=at(8))
    demand(s_ent, policy, "declined", submitted=at(6))
    # Another district: never counted for this district's staff.
    demand(x_ent, property_, "submitted", submitted=at(6), deadline=datetime.date(2026, 11, 1))
    VisitFactory(enterprise=n_ent)
    VisitFactory(enterprise=x_ent)

    staff = StaffUserFactory(username="district_demands", district=district)
    staff.groups.add(Group.objects.get(name="区级工作人员"))
    client = APIClient()
    client.force_login(staff)
    return {"client": client, "north": north, "south": south, "property": property_, "policy": policy}


def test_statistics_against_hand_counted_figures(city, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 16, 12, tzinfo=SH))
    data = city["client"].get(reverse("api:stats-demands")).json()
    assert data["total"] == {
        "received": 6,
        "resolved": 3,
        "resolution_rate": 50.0,
        "median_days_to_resolve": 3.0,  # 2, 3, 6
        "overdue_now": 1,
        "average_rating": 4.0,  # 5 and 3
    }
    streets = {row["name"]: row for row in data["streets"]}
    assert set(streets) == {"北街道", "南街道"}
    assert streets["北街道"] == {
        "id": city["north"].pk,
        "name": "北街道",
        "received": 4,
        "resolved": 2,
        "resolution_rate": 50.0,
        "median_days_to_resolve": 4.0,  # 2 and 6
        "overdue_now": 1,
        "average_rating": 4.0,
    }
    assert (streets["南街道"]["received"], streets["南街道"]["resolved"]) == (2, 1)
    assert streets["南街道"]["median_days_to_resolve"] == 3.0
    assert streets["南街道"]["average_rating"] is None
    categories = {row["name"]: row for row in data["categories"]}
    assert (categories["物业设施"]["received"], categories["物业设施"]["resolved"]) == (3, 3)
    assert categories["物业设施"]["resolution_rate"] == 100.0
    assert (categories["政策咨询"]["received"], categories["政策咨询"]["resolved"]) == (3, 0)
    assert categories["政策咨询"]["median_days_to_resolve"] is None
    assert categories["政策咨询"]["overdue_now"] == 1

    # Submitted 5–6 November only.
    narrow = city["client"].get(
        reverse("api:stats-demands"), {"date_from": "2026-11-05", "date_to": "2026-11-06"}
    )
    assert narrow.json()["total"]["received"] == 2
    # One street only.
    south = city["client"].get(reverse("api:stats-demands"), {"street": str(city["south"].pk)}).json()
    assert south["total"]["received"] == 2
    bad = city["client"].get(
        reverse("api:stats-demands"), {"date_from": "2026-11-06", "date_to": "2026-11-05"}
    )
    assert bad.status_code == 400 and "date_to" in bad.json()


def test_demand_list_filters(city, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 16, 12, tzinfo=SH))
    client = city["client"]

    def titles_count(**params):
        response = client.get(reverse("api:demand-list"), params)
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert titles_count() == 6
    assert titles_count(state="closed") == 2
    assert client.get(reverse("api:demand-list"), {"state": ["closed", "declined"]}).json()["count"] == 3
    assert titles_count(category=str(city["policy"].pk)) == 3
    assert titles_count(street=str(city["south"].pk)) == 2
    assert titles_count(overdue="true") == 1
    assert titles_count(overdue="false") == 5
    assert titles_count(submitted_from="2026-11-05") == 3
    assert client.get(reverse("api:demand-list"), {"state": "lost"}).status_code == 400
    row = client.get(reverse("api:demand-list"), {"overdue": "true"}).json()["results"][0]
    assert row["is_overdue"] is True and row["handler"] == "营商办" and "submitter" not in row


def test_demand_csv_and_visits(city):
    response = city["client"].get(reverse("api:demand-list"), {"format": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.count("\n") == 7  # header + six rows
    visits = city["client"].get(reverse("api:visit-list")).json()
    assert visits["count"] == 1
