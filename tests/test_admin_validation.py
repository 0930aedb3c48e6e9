"""Admin forms put each refusal next to the field it is about, and save nothing.

Through the admin client, as a street social worker edits their street's records:
a duplicate name shows on the name field (not above the form), a second current
building chief on the role field, a space shrunk below what is planned in it on the
capacity field, and booking that would open after the event's start on that field.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from services.models import Space, SpaceReservation
from tests.admin_helpers import admin_url, form_post_data, make_territory
from tests.buildings.factories import BuildingFactory, EnterpriseFactory, StreetFactory
from tests.committees.factories import CommitteeSeatFactory
from tests.members.factories import PartyOrganizationFactory
from tests.services.factories import (
    EventFactory,
    ServiceStationFactory,
    SpaceFactory,
    SpaceReservationFactory,
)

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
ONE_CHIEF = "同一时期每个楼委会只能有一名楼长和一名第一书记。"


@pytest.fixture
def a(street_a):
    return make_territory(street_a, "甲")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sw(social_worker):
    return client_for(social_worker)


def post_form(client, url: str, **changes):
    """Post the page's form as rendered, with ``changes``; return the response (a 200: refused)."""
    data = form_post_data(client.get(url))
    data.update(changes)
    return client.post(url, data)


def form_errors(response) -> tuple[dict, list]:
    assert response.status_code == 200, "saved, though it should have been refused"
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}, list(form.non_field_errors())


def split(value: datetime.datetime, name: str) -> dict[str, str]:
    """The admin's split date/time inputs, as a browser posts them (local time, to the minute)."""
    local = timezone.localtime(value)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M")}


# --- a duplicate name is an error of the name field ------------------------------------------------


DUPLICATES = {
    # admin: (record to rename, the sibling whose name it takes, the message)
    "buildings_street": (  # streets are the map: superusers only
        lambda a: (StreetFactory(district=a.street.district), a.street),
        "该区已有同名街道。",
    ),
    "buildings_building": (lambda a: (BuildingFactory(street=a.street), a.building), "该街道已有同名楼宇。"),
    "buildings_enterprise": (
        lambda a: (EnterpriseFactory(building=a.building), a.enterprise),
        "该楼宇已有同名企业。",
    ),
    "members_partyorganization": (
        lambda a: (PartyOrganizationFactory(street=a.street), a.organization),
        "该街道已有同名党组织。",
    ),
    "services_servicestation": (
        lambda a: (ServiceStationFactory(building=a.building), a.station),
        "该楼宇已有同名服务站。",
    ),
    "services_space": (lambda a: (SpaceFactory(station=a.station), a.space), "该服务站已有同名空间。"),
}


@pytest.mark.parametrize("prefix", sorted(DUPLICATES))
def test_a_duplicate_name_is_shown_on_the_name_field(a, sw, superuser, prefix):
    make_pair, message = DUPLICATES[prefix]
    record, sibling = make_pair(a)
    client = client_for(superuser) if prefix == "buildings_street" else sw
    response = post_form(client, admin_url(prefix, "change", record.pk), name=sibling.name)
    errors, non_field = form_errors(response)
    assert errors.get("name") == [message]
    assert non_field == []
    record.refresh_from_db()
    assert record.name != sibling.name


def test_a_duplicate_space_name_in_the_station_inline_is_shown_on_its_name_field(a, sw):
    other = SpaceFactory(station=a.station, name="乙活动室")
    url = admin_url("services_servicestation", "change", a.station.pk)
    data = form_post_data(sw.get(url))
    [index] = [
        i for i in range(int(data["spaces-TOTAL_FORMS"])) if data.get(f"spaces-{i}-id") == str(other.pk)
    ]
    data[f"spaces-{index}-name"] = a.space.name
    response = sw.post(url, data)
    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][0].formset.forms[index]
    assert form.errors["name"] == ["该服务站已有同名空间。"]
    assert form.non_field_errors() == []
    other.refresh_from_db()
    assert other.name == "乙活动室"


# --- a second current building chief is an error of the role field ---------------------------------


def test_a_second_building_chief_on_the_committee_page_is_shown_on_the_role_field(a, sw):
    seats = a.committee.seats.count()
    url = admin_url("committees_buildingcommittee", "change", a.committee.pk)
    data = form_post_data(sw.get(url))
    new = int(data["seats-TOTAL_FORMS"]) - 1  # the empty extra row
    data.update(
        {
            f"seats-{new}-role": "building_chief",
            f"seats-{new}-person_name": "第二楼长",
            f"seats-{new}-starts_on": "2025-01-01",
        }
    )
    response = sw.post(url, data)
    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][0].formset.forms[new]
    assert form.errors["role"] == [ONE_CHIEF]
    assert form.non_field_errors() == []
    assert a.committee.seats.count() == seats  # nothing saved


def test_a_second_building_chief_on_the_seat_page_is_shown_on_the_role_field(a, sw):
    director = CommitteeSeatFactory(
        committee=a.committee, role="director", starts_on=datetime.date(2025, 1, 1)
    )
    response = post_form(
        sw, admin_url("committees_committeeseat", "change", director.pk), role="building_chief"
    )
    errors, non_field = form_errors(response)
    assert errors.get("role") == [ONE_CHIEF]
    assert non_field == []
    director.refresh_from_db()
    assert director.role == "director"


# --- a space cannot shrink below what is planned in it ----------------------------------------------


@pytest.fixture
def planned(a):
    """The territory's space (100 places) holds an upcoming event of 60 seats (and smaller ones)."""
    assert a.space.capacity == 100
    return EventFactory(
        space=a.space, capacity=60, title="大型党课", starts_at=a.event.starts_at + datetime.timedelta(days=2)
    )


def test_shrinking_a_space_below_an_upcoming_event_is_refused_on_the_capacity_field(a, sw, planned):
    response = post_form(sw, admin_url("services_space", "change", a.space.pk), capacity="59")
    errors, non_field = form_errors(response)
    assert errors == {"capacity": ["容纳人数不能少于本空间未结束的活动《大型党课》的名额（60人）。"]}
    assert non_field == []
    assert Space.objects.get(pk=a.space.pk).capacity == 100
    # Down to the event's size is fine.
    response = post_form(sw, admin_url("services_space", "change", a.space.pk), capacity="60")
    assert response.status_code == 302
    assert Space.objects.get(pk=a.space.pk).capacity == 60


def test_shrinking_a_space_in_the_station_inline_is_refused_on_its_capacity_field(a, sw, planned):
    url = admin_url("services_servicestation", "change", a.station.pk)
    data = form_post_data(sw.get(url))
    [index] = [
        i for i in range(int(data["spaces-TOTAL_FORMS"])) if data.get(f"spaces-{i}-id") == str(a.space.pk)
    ]
    data[f"spaces-{index}-capacity"] = "20"
    response = sw.post(url, data)
    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][0].formset.forms[index]
    assert form.errors["capacity"] == ["容纳人数不能少于本空间未结束的活动《大型党课》的名额（60人）。"]
    assert Space.objects.get(pk=a.space.pk).capacity == 100


def test_shrinking_a_space_below_an_approved_reservation_is_refused(a, sw, planned):
    SpaceReservationFactory(
        space=a.space,
        organization=a.organization,
        attendees=80,
        purpose="支部主题党日",
        status=SpaceReservation.Status.APPROVED,
        starts_at=planned.starts_at + 24 * H,
        ends_at=planned.starts_at + 26 * H,
    )
    response = post_form(sw, admin_url("services_space", "change", a.space.pk), capacity="70")
    errors, _non_field = form_errors(response)
    assert errors == {
        "capacity": ["容纳人数不能少于本空间已批准的场地预约（支部主题党日）的预计人数（80人）。"]
    }


# --- booking may not open after the event has started ----------------------------------------------


def test_booking_opening_after_the_start_is_refused_on_its_field(a, sw):
    event = a.event
    response = post_form(
        sw,
        admin_url("services_event", "change", event.pk),
        **split(event.starts_at + H, "booking_opens_at"),
        **split(event.starts_at + 90 * datetime.timedelta(minutes=1), "booking_closes_at"),
    )
    errors, non_field = form_errors(response)
    assert errors == {"booking_opens_at": ["开始报名时间不能晚于活动开始。"]}
    assert non_field == []
    event.refresh_from_db()
    assert event.booking_opens_at < event.starts_at
