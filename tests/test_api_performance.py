"""The API's lists at city scale: figures per row computed for the page only, cheap counts.

bench/profile_endpoints.py measures the timings; these tests pin the query
shapes behind them and that the figures are still right.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.api_support import build_world
from tests.buildings.factories import BuildingFactory, EnterpriseFactory
from tests.members.factories import PartyOrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_building_list_figures_without_group_by(world):
    street = world.a.street
    empty = BuildingFactory(street=street, name="空楼")
    busy = BuildingFactory(street=street, name="满楼")
    EnterpriseFactory.create_batch(3, building=busy)
    PartyOrganizationFactory(street=street, enterprise=EnterpriseFactory(building=busy))
    client = _client(world.key_a)
    url = reverse("api:building-list")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"street": street.pk, "page_size": 200})
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[empty.pk]["enterprise_count"] == 0
    assert rows[empty.pk]["has_party_organization"] is False
    assert rows[busy.pk]["enterprise_count"] == 4
    assert rows[busy.pk]["has_party_organization"] is True
    assert response.json()["count"] == len(rows)
    # The page is not grouped, and the count is a plain count of buildings.
    sqls = [q["sql"] for q in ctx.captured_queries]
    page = next(s for s in sqls if "enterprise" in s and "COUNT(*)" not in s and "apitoken" not in s)
    assert "GROUP BY" not in page.split("FROM", 1)[1].split("(SELECT")[0]
    count = next(s for s in sqls if 'COUNT(*) AS "__count"' in s)
    assert "EXISTS" not in count and "enterprise" not in count
