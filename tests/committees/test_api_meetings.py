"""/api/v1/committee-meetings/: committee meetings (楼事会) with attendance, agenda demands and
resolutions, read-only, in the reader's territory — every role, the filters, a fixed query count.
(The permission matrix and Schemathesis also sweep it: tests/test_api_permissions.py, test_api_schema.py.)"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.buildings.factories import BuildingFactory, StreetFactory
from tests.committees.factories import (
    BuildingCommitteeFactory,
    CommitteeMeetingFactory,
    CommitteeSeatFactory,
    DemandFactory,
    MeetingResolutionFactory,
)
from tests.members.factories import PartyMemberFactory, SocialWorkerFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("api:committee-meeting-list")
QUERIES = 7


def meeting_in(street, *, held_on=datetime.date(2026, 11, 10), topic="楼事会"):
    committee = BuildingCommitteeFactory(building=BuildingFactory(street=street))
    chief = CommitteeSeatFactory(committee=committee, role="building_chief", person_name="张明")
    member = CommitteeSeatFactory(committee=committee, person_name="李建国")
    demand = DemandFactory(enterprise__building=committee.building, title=f"{topic}的诉求")
    meeting = CommitteeMeetingFactory(committee=committee, held_on=held_on, topic=topic)
    meeting.attendees.add(chief, member)
    meeting.agenda.add(demand)
    MeetingResolutionFactory(
        meeting=meeting, demand=demand, owner=member, text="物业一周内更换部件", due_on=held_on
    )
    MeetingResolutionFactory(meeting=meeting, owner=chief, text="下次会议听取汇报", due_on=held_on)
    return meeting


@pytest.fixture
def meetings(street_a, street_a2, street_b):
    return {
        "a": meeting_in(street_a, topic="南京西路楼事会"),
        "a2": meeting_in(street_a2, held_on=datetime.date(2026, 10, 1), topic="静安寺楼事会"),
        "b": meeting_in(street_b, topic="陆家嘴楼事会"),
    }


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_the_answer_has_attendance_agenda_and_resolutions(meetings, district_staff):
    meeting = meetings["a"]
    response = _client(district_staff).get(reverse("api:committee-meeting-detail", args=[meeting.pk]))
    body = response.json()
    assert response.status_code == 200
    assert (body["topic"], body["held_on"], body["committee"]) == (
        "南京西路楼事会",
        "2026-11-10",
        meeting.committee_id,
    )
    assert body["building"]["id"] == meeting.committee.building_id
    assert [a["person_name"] for a in body["attendees"]] == ["张明", "李建国"]
    assert "phone" not in body["attendees"][0]
    demand = meeting.agenda.get()
    assert body["agenda"] == [
        {"id": demand.pk, "title": demand.title, "state": "submitted", "state_label": "已提交"}
    ]
    first, second = body["resolutions"]
    assert (
        first["text"],
        first["demand"],
        first["owner"]["person_name"],
        first["due_on"],
        first["done_on"],
    ) == (
        "物业一周内更换部件",
        demand.pk,
        "李建国",
        "2026-11-10",
        None,
    )
    assert (second["demand"], second["owner"]["role_label"]) == (None, "楼长")


def test_scope_for_every_role(meetings, street_a, street_b, superuser, district_staff, employee):
    expected = {
        "superuser": {m.pk for m in meetings.values()},
        "district_staff": {meetings["a"].pk, meetings["a2"].pk},
        "worker_a": {meetings["a"].pk},
        "worker_b": {meetings["b"].pk},  # a social worker of another street: only their street's
    }
    users = {
        "superuser": superuser,
        "district_staff": district_staff,
        "worker_a": SocialWorkerFactory(streets=[street_a]),
        "worker_b": SocialWorkerFactory(streets=[street_b]),
    }
    for role, user in users.items():
        client = _client(user)
        assert _ids(client.get(URL)) == expected[role], role
        for meeting in meetings.values():
            status = client.get(reverse("api:committee-meeting-detail", args=[meeting.pk])).status_code
            assert status == (200 if meeting.pk in expected[role] else 404), (role, meeting.topic)

    # A committee member (a party member with a linked account, a seat on the committee) and an
    # employee have no territory: the endpoint is closed to them; anonymous callers must log in.
    seat_holder = UserFactory(party_member=PartyMemberFactory())
    CommitteeSeatFactory(committee=meetings["a"].committee, member=seat_holder.party_member)
    detail = reverse("api:committee-meeting-detail", args=[meetings["a"].pk])
    for user in (seat_holder, employee):
        assert _client(user).get(URL).status_code == 403
        assert _client(user).get(detail).status_code == 403
    assert _client().get(URL).status_code == 401
    assert _client().get(detail).status_code == 401


def test_read_only(meetings, superuser):
    client = _client(superuser)
    detail = reverse("api:committee-meeting-detail", args=[meetings["a"].pk])
    assert client.post(URL, {}, format="json").status_code == 405
    assert client.patch(detail, {"topic": "改"}, format="json").status_code == 405
    assert client.delete(detail).status_code == 405


def test_filters(meetings, superuser, street_a, district_a):
    client = _client(superuser)
    a, a2, b = meetings["a"], meetings["a2"], meetings["b"]
    assert _ids(client.get(URL, {"street": street_a.pk})) == {a.pk}
    assert _ids(client.get(URL, {"district": district_a.pk})) == {a.pk, a2.pk}
    assert _ids(client.get(URL, {"committee": f"{a.committee_id},{b.committee_id}"})) == {a.pk, b.pk}
    assert _ids(client.get(URL, {"building": b.committee.building_id})) == {b.pk}
    assert _ids(client.get(URL, {"held_from": "2026-11-01"})) == {a.pk, b.pk}
    assert _ids(client.get(URL, {"held_to": "2026-10-31"})) == {a2.pk}
    assert _ids(client.get(URL, {"search": "陆家嘴"})) == {b.pk}


def test_a_street_filter_outside_the_territory_finds_nothing(meetings, street_b):
    worker = SocialWorkerFactory(streets=[meetings["a"].committee.building.street])
    assert _ids(_client(worker).get(URL, {"street": street_b.pk})) == set()


def test_csv(meetings, superuser):
    response = _client(superuser).get(URL, {"format": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "南京西路楼事会" in body and "陆家嘴楼事会" in body


def test_query_count_is_fixed(superuser, street_a, django_assert_num_queries):
    """Session and user, count, page, attendees, agenda, resolutions with owners: 7, for 1 row or 6."""
    client = _client(superuser)
    meeting_in(street_a)
    with django_assert_num_queries(QUERIES):
        assert len(client.get(URL).json()["results"]) == 1
    for i in range(5):
        meeting_in(StreetFactory(), topic=f"楼事会{i}")
    with django_assert_num_queries(QUERIES):
        assert len(client.get(URL).json()["results"]) == 6
