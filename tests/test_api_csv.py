"""?format=csv on every list: all rows, same scoping, same masking; errors stay JSON."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tests.api_support import build_world, client_for, grant

pytestmark = pytest.mark.django_db

LISTS = [
    "district",
    "street",
    "building",
    "enterprise",
    "party-organization",
    "party-member",
    "committee",
    "station",
    "space",
    "event",
    "booking",
    "space-reservation",
]


@pytest.fixture
def world():
    return build_world()


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "BOM so that Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.parametrize("basename", LISTS)
def test_csv_has_the_same_rows_as_the_json_list(world, basename):
    client = client_for(world, "token_a")
    url = reverse(f"api:{basename}-list")
    json_ids = {row["id"] for row in client.get(url, {"page_size": 200}).json()["results"]}
    rows = read_csv(client.get(url, {"format": "csv"}))
    assert {int(row["id"]) for row in rows} == json_ids
    assert json_ids, "district A has rows of every kind"


def test_csv_is_not_paginated(world):
    client = client_for(world, "superuser")
    rows = read_csv(client.get(reverse("api:event-list"), {"format": "csv", "page_size": 1}))
    assert len(rows) == 9  # 3 streets × (party class, draft, counselling)


def test_csv_respects_filters_and_nested_columns(world):
    client = client_for(world, "token_a")
    rows = read_csv(client.get(reverse("api:building-list"), {"format": "csv", "street": world.a2.street.pk}))
    assert [int(r["id"]) for r in rows] == [world.a2.building.pk]
    assert rows[0]["district.name"] == "静安区"
    assert rows[0]["is_key_building"] == "是"


def test_csv_masks_personal_data_like_json(world):
    client = client_for(world, "token_a")
    rows = read_csv(client.get(reverse("api:party-member-list"), {"format": "csv"}))
    member = next(r for r in rows if int(r["id"]) == world.a.member.pk)
    assert member["phone"] == "138****0001"
    assert member["id_number"] == world.a.member.id_number[:3] + "*" * 11 + world.a.member.id_number[-4:]
    assert world.a.member.phone not in str(rows)
    seats = read_csv(client.get(reverse("api:committee-list"), {"format": "csv"}))
    assert "1371234" not in str(seats)


def test_full_personal_data_with_the_permission(world):
    grant(world.staff_a, "members.view_personal_data")
    client = client_for(world, "token_a")
    detail = client.get(reverse("api:party-member-detail", args=[world.a.member.pk])).json()
    assert detail["phone"] == world.a.member.phone and detail["id_number"] == world.a.member.id_number
    rows = read_csv(client.get(reverse("api:party-member-list"), {"format": "csv"}))
    assert world.a.member.phone in {r["phone"] for r in rows}


def test_json_masks_member_and_seat_phones(world):
    client = client_for(world, "social_worker")
    member = client.get(reverse("api:party-member-detail", args=[world.a.member.pk])).json()
    assert member["phone"] == "138****0001"
    assert len(member["id_number"]) == 18 and member["id_number"][3:14] == "*" * 11
    committee = client.get(reverse("api:committee-detail", args=[world.a.committee.pk])).json()
    assert committee["seats"][0]["phone"] == "137****0001"


def test_csv_errors_are_json(world):
    anonymous = client_for(world, "anonymous").get(reverse("api:building-list"), {"format": "csv"})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    bad = client_for(world, "token_a").get(reverse("api:building-list"), {"format": "csv", "street": "x"})
    assert bad.status_code == 400 and "street" in bad.json()


def test_csv_defuses_spreadsheet_formulas(world):
    from buildings.models import Building

    Building.objects.filter(pk=world.a.building.pk).update(property_company='=HYPERLINK("http://evil")')
    rows = read_csv(client_for(world, "token_a").get(reverse("api:building-list"), {"format": "csv"}))
    row = next(r for r in rows if int(r["id"]) == world.a.building.pk)
    assert row["property_company"].startswith("'=")


@pytest.mark.parametrize("name", ["stats-coverage", "stats-activity", "stats-demands"])
def test_statistics_as_csv(world, name):
    response = client_for(world, "token_a").get(reverse(f"api:{name}"), {"format": "csv"})
    rows = read_csv(response)
    assert rows
    if name == "stats-coverage":
        assert [r["level"] for r in rows] == ["total", "district", "street", "street"]
        assert rows[0]["buildings"] == "2"
