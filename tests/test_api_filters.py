"""Lists: filters, search, ordering and pagination do what they say, refuse bad input with 400,
and never reveal what lies outside the caller's territory."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api_support import build_world, client_for, result_ids
from tests.buildings.factories import BuildingFactory, EnterpriseFactory
from tests.members.factories import PartyMemberFactory, PartyOrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def ids(world, actor, name, **params):
    return result_ids(client_for(world, actor).get(reverse(name), params))


def test_building_filters(world):
    plain = BuildingFactory(street=world.a.street, is_key_building=False, employee_count=10)
    assert ids(world, "token_a", "api:building-list", is_key_building="false") == {plain.pk}
    assert ids(world, "token_a", "api:building-list", has_party_organization="false") == {plain.pk}
    assert ids(world, "token_a", "api:building-list", has_committee="false") == {plain.pk}
    assert ids(world, "token_a", "api:building-list", employee_count_max=10) == {plain.pk}
    assert ids(world, "token_a", "api:building-list", street=f"{world.a2.street.pk}") == {
        world.a2.building.pk
    }
    assert ids(world, "token_a", "api:building-list", district=world.district_a.pk) == {
        world.a.building.pk,
        world.a2.building.pk,
        plain.pk,
    }
    assert ids(world, "token_a", "api:building-list", search=world.a2.building.name) == {world.a2.building.pk}


def test_standalone_organization_counts_as_party_organization(world):
    building = BuildingFactory(street=world.a.street)
    PartyOrganizationFactory(street=world.a.street, enterprise=EnterpriseFactory(building=building))
    assert building.pk in ids(world, "token_a", "api:building-list", has_party_organization="true")


def test_filters_on_other_territory_match_nothing(world):
    """An id of district B filters to nothing for district A, exactly like an unknown id."""
    for params in ({"street": world.b.street.pk}, {"district": world.district_b.pk}, {"street": 99999999}):
        assert ids(world, "token_a", "api:building-list", **params) == set()
    assert ids(world, "token_a", "api:party-member-list", organization=world.b.organization.pk) == set()
    assert ids(world, "token_a", "api:booking-list", event=world.b.event.pk) == set()


def test_event_choice_filters_are_scoped_for_staff(world):
    client = client_for(world, "token_a")
    other = client.get(reverse("api:event-list"), {"street": world.b.street.pk})
    unknown = client.get(reverse("api:event-list"), {"street": 99999999})
    assert other.status_code == unknown.status_code == 400
    assert other.json()["street"][0].replace(str(world.b.street.pk), "X") == unknown.json()["street"][
        0
    ].replace("99999999", "X")
    assert ids(world, "token_a", "api:event-list", street=world.a.street.pk) == {
        world.a.event.pk,
        world.a.draft.pk,
        world.a.counselling.pk,
    }


def test_event_filters(world):
    assert ids(world, "superuser", "api:event-list", status="draft") == {
        world.a.draft.pk,
        world.a2.draft.pk,
        world.b.draft.pk,
    }
    assert ids(world, "token_a", "api:event-list", kind="counselling") == {
        world.a.counselling.pk,
        world.a2.counselling.pk,
    }
    day = world.a.event.starts_at.astimezone().date().isoformat()
    assert world.a.event.pk in ids(world, "employee", "api:event-list", date_from=day, date_to=day)


def test_nested_records_of_other_territories_are_not_named(world):
    parent_b = world.b.organization
    child = PartyOrganizationFactory(street=world.a.street, parent=parent_b)
    member = PartyMemberFactory(organization=world.a.organization, enterprise=world.b.enterprise)
    child.buildings.add(world.a.building, world.b.building)
    client = client_for(world, "token_a")
    org = client.get(reverse("api:party-organization-detail", args=[child.pk])).json()
    assert org["parent"] is None
    assert [b["id"] for b in org["buildings"]] == [world.a.building.pk]
    person = client.get(reverse("api:party-member-detail", args=[member.pk])).json()
    assert person["enterprise"] is None
    # The superuser sees them.
    root = client_for(world, "superuser")
    assert (
        root.get(reverse("api:party-organization-detail", args=[child.pk])).json()["parent"]["id"]
        == parent_b.pk
    )


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("api:building-list", {"page_size": "0"}, "page_size"),
        ("api:building-list", {"page_size": "201"}, "page_size"),
        ("api:building-list", {"page_size": "abc"}, "page_size"),
        ("api:building-list", {"page": "-1"}, "page"),
        ("api:building-list", {"page": "x"}, "page"),
        ("api:building-list", {"street": "abc"}, "street"),
        ("api:building-list", {"street": "99999999999999999999999"}, "street"),
        ("api:building-list", {"is_key_building": "maybe"}, "is_key_building"),
        ("api:building-list", {"employee_count_min": "-5"}, "employee_count_min"),
        ("api:building-list", {"updated_from": "2026-02-30"}, "updated_from"),
        ("api:building-list", {"ordering": "password"}, "ordering"),
        ("api:building-list", {"search": "a\x00b"}, "search"),
        ("api:party-member-list", {"status": "veteran"}, "status"),
        ("api:party-member-list", {"joined_from": "yesterday"}, "joined_from"),
        ("api:event-list", {"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to"),
        ("api:booking-list", {"status": "lost"}, "status"),
        ("api:booking-list", {"mine": "perhaps"}, "mine"),
        ("api:space-reservation-list", {"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to"),
        ("api:committee-list", {"term_ends_to": "31.12.2027"}, "term_ends_to"),
    ],
)
def test_bad_parameters_are_400_with_field_errors(world, name, params, field):
    response = client_for(world, "superuser").get(reverse(name), params)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors and errors[field][0]


def test_page_size_is_capped_and_pages_count(world):
    for _ in range(5):
        BuildingFactory(street=world.a.street)
    client = client_for(world, "token_a")
    first = client.get(reverse("api:building-list"), {"page_size": 3}).json()
    second = client.get(reverse("api:building-list"), {"page_size": 3, "page": 2}).json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["next"]
    assert len(second["results"]) == 3
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    assert client.get(reverse("api:building-list"), {"page": 99}).status_code == 404


def test_ordering(world):
    BuildingFactory(street=world.a.street, employee_count=5)
    rows = (
        client_for(world, "token_a").get(reverse("api:building-list"), {"ordering": "-employee_count"}).json()
    )
    counts = [r["employee_count"] for r in rows["results"]]
    assert counts == sorted(counts, reverse=True)


def test_write_validation_messages(world):
    client = client_for(world, "token_a")
    response = client.post(
        reverse("api:building-list"),
        {
            "name": world.a.building.name,
            "address": "x",
            "street": world.a.street.pk,
            "floors": 500,
            "floor_area_m2": "-1",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "floors" in body or "non_field_errors" in body
    detail = str(body)
    assert "该街道已有同名楼宇" in detail or "floor" in detail
    bad_code = client.post(
        reverse("api:enterprise-list"),
        {"name": "某公司", "credit_code": "91310000000000000X", "building": world.a.building.pk, "floor": 99},
        format="json",
    ).json()
    assert "credit_code" in bad_code
    assert (
        client.post(reverse("api:building-list"), "not json", content_type="application/json").status_code
        == 400
    )
