"""Lists: filters, search, ordering and pagination do what they say, refuse bad input with 400,
and never reveal what lies outside the caller's territory."""

from __future__ import annotations

import datetime

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


def related_filters() -> list[tuple[str, str, str]]:
    """(list URL name, filter, related model) for every filter by related record, on every endpoint."""
    from django_filters import ModelChoiceFilter

    from config.api_urls import urlpatterns
    from core.filters import IdInFilter

    found = []
    for pattern in urlpatterns:
        view = getattr(pattern.callback, "cls", None)
        filterset_class = getattr(view, "filterset_class", None)
        if not (pattern.name or "").endswith("-list") or filterset_class is None:
            continue
        filterset = filterset_class(data={}, queryset=filterset_class._meta.model.objects.none())
        for name, filter_ in filterset.filters.items():
            if isinstance(filter_, IdInFilter):
                model = filterset._meta.model
                for part in filter_.field_name.split("__"):
                    model = model._meta.get_field(part).related_model
                found.append((f"api:{pattern.name}", name, model.__name__))
            elif isinstance(filter_, ModelChoiceFilter):
                found.append((f"api:{pattern.name}", name, filter_.queryset.model.__name__))
    return found


# The record of district B that each kind of filter is tried with.
RECORD_OF_B = {
    "District": lambda w: w.district_b,
    "Street": lambda w: w.b.street,
    "Building": lambda w: w.b.building,
    "Enterprise": lambda w: w.b.enterprise,
    "PartyOrganization": lambda w: w.b.organization,
    "ServiceStation": lambda w: w.b.station,
    "Space": lambda w: w.b.space,
    "Event": lambda w: w.b.event,
    "Partner": lambda w: w.b.partner,
    "BuildingCommittee": lambda w: w.b.committee,
}


def link_district_a_to_b(world):
    """Records of district A that point at records of district B, where the model allows it.

    Without them a filter by a B record would match nothing for district A anyway.
    """
    from tests.services.factories import EventFactory, SpaceReservationFactory

    PartyMemberFactory(organization=world.a.organization, enterprise=world.b.enterprise)
    child = PartyOrganizationFactory(street=world.a.street, parent=world.b.organization)
    child.buildings.add(world.a.building, world.b.building)
    later = world.a.event.starts_at + datetime.timedelta(days=10)
    event = EventFactory(space=world.a.space, organizer=world.b.organization, starts_at=later)
    SpaceReservationFactory(
        space=world.a.space, organization=world.b.organization, starts_at=later + datetime.timedelta(days=1)
    )
    return event


@pytest.mark.parametrize(("name", "param", "model"), related_filters())
def test_filters_on_other_territory_match_nothing(world, name, param, model):
    """An id of district B filters to nothing for district A, exactly like an unknown id.

    Also where a record of district A points at it (a member employed in district B, an
    organization covering a building there or with a parent there, an event or reservation
    of an organization there): the filter must not tell that the link exists.
    Generated from the filtersets: a new filter by a related record is tried too.
    """
    assert model in RECORD_OF_B, f"add the district-B record to try ?{param} of {name} with"
    link_district_a_to_b(world)
    other = RECORD_OF_B[model](world).pk
    everything = client_for(world, "superuser").get(reverse(name), {param: other})
    assert result_ids(everything), f"?{param}={other} matches something for the superuser"
    client = client_for(world, "token_a")
    response = client.get(reverse(name), {param: other})
    unknown = client.get(reverse(name), {param: 99999999})
    if response.status_code == 400:
        # A choice among records (the event list's street and building): refused like an unknown id.
        assert unknown.status_code == 400
        assert response.json()[param][0].replace(str(other), "X") == unknown.json()[param][0].replace(
            "99999999", "X"
        )
    else:
        assert result_ids(response) == set() == result_ids(unknown)


def test_related_filters_are_all_tried():
    names = {(name, param) for name, param, _model in related_filters()}
    for expected in [
        ("api:party-member-list", "enterprise"),
        ("api:party-member-list", "building"),
        ("api:party-member-list", "organization"),
        ("api:party-organization-list", "building"),
        ("api:party-organization-list", "parent"),
        ("api:event-list", "organizer"),
        ("api:space-reservation-list", "organization"),
        ("api:booking-list", "event"),
    ]:
        assert expected in names


def test_filters_within_the_territory_still_match(world):
    linked_event = link_district_a_to_b(world)
    assert ids(world, "token_a", "api:party-member-list", enterprise=world.a.enterprise.pk) == {
        world.a.member.pk
    }
    assert world.a.organization.pk in ids(
        world, "token_a", "api:party-organization-list", building=world.a.building.pk
    )
    # A social worker's territory is their street: a building of the next street is out of it.
    assert ids(world, "social_worker", "api:party-member-list", building=world.a2.building.pk) == set()
    # Employees see published events everywhere, and who organizes them (as the event page says).
    assert ids(world, "employee", "api:event-list", organizer=world.b.organization.pk) == {linked_event.pk}


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


def test_event_organizer_of_another_district_is_not_named(world):
    """An event of district A organized by district B's organization: no id, no name for A's key."""
    from tests.services.factories import EventFactory

    later = world.a.event.starts_at + datetime.timedelta(days=10)
    foreign = EventFactory(space=world.a.space, organizer=world.b.organization, starts_at=later)
    own = EventFactory(
        space=world.a.space, organizer=world.a2.organization, starts_at=later + datetime.timedelta(days=1)
    )

    def organizer(actor, event):
        client = client_for(world, actor)
        detail = client.get(reverse("api:event-detail", args=[event.pk])).json()["organizer"]
        listed = {
            row["id"]: row["organizer"] for row in client.get(reverse("api:event-list")).json()["results"]
        }
        assert listed[event.pk] == detail
        return detail

    assert organizer("token_a", foreign) is None
    assert organizer("token_a", own) == {"id": world.a2.organization.pk, "name": world.a2.organization.name}
    assert organizer("superuser", foreign)["id"] == world.b.organization.pk
    # Employees see a published event's organizer, as the portal's event page shows it to all.
    assert organizer("employee", foreign)["name"] == world.b.organization.name
    csv = client_for(world, "token_a").get(reverse("api:event-list"), {"format": "csv"})
    assert world.b.organization.name not in b"".join(csv.streaming_content).decode()


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


@pytest.mark.django_db
def test_has_seats_takes_true_or_false_only(client, employee):
    """Found by Schemathesis: ``?has_seats=从`` was read as "on" (the page's checkbox) with a 200."""
    client.force_login(employee)
    response = client.get(reverse("api:event-list"), {"has_seats": "从"})
    assert response.status_code == 400 and "has_seats" in response.json()
    assert client.get(reverse("api:event-list"), {"has_seats": "false"}).status_code == 200
