"""Every list endpoint answers in a fixed number of queries, whatever the page size (no N+1).

Each list is requested with ``page_size=2`` and ``page_size=50`` over a world
with many rows of every kind; both must take the same number of queries,
and no more than the recorded budget (authentication and scoping included).
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from services.models import Event
from tests.api_support import build_world
from tests.buildings.factories import BuildingFactory, EnterpriseFactory, PartnerFactory
from tests.committees.factories import (
    AgreementFactory,
    BuildingCommitteeFactory,
    CommitteeMeetingFactory,
    CommitteeSeatFactory,
    DemandFactory,
    MeetingResolutionFactory,
    VisitFactory,
)
from tests.members.factories import PartyMemberFactory, PartyOrganizationFactory
from tests.services.factories import (
    BookingFactory,
    EventFactory,
    ServiceStationFactory,
    SpaceFactory,
    SpaceReservationFactory,
    VolunteerHoursFactory,
)

pytestmark = pytest.mark.django_db

# Budget per list, for a district key: 1 key lookup, 1 for the user's streets (scoping),
# 1 count, 1 page, plus the prefetches and permission lookups each list needs.
BUDGET = {
    "api:district-list": 4,
    "api:street-list": 4,
    "api:building-list": 4,
    "api:enterprise-list": 4,
    "api:party-organization-list": 5,
    "api:party-member-list": 6,
    "api:committee-list": 7,
    "api:station-list": 4,
    "api:space-list": 4,
    "api:event-list": 4,
    "api:booking-list": 6,
    "api:space-reservation-list": 4,
    "api:demand-list": 4,
    "api:visit-list": 4,
    "api:committee-meeting-list": 7,  # + attendees, agenda demands, resolutions with their owners
    "api:partner-list": 6,  # + the personal-data permission check (user and group permissions) for the phone
    "api:agreement-list": 6,
}
STATS_BUDGET = {
    "api:stats-coverage": 8,
    "api:stats-activity": 5,
    "api:stats-community": 10,
    "api:stats-demands": 8,
    "api:volunteer-hours": 3,
}


def populate(street, n: int = 8) -> None:
    """``n`` more rows of every kind in ``street``, each with the related rows its list shows."""
    for i in range(n):
        building = BuildingFactory(street=street, is_key_building=i % 2 == 0)
        enterprise = EnterpriseFactory(building=building)
        organization = PartyOrganizationFactory(street=street, enterprise=enterprise if i % 3 == 0 else None)
        organization.buildings.add(building)
        member = PartyMemberFactory(organization=organization, enterprise=enterprise)
        committee = BuildingCommitteeFactory(building=building)
        seats = [
            CommitteeSeatFactory(committee=committee, member=member),
            CommitteeSeatFactory(committee=committee),
        ]
        station = ServiceStationFactory(building=building)
        space = SpaceFactory(station=station)
        event = EventFactory(space=space, organizer=organization)
        EventFactory(
            space=space, starts_at=event.starts_at + datetime.timedelta(days=1), kind=Event.Kind.OTHER
        )
        BookingFactory(event=event)
        BookingFactory(event=event, status="waitlisted")
        SpaceReservationFactory(space=space, organization=organization)
        visit = VisitFactory(enterprise=enterprise)
        demand = DemandFactory(enterprise=enterprise, visit=visit)
        meeting = CommitteeMeetingFactory(committee=committee)
        meeting.attendees.add(*seats)
        meeting.agenda.add(demand)
        MeetingResolutionFactory(meeting=meeting, demand=demand, owner=seats[0])
        MeetingResolutionFactory(meeting=meeting, owner=seats[1])
        partner = PartnerFactory(street=street)
        AgreementFactory(partner=partner, committees=[committee])
        VolunteerHoursFactory(booking__event__space__station__partner=partner)


@pytest.fixture
def world():
    world = build_world()
    populate(world.a.street)
    populate(world.a2.street)
    return world


def count_queries(client, url: str, params: dict) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response


@pytest.fixture
def key_client(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.key_a}")
    client.get(reverse("api:district-list"))  # records the key's first use (one write a minute)
    return client


@pytest.mark.parametrize("name", sorted(BUDGET))
def test_list_query_count_is_fixed(key_client, name):
    url = reverse(name)
    small, small_response = count_queries(key_client, url, {"page_size": 2})
    large, large_response = count_queries(key_client, url, {"page_size": 50})
    assert len(large_response.json()["results"]) > len(small_response.json()["results"]) or (
        large_response.json()["count"] <= 2
    )
    assert small == large, f"{name}: {small} queries for 2 rows, {large} for 50"
    assert large <= BUDGET[name], f"{name}: {large} queries, budget {BUDGET[name]}"


@pytest.mark.parametrize("name", sorted(BUDGET))
def test_csv_query_count_is_fixed(key_client, name):
    """The CSV export streams every row with the same fixed number of queries (one chunk here)."""
    url = reverse(name)
    with CaptureQueriesContext(connection) as ctx:
        response = key_client.get(url, {"format": "csv"})
        body = b"".join(response.streaming_content)
    rows = body.decode("utf-8-sig").count("\n") - 1
    assert rows >= 1
    # No count query, one rows query in place of the page: the list's budget at most.
    assert len(ctx.captured_queries) <= BUDGET[name], f"{name}: {len(ctx.captured_queries)} for {rows} rows"


@pytest.mark.parametrize("name", sorted(STATS_BUDGET))
def test_statistics_query_count(key_client, name, world):
    queries, _response = count_queries(key_client, reverse(name), {})
    assert queries <= STATS_BUDGET[name]
    populate(world.a.street, n=4)
    again, _ = count_queries(key_client, reverse(name), {})
    assert again == queries


def test_superuser_session_lists_have_the_same_shape(world):
    """A superuser (no scoping filter, session auth) also does not grow with the page size."""
    client = APIClient()
    client.force_login(world.superuser)
    for name in BUDGET:
        small, _ = count_queries(client, reverse(name), {"page_size": 2})
        large, _ = count_queries(client, reverse(name), {"page_size": 50})
        assert small == large, name
