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


def _meeting_form(meeting, resolution, **changes) -> dict:
    """The admin's change form of ``meeting`` with its one resolution, as the browser posts it."""
    prefix = "resolutions"
    row = {
        "id": resolution.pk,
        "meeting": meeting.pk,
        "text": resolution.text,
        "demand": resolution.demand_id,
        "owner": resolution.owner_id,
        "due_on": str(resolution.due_on),
        "done_on": "",
        **changes,
    }
    return {
        "committee": meeting.committee_id,
        "held_on": str(meeting.held_on),
        "topic": meeting.topic,
        "attendees": [resolution.owner_id],
        "agenda": [resolution.demand_id],
        "minutes": "",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        **{f"{prefix}-0-{key}": value for key, value in row.items()},
    }


def test_the_follow_up_done_goes_on_the_timeline_in_the_portal_and_the_admin(superuser):
    """Marking a resolution done adds one line to its demand's timeline (once); both pages show it."""
    from tests.committees.factories import CommitteeMeetingFactory, MeetingResolutionFactory

    committee = BuildingCommitteeFactory()
    owner = CommitteeSeatFactory(committee=committee, person_name="王物业")
    demand = DemandFactory(enterprise__building=committee.building)
    meeting = CommitteeMeetingFactory(committee=committee, held_on=datetime.date(2026, 11, 10))
    resolution = MeetingResolutionFactory(meeting=meeting, demand=demand, owner=owner, text="更换电梯控制板")
    client = Client()
    client.force_login(superuser)
    url = reverse("admin:committees_committeemeeting_change", args=[meeting.pk])

    # Saved unchanged: nothing on the timeline.
    assert client.post(url, _meeting_form(meeting, resolution)).status_code == 302
    assert not DemandStep.objects.filter(demand=demand).exists()
    # Marked done: one line.
    assert client.post(url, _meeting_form(meeting, resolution, done_on="2026-11-15")).status_code == 302
    step = DemandStep.objects.get(demand=demand)
    assert "已完成" in step.note and "2026-11-15" in step.note and "更换电梯控制板" in step.note
    assert (step.actor, step.from_state, step.to_state) == (superuser, demand.state, demand.state)
    # Saved again with the same day: still one line.
    assert client.post(url, _meeting_form(meeting, resolution, done_on="2026-11-15")).status_code == 302
    assert DemandStep.objects.filter(demand=demand).count() == 1

    admin_page = client.get(reverse("admin:committees_demand_change", args=[demand.pk])).content.decode()
    assert "楼事会决议已完成（2026-11-15）：更换电梯控制板" in admin_page
    assert 'name="_save"' not in admin_page  # the demand's page is read-only: the actions move it
    submitter = Client()
    submitter.force_login(demand.submitter)
    portal = submitter.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert "楼事会决议已完成（2026-11-15）：更换电梯控制板" in portal


def test_a_resolution_added_on_its_own_admin_page_goes_on_the_timeline(superuser):
    from tests.committees.factories import CommitteeMeetingFactory

    committee = BuildingCommitteeFactory()
    owner = CommitteeSeatFactory(committee=committee, person_name="王物业")
    demand = DemandFactory(enterprise__building=committee.building)
    meeting = CommitteeMeetingFactory(committee=committee, held_on=datetime.date(2026, 11, 10))
    client = Client()
    client.force_login(superuser)
    response = client.post(
        reverse("admin:committees_meetingresolution_add"),
        {
            "meeting": meeting.pk,
            "demand": demand.pk,
            "text": "约谈业主",
            "owner": owner.pk,
            "due_on": "2026-11-20",
        },
    )
    assert response.status_code == 302
    (step,) = DemandStep.objects.filter(demand=demand)
    assert "约谈业主" in step.note and "王物业" in step.note and "已完成" not in step.note
