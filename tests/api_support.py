"""A small two-district world and the six kinds of API callers, for the tests/test_api_*.py modules.

District A (静安区) has two streets, district B (浦东新区) one. Every street gets
one of each record (building, enterprise, party organization, member,
committee with seats, station, space, events, bookings, reservation), so that
a test can ask "does this caller see exactly the records of their territory?".
"""

from __future__ import annotations

import dataclasses
import datetime

from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from members.groups import DISTRICT_STAFF, SOCIAL_WORKER
from members.tokens import issue_token
from services.models import Event
from tests.buildings.factories import (
    BuildingFactory,
    DistrictFactory,
    EnterpriseFactory,
    PartnerFactory,
    StreetFactory,
)
from tests.committees.factories import (
    AgreementFactory,
    BuildingCommitteeFactory,
    CommitteeMeetingFactory,
    CommitteeSeatFactory,
    DemandFactory,
    MeetingResolutionFactory,
    VisitFactory,
)
from tests.members.factories import (
    PartyMemberFactory,
    PartyOrganizationFactory,
    StaffUserFactory,
    UserFactory,
)
from tests.services.factories import (
    BookingFactory,
    EventFactory,
    ServiceStationFactory,
    SpaceFactory,
    SpaceReservationFactory,
)


@dataclasses.dataclass
class Patch:
    """The records of one street."""

    street: object
    building: object
    enterprise: object
    organization: object
    member: object
    committee: object
    station: object
    space: object
    event: object
    draft: object
    counselling: object
    booking: object
    counselling_booking: object
    reservation: object
    demand: object
    visit: object
    partner: object = None
    agreement: object = None
    meeting: object = None


@dataclasses.dataclass
class World:
    district_a: object
    district_b: object
    a: Patch
    a2: Patch
    b: Patch
    employee: object
    employee_booking: object
    social_worker: object
    staff_a: object
    staff_b: object
    superuser: object
    key_a: str
    key_b: str

    def records(self, name: str) -> dict[str, object]:
        return {"a": getattr(self.a, name), "a2": getattr(self.a2, name), "b": getattr(self.b, name)}


def _patch(street, n: int, booker) -> Patch:
    building = BuildingFactory(street=street, is_key_building=True, employee_count=1000 + n)
    enterprise = EnterpriseFactory(building=building)
    organization = PartyOrganizationFactory(street=street)
    organization.buildings.add(building)
    member = PartyMemberFactory(
        organization=organization, enterprise=enterprise, phone=f"1381234{n:04d}", name=f"党员{n}"
    )
    committee = BuildingCommitteeFactory(building=building)
    seat = CommitteeSeatFactory(committee=committee, phone=f"1371234{n:04d}")
    station = ServiceStationFactory(building=building)
    space = SpaceFactory(station=station)
    event = EventFactory(space=space)
    draft = EventFactory(
        space=space,
        status=Event.Status.DRAFT,
        starts_at=event.starts_at + datetime.timedelta(days=1),
    )
    counselling = EventFactory(
        space=space,
        kind=Event.Kind.COUNSELLING,
        capacity=1,
        starts_at=event.starts_at + datetime.timedelta(days=2),
    )
    booking = BookingFactory(event=event, user=booker)
    counselling_booking = BookingFactory(event=counselling, user=booker)
    Event.objects.filter(pk=event.pk).update(confirmed_count=1)
    Event.objects.filter(pk=counselling.pk).update(confirmed_count=1)
    reservation = SpaceReservationFactory(
        space=space, organization=organization, starts_at=event.starts_at + datetime.timedelta(days=5)
    )
    partner = PartnerFactory(street=street, phone=f"1391234{n:04d}")
    agreement = AgreementFactory(partner=partner, committees=[committee])
    demand = DemandFactory(enterprise=enterprise)
    # A committee meeting (楼事会): the seat attended, the demand on the agenda, one resolution on it.
    meeting = CommitteeMeetingFactory(committee=committee)
    meeting.attendees.add(seat)
    meeting.agenda.add(demand)
    MeetingResolutionFactory(meeting=meeting, demand=demand, owner=seat)
    return Patch(
        street=street,
        building=building,
        enterprise=enterprise,
        organization=organization,
        member=member,
        committee=committee,
        station=station,
        space=space,
        event=event,
        draft=draft,
        counselling=counselling,
        booking=booking,
        counselling_booking=counselling_booking,
        reservation=reservation,
        demand=demand,
        visit=VisitFactory(enterprise=enterprise),
        partner=partner,
        agreement=agreement,
        meeting=meeting,
    )


def build_world() -> World:
    district_a = DistrictFactory(name="静安区", code="310106")
    district_b = DistrictFactory(name="浦东新区", code="310115")
    street_a = StreetFactory(district=district_a, name="南京西路街道")
    street_a2 = StreetFactory(district=district_a, name="静安寺街道")
    street_b = StreetFactory(district=district_b, name="陆家嘴街道")
    booker = UserFactory(username="booker")
    a, a2, b = _patch(street_a, 1, booker), _patch(street_a2, 2, booker), _patch(street_b, 3, booker)

    employee = UserFactory(username="employee_api")
    employee_booking = BookingFactory(event=a.event, user=employee)
    Event.objects.filter(pk=a.event.pk).update(confirmed_count=2)

    social_worker = StaffUserFactory(username="sw_api", streets=[street_a])
    social_worker.groups.add(Group.objects.get(name=SOCIAL_WORKER))
    staff_a = StaffUserFactory(username="district_a_api", district=district_a)
    staff_b = StaffUserFactory(username="district_b_api", district=district_b)
    for user in (staff_a, staff_b):
        user.groups.add(Group.objects.get(name=DISTRICT_STAFF))
    superuser = UserFactory(username="root_api", is_staff=True, is_superuser=True)
    _token_a, key_a = issue_token(user=staff_a, name="静安区数据对接")
    _token_b, key_b = issue_token(user=staff_b, name="浦东新区数据对接")
    return World(
        district_a=district_a,
        district_b=district_b,
        a=a,
        a2=a2,
        b=b,
        employee=employee,
        employee_booking=employee_booking,
        social_worker=social_worker,
        staff_a=staff_a,
        staff_b=staff_b,
        superuser=superuser,
        key_a=key_a,
        key_b=key_b,
    )


ACTORS = ("anonymous", "employee", "social_worker", "token_a", "token_b", "superuser")


def client_for(world: World, actor: str) -> APIClient:
    """An API client for one of ``ACTORS``: sessions for people, keys for the district offices."""
    client = APIClient()
    if actor == "token_a":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.key_a}")
    elif actor == "token_b":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.key_b}")
    elif actor != "anonymous":
        client.force_login(getattr(world, actor))
    return client


def grant(user, codename: str) -> None:
    app_label, code = codename.split(".")
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=code))
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, attr):
            delattr(user, attr)


def result_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}
