"""The permission matrix: every endpoint × anonymous, employee, social worker, district A/B keys, superuser.

Territory: the social worker keeps street A (南京西路), district A's key sees
streets A and A2, district B's key street B, the superuser everything. What
lies outside is 404 on detail and absent from lists; people without a
territory get 403 on territorial endpoints; anonymous requests get 401.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api_support import ACTORS, build_world, client_for, grant, result_ids

pytestmark = pytest.mark.django_db

ALL = {"a", "a2", "b"}
TERRITORY = {"social_worker": {"a"}, "token_a": {"a", "a2"}, "token_b": {"b"}, "superuser": ALL}

# resource → (route basename, records of street a/a2/b, what an employee sees or None for 403)
RESOURCES = {
    "district": ("district", lambda w: {"a": w.district_a, "a2": w.district_a, "b": w.district_b}, None),
    "street": ("street", lambda w: w.records("street"), None),
    "building": ("building", lambda w: w.records("building"), None),
    "enterprise": ("enterprise", lambda w: w.records("enterprise"), None),
    "party-organization": ("party-organization", lambda w: w.records("organization"), None),
    "party-member": ("party-member", lambda w: w.records("member"), None),
    "committee": ("committee", lambda w: w.records("committee"), None),
    "partner": ("partner", lambda w: w.records("partner"), None),
    "agreement": ("agreement", lambda w: w.records("agreement"), None),
    "station": ("station", lambda w: w.records("station"), ALL),
    "space": ("space", lambda w: w.records("space"), ALL),
    "event": ("event", lambda w: w.records("event"), ALL),
    "draft-event": ("event", lambda w: w.records("draft"), set()),
    "counselling-event": ("event", lambda w: w.records("counselling"), ALL),
    "booking": ("booking", lambda w: w.records("booking"), set()),
    "counselling-booking": ("booking", lambda w: w.records("counselling_booking"), set()),
    # An employee sees the reservations they asked for or their organization's (none in the world).
    "space-reservation": ("space-reservation", lambda w: w.records("reservation"), set()),
    # The committee's work: for staff and district keys only (employees use the portal's pages).
    "demand": ("demand", lambda w: w.records("demand"), None),
    "visit": ("visit", lambda w: w.records("visit"), None),
    # Committee meetings (楼事会) with attendance, agenda and resolutions.
    "committee-meeting": ("committee-meeting", lambda w: w.records("meeting"), None),
    # An enterprise's effective risk colour (committees/risk.py): its ids are the enterprises'.
    "enterprise-risk": ("enterprise-risk", lambda w: w.records("enterprise"), None),
}


@pytest.fixture
def world():
    return build_world()


def expected_visible(resource: str, actor: str) -> set[str] | None:
    """Which of the a/a2/b records ``actor`` sees; None when the endpoint is forbidden to them."""
    if actor == "employee":
        return RESOURCES[resource][2]
    visible = TERRITORY[actor]
    if resource == "counselling-booking" and actor != "superuser":
        return set()  # confidential: only with services.view_confidential (a superuser has every permission)
    if resource == "district" and actor == "social_worker":
        return {"a", "a2"}  # the district of their street (both a and a2 records are district A)
    return visible


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("resource", RESOURCES)
def test_list_and_detail(world, resource, actor):
    basename, records_of, _employee = RESOURCES[resource]
    records = records_of(world)
    client = client_for(world, actor)
    list_response = client.get(reverse(f"api:{basename}-list"), {"page_size": 200})
    details = {
        key: client.get(reverse(f"api:{basename}-detail", args=[obj.pk])).status_code
        for key, obj in records.items()
    }
    if actor == "anonymous":
        assert list_response.status_code == 401
        assert list_response["WWW-Authenticate"] == "Token"
        assert list_response.json()["code"] == "not_authenticated"
        assert set(details.values()) == {401}
        return
    visible = expected_visible(resource, actor)
    if visible is None:
        assert list_response.status_code == 403
        assert list_response.json()["code"] == "permission_denied"
        assert set(details.values()) == {403}
        return
    ids = result_ids(list_response)
    for key, obj in records.items():
        if key in visible:
            assert obj.pk in ids, f"{actor} should list {resource} {key}"
            assert details[key] == 200, f"{actor} should open {resource} {key}"
        else:
            assert obj.pk not in ids, f"{actor} must not list {resource} {key}"
            assert details[key] == 404, f"{actor} must get 404 for {resource} {key}"


@pytest.mark.parametrize("actor", ACTORS)
def test_employee_sees_only_own_bookings(world, actor):
    response = client_for(world, actor).get(reverse("api:booking-list"), {"mine": "true"})
    if actor == "anonymous":
        assert response.status_code == 401
        return
    ids = result_ids(response)
    if actor == "employee":
        assert ids == {world.employee_booking.pk}
    else:
        assert world.employee_booking.pk not in ids


def test_employee_booking_visible_to_its_territory_staff(world):
    """Staff see the bookings of events in their territory (not counselling), never elsewhere."""
    assert world.employee_booking.pk in result_ids(
        client_for(world, "token_a").get(reverse("api:booking-list"))
    )
    assert world.employee_booking.pk not in result_ids(
        client_for(world, "token_b").get(reverse("api:booking-list"))
    )


def test_view_confidential_permission_shows_counselling_bookings(world):
    grant(world.staff_a, "services.view_confidential")
    ids = result_ids(client_for(world, "token_a").get(reverse("api:booking-list")))
    assert world.a.counselling_booking.pk in ids
    assert world.b.counselling_booking.pk not in ids


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    "name", ["stats-coverage", "stats-activity", "stats-demands", "stats-community", "volunteer-hours"]
)
def test_statistics(world, actor, name):
    response = client_for(world, actor).get(reverse(f"api:{name}"))
    expected = {"anonymous": 401, "employee": 403}.get(actor, 200)
    assert response.status_code == expected
    if expected != 200:
        return
    data = response.json()
    if name == "stats-community":
        # one active agreement per street of the territory (tests/api_support.py)
        assert data["active_agreements"] == len(TERRITORY[actor])
        return
    if name == "volunteer-hours":
        assert data == []  # no hours earned in the world
        return
    if name == "stats-coverage":
        streets = {row["id"] for row in data["streets"]}
        visible = TERRITORY[actor]
        assert streets == {getattr(world, key).street.pk for key in visible}
        assert data["total"]["buildings"] == len(visible)
        districts = {row["id"] for row in data["districts"]}
        assert world.district_b.pk in districts if "b" in visible else world.district_b.pk not in districts
    elif name == "stats-demands":
        # One submitted demand per street.
        assert {row["id"] for row in data["streets"]} == {
            getattr(world, k).street.pk for k in TERRITORY[actor]
        }
        assert data["total"]["received"] == len(TERRITORY[actor])
    else:
        # One published party class and one counselling slot per street, three days ahead.
        assert data["total"]["events"] == 2 * len(TERRITORY[actor])


# --- Writes -------------------------------------------------------------------------------------

WRITE_EXPECTED = {"anonymous": 401, "employee": 403}


def building_payload(street) -> dict:
    return {
        "name": "新建测试大厦",
        "address": "南京西路1000号",
        "street": street.pk,
        "floors": 20,
        "floor_area_m2": "30000.00",
        "is_key_building": True,
        "employee_count": 800,
    }


@pytest.mark.parametrize("actor", ACTORS)
def test_create_building_in_street_a(world, actor):
    response = client_for(world, actor).post(
        reverse("api:building-list"), building_payload(world.a.street), format="json"
    )
    expected = {**WRITE_EXPECTED, "token_b": 400}.get(actor, 201)
    assert response.status_code == expected, response.content
    if actor == "token_b":
        # The street of another district is refused exactly like one that does not exist.
        assert "street" in response.json()
        missing = client_for(world, actor).post(
            reverse("api:building-list"),
            {**building_payload(world.a.street), "street": 999999},
            format="json",
        )
        assert (
            missing.json()["street"][0].replace("999999", str(world.a.street.pk))
            == response.json()["street"][0]
        )
    if expected == 201:
        body = response.json()
        assert body["street"] == world.a.street.pk and body["district"]["id"] == world.district_a.pk
        assert body["has_party_organization"] is False and body["enterprise_count"] == 0


@pytest.mark.parametrize("actor", ACTORS)
def test_update_building_of_street_a(world, actor):
    url = reverse("api:building-detail", args=[world.a.building.pk])
    response = client_for(world, actor).patch(url, {"employee_count": 4321}, format="json")
    expected = {**WRITE_EXPECTED, "token_b": 404}.get(actor, 200)
    assert response.status_code == expected, response.content
    world.a.building.refresh_from_db()
    assert (world.a.building.employee_count == 4321) == (expected == 200)


@pytest.mark.parametrize("actor", ["social_worker", "token_a", "superuser"])
def test_no_deletes_through_the_api(world, actor):
    url = reverse("api:building-detail", args=[world.a.building.pk])
    assert client_for(world, actor).delete(url).status_code == 405


def test_social_worker_cannot_touch_other_street_of_same_district(world):
    client = client_for(world, "social_worker")
    url = reverse("api:building-detail", args=[world.a2.building.pk])
    assert client.patch(url, {"employee_count": 1}, format="json").status_code == 404
    response = client.post(reverse("api:building-list"), building_payload(world.a2.street), format="json")
    assert response.status_code == 400 and "street" in response.json()


def test_district_key_cannot_move_building_out_of_district(world):
    url = reverse("api:building-detail", args=[world.a.building.pk])
    response = client_for(world, "token_a").patch(url, {"street": world.b.street.pk}, format="json")
    assert response.status_code == 400
    world.a.building.refresh_from_db()
    assert world.a.building.street_id == world.a.street.pk


@pytest.mark.parametrize("actor", ACTORS)
def test_create_enterprise(world, actor):
    from tests.buildings.factories import make_credit_code

    payload = {
        "name": "新入驻科技有限公司",
        "credit_code": make_credit_code(777001),
        "building": world.a.building.pk,
        "floor": 12,
        "employee_count": 50,
        "party_member_count": 3,
        "industry": "软件",
    }
    response = client_for(world, actor).post(reverse("api:enterprise-list"), payload, format="json")
    expected = {**WRITE_EXPECTED, "token_b": 400}.get(actor, 201)
    assert response.status_code == expected, response.content


def test_session_writes_need_csrf(world):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.staff_a)
    response = client.patch(
        reverse("api:building-detail", args=[world.a.building.pk]), {"employee_count": 1}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


# --- Booking actions ----------------------------------------------------------------------------

BOOK_EXPECTED = {
    "anonymous": 401,
    "employee": 409,  # already booked in the world: already_booked
    "social_worker": 201,
    "token_a": 201,
    "token_b": 404,
    "superuser": 201,
}
CANCEL_EXPECTED = {
    "anonymous": 401,
    "employee": 200,  # their own booking
    "social_worker": 403,  # sees it (street A), but it is not theirs: not_owner
    "token_a": 403,
    "token_b": 404,  # does not see it at all
    "superuser": 403,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_book_event_of_street_a(world, actor):
    response = client_for(world, actor).post(reverse("api:event-book", args=[world.a.event.pk]))
    assert response.status_code == BOOK_EXPECTED[actor], response.content
    if response.status_code == 201:
        assert response.json()["status"] == "confirmed"
    if response.status_code == 409:
        assert response.json()["code"] == "already_booked"


@pytest.mark.parametrize("actor", ACTORS)
def test_book_draft_event(world, actor):
    """A draft is invisible to employees (404) and refused by the rules for staff who see it (409)."""
    response = client_for(world, actor).post(reverse("api:event-book", args=[world.a.draft.pk]))
    expected = {"anonymous": 401, "employee": 404, "token_b": 404}.get(actor, 409)
    assert response.status_code == expected
    if expected == 409:
        assert response.json()["code"] == "event_draft"


@pytest.mark.parametrize("actor", ACTORS)
def test_cancel_the_employees_booking(world, actor):
    response = client_for(world, actor).post(reverse("api:booking-cancel", args=[world.employee_booking.pk]))
    assert response.status_code == CANCEL_EXPECTED[actor], response.content
    world.employee_booking.refresh_from_db()
    assert (world.employee_booking.status == "cancelled") == (actor == "employee")
    if response.status_code == 403:
        assert response.json()["code"] == "not_owner"


# The reservation of street A: the social worker of A (who may change reservations) and a
# superuser withdraw it; district A's key only reads (a refused rule, 409); others do not see it.
WITHDRAW_EXPECTED = {
    "anonymous": 401,
    "employee": 404,
    "social_worker": 200,
    "token_a": 409,
    "token_b": 404,
    "superuser": 200,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_withdraw_a_space_reservation(world, actor):
    reservation = world.records("reservation")["a"]
    response = client_for(world, actor).post(reverse("api:space-reservation-cancel", args=[reservation.pk]))
    assert response.status_code == WITHDRAW_EXPECTED[actor], response.content
    reservation.refresh_from_db()
    assert (reservation.status == "cancelled") == (response.status_code == 200)
    if response.status_code == 409:
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("actor", ACTORS)
def test_put_building(world, actor):
    payload = {**building_payload(world.a.street), "name": world.a.building.name}
    response = client_for(world, actor).put(
        reverse("api:building-detail", args=[world.a.building.pk]), payload, format="json"
    )
    expected = {**WRITE_EXPECTED, "token_b": 404}.get(actor, 200)
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("actor", ACTORS)
def test_update_enterprise_of_street_a(world, actor):
    url = reverse("api:enterprise-detail", args=[world.a.enterprise.pk])
    response = client_for(world, actor).patch(url, {"employee_count": 77}, format="json")
    expected = {**WRITE_EXPECTED, "token_b": 404}.get(actor, 200)
    assert response.status_code == expected, response.content


# --- Every route × every method × every caller --------------------------------------------------

# Which resources an employee may read at all (the rest answer them 403, before the method).
PUBLIC_TO_EMPLOYEES = {"station", "space", "event", "booking", "space-reservation"}
WRITABLE = {"building", "enterprise"}  # create and update by staff in their territory; no deletes


def api_route_names() -> set[str]:
    from django.urls import get_resolver

    return {name for name in get_resolver().namespace_dict["api"][1].reverse_dict if isinstance(name, str)}


def test_every_api_route_is_in_the_matrix():
    """A new endpoint must be added to the tables of this module (and so to the matrix)."""
    covered = {f"{r}-{kind}" for r in {b for b, *_ in RESOURCES.values()} for kind in ("list", "detail")}
    covered |= set(OTHER_ROUTES)  # the actions, the statistics, the schema and its pages
    assert api_route_names() == covered


def method_expected(basename: str, actor: str, method: str, detail: bool) -> int:
    """The status for a write method on a record of street A (detail) or on the list."""
    if actor == "anonymous":
        return 401
    if actor == "employee" and basename not in PUBLIC_TO_EMPLOYEES:
        return 403  # no territory: the endpoint itself is closed to them
    if basename not in WRITABLE or method == "delete" or (detail and method == "post"):
        return 405
    if not detail and method in ("put", "patch"):
        return 405
    if actor == "employee":
        return 403
    if detail and actor == "token_b":
        return 404  # street A lies outside district B
    return 400  # the right caller, an empty body: field errors (the writes themselves are tested above)


@pytest.mark.parametrize("basename", sorted({b for b, *_ in RESOURCES.values()}))
def test_write_methods_on_every_route(world, basename):
    """Every write method on the list and on a record of street A, for each of the six callers.

    One world per resource: every request here is refused or changes nothing (an empty
    body), so the callers cannot disturb each other; the state is compared at the end.
    """
    record = RESOURCES[basename][1](world)["a"]  # every basename is also a resource key

    def state():
        # an empty PATCH by an allowed caller is a save: only its timestamp moves
        return {
            k: v
            for k, v in type(record).objects.filter(pk=record.pk).values().first().items()
            if k != "updated_at"
        }

    before = state()
    wrong = []
    for actor in ACTORS:
        client = client_for(world, actor)
        for method in ("post", "put", "patch", "delete"):
            for detail, url in (
                (False, reverse(f"api:{basename}-list")),
                (True, reverse(f"api:{basename}-detail", args=[record.pk])),
            ):
                response = getattr(client, method)(url, {}, format="json")
                expected = method_expected(basename, actor, method, detail)
                if expected == 400 and method == "patch":
                    expected = 200  # an empty PATCH changes nothing and answers the record
                if response.status_code != expected:
                    wrong.append(
                        f"{actor} {method.upper()} {url}: {response.status_code}, expected {expected}"
                    )
    assert not wrong, "\n".join(wrong)
    assert state() == before  # nothing changed


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", ["schema", "docs", "docs-redoc", "redoc", "root"])
def test_schema_and_docs_for_every_caller(world, actor, name):
    assert client_for(world, actor).get(reverse(f"api:{name}")).status_code == 200


# The routes that are not a resource's list or detail: their other methods, for every caller.
# (Their own method is tested above: booking and cancelling, the statistics, the documentation.)
OTHER_ROUTES = {
    # name: (args from the world, the method it answers, needs a territory)
    "event-book": (lambda w: [w.a.event.pk], "post", False),
    "booking-cancel": (lambda w: [w.employee_booking.pk], "post", False),
    "space-reservation-cancel": (lambda w: [w.records("reservation")["a"].pk], "post", False),
    "stats-coverage": (lambda w: [], "get", True),
    "stats-activity": (lambda w: [], "get", True),
    "stats-demands": (lambda w: [], "get", True),
    "stats-community": (lambda w: [], "get", True),
    "volunteer-hours": (lambda w: [], "get", True),
    "schema": (lambda w: [], "get", None),
    "docs": (lambda w: [], "get", None),
    "docs-redoc": (lambda w: [], "get", None),
    "redoc": (lambda w: [], "get", None),
    "root": (lambda w: [], "get", None),
}


@pytest.mark.parametrize("name", sorted(OTHER_ROUTES))
def test_other_methods_on_actions_statistics_and_docs(world, name):
    args, own_method, territorial = OTHER_ROUTES[name]
    url = reverse(f"api:{name}", args=args(world))
    wrong = []
    for actor in ACTORS:
        client = client_for(world, actor)
        for method in {"get", "post", "put", "patch", "delete"} - {own_method}:
            response = getattr(client, method)(url, {}, format="json")
            if territorial is None:  # the schema and its pages: public, read-only
                expected = 405
            elif actor == "anonymous":
                expected = 401
            elif territorial and actor == "employee":
                expected = 403
            else:
                expected = 405
            if response.status_code != expected:
                wrong.append(f"{actor} {method.upper()} {url}: {response.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)
