"""The demand lists and figures read in a fixed number of queries, however many rows (issue 16).

Each test counts the queries of a page with a few demands, then asserts that a page with several
times as many — more buildings, enterprises, streets, categories, handlers and visits — takes no
more: a missing ``select_related`` or a per-row lookup in a column or serializer fails here.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.buildings.factories import EnterpriseFactory, StreetFactory
from tests.committees.factories import (
    CommitteeSeatFactory,
    DemandCategoryFactory,
    DemandFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


def _demands(streets, n: int) -> None:
    """``n`` demands per street in several states: seat and department handlers, a visit, a rating."""
    for street in streets:
        for i in range(n):
            enterprise = EnterpriseFactory(building__street=street)
            category = DemandCategoryFactory()
            seat = CommitteeSeatFactory(committee__building=enterprise.building)
            DemandFactory(
                enterprise=enterprise,
                category=category,
                state="assigned",
                handler_kind="seat",
                handler_seat=seat,
            )
            DemandFactory(
                enterprise=enterprise,
                category=category,
                state="in_progress",
                handler_kind="street",
                handler_department="营商环境办公室",
                visit=VisitFactory(enterprise=enterprise),
            )
            if i % 2 == 0:
                DemandFactory(
                    enterprise=enterprise,
                    category=category,
                    state="declined",
                    decline_reason="不属于受理范围",
                )


def _rows(response) -> int:
    return response.json()["count"]


def test_api_demand_list(district_a, street_a, district_staff, django_assert_max_num_queries):
    api = APIClient()
    api.force_authenticate(district_staff)
    url = reverse("api:demand-list")
    _demands([street_a], 2)
    api.get(url)  # warm caches (content types, permissions)
    with django_assert_max_num_queries(20) as few:
        assert _rows(api.get(url)) == 5
    _demands([street_a, StreetFactory(district=district_a), StreetFactory(district=district_a)], 4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(url, {"page_size": 100})
    assert _rows(response) == 5 + 3 * 10
    handlers = {row["handler"] for row in response.json()["results"]}
    assert "营商环境办公室" in handlers and any(h.startswith("委员 委员") for h in handlers)


def test_admin_demand_list(client, street_a, social_worker, django_assert_max_num_queries):
    client.force_login(social_worker)
    url = reverse("admin:committees_demand_changelist")
    _demands([street_a], 2)
    client.get(url)
    with django_assert_max_num_queries(60) as few:
        response = client.get(url)
    assert response.status_code == 200
    _demands([street_a], 8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 5 + 20


def test_api_demand_stats(district_a, street_a, district_staff, django_assert_max_num_queries):
    api = APIClient()
    api.force_authenticate(district_staff)
    url = reverse("api:stats-demands")
    _demands([street_a], 1)
    api.get(url)
    with django_assert_max_num_queries(20) as few:
        data = api.get(url).json()
    assert data["total"]["received"] == 3 and len(data["streets"]) == 1
    _demands([StreetFactory(district=district_a) for _ in range(4)], 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        data = api.get(url).json()
    assert data["total"]["received"] == 3 + 4 * 8
    assert len(data["streets"]) == 5 and len(data["categories"]) == 1 + 4 * 3
