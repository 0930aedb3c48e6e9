"""Committee meetings (楼事会): a resolution about a demand appears on the demand's timeline —
written by the admin's inline, shown on the portal's demand page."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from committees.models import CommitteeMeeting, DemandStep, MeetingResolution
from tests.committees.factories import BuildingCommitteeFactory, CommitteeSeatFactory, DemandFactory

pytestmark = pytest.mark.django_db


def test_a_resolution_saved_in_the_admin_goes_on_the_demands_timeline(superuser):
    committee = BuildingCommitteeFactory()
    owner = CommitteeSeatFactory(committee=committee, person_name="王物业")
    demand = DemandFactory(enterprise__building=committee.building)
    client = Client()
    client.force_login(superuser)
    prefix = "resolutions"
    response = client.post(
        reverse("admin:committees_committeemeeting_add"),
        {
            "committee": committee.pk,
            "held_on": "2026-11-10",
            "topic": "电梯问题专题楼事会",
            "attendees": [owner.pk],
            "agenda": [demand.pk],
            "minutes": "",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-text": "物业一周内更换部件",
            f"{prefix}-0-demand": demand.pk,
            f"{prefix}-0-owner": owner.pk,
            f"{prefix}-0-due_on": "2026-11-17",
            f"{prefix}-0-done_on": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    meeting = CommitteeMeeting.objects.get()
    assert list(meeting.attendees.all()) == [owner] and list(meeting.agenda.all()) == [demand]
    resolution = MeetingResolution.objects.get()
    step = DemandStep.objects.get(demand=demand)
    assert "物业一周内更换部件" in step.note and "王物业" in step.note and "2026-11-17" in step.note
    assert step.from_state == step.to_state == demand.state
    assert resolution.due_on == datetime.date(2026, 11, 17)

    submitter = Client()
    submitter.force_login(demand.submitter)
    page = submitter.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert "物业一周内更换部件" in page


def test_a_resolution_owner_from_another_committee_is_refused():
    resolution = MeetingResolution(
        meeting=CommitteeMeeting.objects.create(
            committee=BuildingCommitteeFactory(), held_on=datetime.date(2026, 11, 10), topic="t"
        ),
        owner=CommitteeSeatFactory(),
        text="x",
        due_on=datetime.date(2026, 11, 9),
    )
    with pytest.raises(ValidationError) as refused:
        resolution.clean()
    assert set(refused.value.message_dict) == {"owner", "due_on"}
