"""Admin actions and saves that go through the write side; refusals are messages, never 500s."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from members.linking import LinkError, approve_link_request, reject_link_request
from members.models import MemberLinkRequest, MemberTransfer
from services import booking as engine
from services.models import Booking, Event, SpaceReservation
from tests.admin_helpers import admin_url, form_post_data, make_territory, run_action
from tests.members.factories import (
    MemberLinkRequestFactory,
    PartyMemberFactory,
    PartyOrganizationFactory,
    UserFactory,
)
from tests.services.factories import EventFactory, SpaceReservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(street_a):
    return make_territory(street_a, "甲")


@pytest.fixture
def b(street_b):
    return make_territory(street_b, "丙")


@pytest.fixture
def sw(social_worker):
    client = Client()
    client.force_login(social_worker)
    return client


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def book(event, n: int) -> list[Booking]:
    return [engine.book_event(user=UserFactory(), event=event) for _ in range(n)]


# --- party-member link requests ------------------------------------------------------------


def test_approve_link_request_links_the_user(sw, a, social_worker):
    response = run_action(sw, "members_memberlinkrequest", "approve_requests", [a.link_request.pk])
    assert response.status_code == 200
    assert any("已核实并关联 1 条申请" in t for t in texts(response))
    a.link_request.refresh_from_db()
    a.employee.refresh_from_db()
    assert a.link_request.status == MemberLinkRequest.Status.APPROVED
    assert a.link_request.decided_by == social_worker
    assert a.employee.party_member == a.member


def test_approve_refused_when_member_linked_to_someone_else(sw, a):
    UserFactory(party_member=a.member, username="already")
    response = run_action(sw, "members_memberlinkrequest", "approve_requests", [a.link_request.pk])
    assert response.status_code == 200
    assert any("已关联账号“already”" in t for t in texts(response))
    a.link_request.refresh_from_db()
    a.employee.refresh_from_db()
    assert a.link_request.status == MemberLinkRequest.Status.PENDING
    assert a.employee.party_member is None


def test_link_request_outside_the_street_cannot_be_decided(sw, a, b):
    run_action(sw, "members_memberlinkrequest", "approve_requests", [b.link_request.pk])
    b.link_request.refresh_from_db()
    assert b.link_request.status == MemberLinkRequest.Status.PENDING


def test_reject_asks_for_a_reason_then_rejects(sw, a):
    page = run_action(sw, "members_memberlinkrequest", "reject_requests", [a.link_request.pk])
    assert page.status_code == 200
    assert "admin/action_note.html" in [t.name for t in page.templates]
    a.link_request.refresh_from_db()
    assert a.link_request.status == MemberLinkRequest.Status.PENDING  # nothing yet
    response = run_action(
        sw,
        "members_memberlinkrequest",
        "reject_requests",
        [a.link_request.pk],
        confirm="yes",
        note="单位不符",
    )
    assert any("已驳回 1 条申请" in t for t in texts(response))
    a.link_request.refresh_from_db()
    assert a.link_request.status == MemberLinkRequest.Status.REJECTED
    assert a.link_request.decision_note == "单位不符"


def test_linking_rules(a, b, social_worker):
    with pytest.raises(LinkError) as exc:
        approve_link_request(request=b.link_request, by=social_worker)
    assert exc.value.code == "out_of_scope"
    reject_link_request(request=a.link_request, by=social_worker, note="")
    with pytest.raises(LinkError) as exc:
        approve_link_request(request=a.link_request, by=social_worker)
    assert exc.value.code == "not_pending"
    # A user already linked to another record is not silently re-linked.
    other = PartyMemberFactory(organization=a.organization)
    a.employee.party_member = other
    a.employee.save()
    second = MemberLinkRequestFactory(user=a.employee, member=a.member)
    with pytest.raises(LinkError) as exc:
        approve_link_request(request=second, by=social_worker)
    assert exc.value.code == "user_already_linked"


# --- organizational-relationship transfers ----------------------------------------------


def test_complete_and_cancel_transfer_actions(sw, a):
    transfer = a.transfer
    response = run_action(sw, "members_membertransfer", "complete_transfers", [transfer.pk])
    assert any("已完成 1 条" in t for t in texts(response))
    transfer.refresh_from_db()
    a.member.refresh_from_db()
    assert transfer.status == MemberTransfer.Status.COMPLETED
    assert a.member.organization == transfer.to_organization
    # Completing twice is refused with the rule's message, not a 500.
    response = run_action(sw, "members_membertransfer", "cancel_transfers", [transfer.pk])
    assert response.status_code == 200
    assert any("不能再办理" in t for t in texts(response))
    assert not any("已撤销" in t for t in texts(response))
    transfer.refresh_from_db()
    assert transfer.status == MemberTransfer.Status.COMPLETED


def test_cancel_transfer_action(sw, a):
    response = run_action(sw, "members_membertransfer", "cancel_transfers", [a.transfer.pk])
    assert any("已撤销 1 条" in t for t in texts(response))
    a.transfer.refresh_from_db()
    assert a.transfer.status == MemberTransfer.Status.CANCELLED


def test_add_transfer_goes_through_the_write_side(sw, a, social_worker):
    a.transfer.status = MemberTransfer.Status.CANCELLED
    a.transfer.save()
    target = PartyOrganizationFactory(street=a.street, name="甲第三党支部")
    data = {
        "member": a.member.pk,
        "direction": "internal",
        "to_organization": target.pk,
        "external_organization": "",
        "requested_on": timezone.localdate().isoformat(),
        "note": "工作调动",
    }
    response = sw.post(admin_url("members_membertransfer", "add"), data)
    assert response.status_code == 302
    created = MemberTransfer.objects.get(member=a.member, status=MemberTransfer.Status.PENDING)
    assert created.created_by == social_worker
    assert created.from_organization == a.organization
    # A second pending transfer is refused on the form, with what was typed kept.
    response = sw.post(admin_url("members_membertransfer", "add"), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "该党员已有一条办理中的组织关系转接" in str(form.non_field_errors()) + str(form.errors)
    assert form["note"].value() == "工作调动"
    assert MemberTransfer.objects.filter(member=a.member, status=MemberTransfer.Status.PENDING).count() == 1


def test_receiving_street_sees_and_completes_an_incoming_transfer(a, b, social_worker):
    """A member of street B moving to an organization of street A: street A completes it."""
    b.transfer.to_organization = a.organization
    b.transfer.save()
    client = Client()
    client.force_login(social_worker)
    page = client.get(admin_url("members_membertransfer", "changelist"))
    assert b.transfer.pk in set(page.context["cl"].queryset.values_list("pk", flat=True))
    run_action(client, "members_membertransfer", "complete_transfers", [b.transfer.pk])
    b.transfer.refresh_from_db()
    assert b.transfer.status == MemberTransfer.Status.COMPLETED
    b.member.refresh_from_db()
    assert b.member.organization == a.organization


# --- events: capacity and cancellation through the booking engine ---------------------------


def event_change(client, event, **changes):
    url = admin_url("services_event", "change", event.pk)
    data = form_post_data(client.get(url))
    data.update(changes)
    return client.post(url, data)


def test_capacity_increase_promotes_the_waitlist(sw, a):
    event = EventFactory(space=a.space, capacity=1, starts_at=a.event.starts_at + datetime.timedelta(days=2))
    first, second = book(event, 2)
    assert second.status == Booking.Status.WAITLISTED
    response = event_change(sw, event, capacity="2")
    assert response.status_code == 302
    second.refresh_from_db()
    event.refresh_from_db()
    assert second.status == Booking.Status.CONFIRMED
    assert (event.capacity, event.confirmed_count, event.waitlist_count) == (2, 2, 0)


def test_capacity_below_confirmed_is_a_form_error(sw, a):
    event = EventFactory(space=a.space, capacity=5, starts_at=a.event.starts_at + datetime.timedelta(days=2))
    book(event, 3)
    response = event_change(sw, event, capacity="2", title="改了标题")
    assert response.status_code == 200
    assert "名额不能少于已确认的人数（3人）" in str(response.context["adminform"].form.errors)
    event.refresh_from_db()
    assert (event.capacity, event.title) != (2, "改了标题")


def test_engine_refusal_on_save_is_shown_on_the_form_and_nothing_is_saved(sw, a, monkeypatch):
    event = EventFactory(space=a.space, capacity=5, starts_at=a.event.starts_at + datetime.timedelta(days=2))

    def refuse(**kwargs):
        raise engine.BookingError("capacity_below_confirmed", "名额不能少于已确认的人数（9人）。")

    monkeypatch.setattr(engine, "change_capacity", refuse)
    response = event_change(sw, event, capacity="4", title="新标题")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "名额不能少于已确认的人数（9人）" in str(form.non_field_errors())
    assert form["title"].value() == "新标题"  # what was typed is kept
    event.refresh_from_db()
    assert (event.title, event.capacity) == (event.title, 5)
    assert event.title != "新标题"


def test_field_edit_does_not_overwrite_the_engine_counters(sw, a):
    event = EventFactory(space=a.space, capacity=5, starts_at=a.event.starts_at + datetime.timedelta(days=2))
    url = admin_url("services_event", "change", event.pk)
    data = form_post_data(sw.get(url))  # the form is loaded with confirmed_count 0 ...
    book(event, 2)  # ... people book meanwhile ...
    data["title"] = "周三党课"
    assert sw.post(url, data).status_code == 302  # ... and the edit is saved
    event.refresh_from_db()
    assert event.title == "周三党课"
    assert event.confirmed_count == 2


def test_setting_status_cancelled_cancels_every_booking(sw, a):
    event = EventFactory(space=a.space, capacity=1, starts_at=a.event.starts_at + datetime.timedelta(days=2))
    bookings = book(event, 2)
    assert event_change(sw, event, status="cancelled").status_code == 302
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert (event.confirmed_count, event.waitlist_count) == (0, 0)
    for booking in bookings:
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
    # A cancelled event is not brought back by editing its status.
    response = event_change(sw, event, status="published")
    assert response.status_code == 200
    assert "已取消的活动不能恢复" in str(response.context["adminform"].form.errors)


def test_cancel_events_action_and_its_refusal(sw, a):
    event = EventFactory(space=a.space, capacity=2, starts_at=a.event.starts_at + datetime.timedelta(days=2))
    bookings = book(event, 3)
    response = run_action(sw, "services_event", "cancel_events", [event.pk])
    assert any("已取消 1 个活动" in t for t in texts(response))
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert (event.confirmed_count, event.waitlist_count) == (0, 0)
    assert {b.status for b in Booking.objects.filter(pk__in=[b.pk for b in bookings])} == {"cancelled"}
    response = run_action(sw, "services_event", "cancel_events", [event.pk])
    assert response.status_code == 200
    assert any("该活动已取消" in t for t in texts(response))


def test_event_outside_cannot_be_cancelled_by_action(sw, a, b):
    run_action(sw, "services_event", "cancel_events", [b.event.pk])
    b.event.refresh_from_db()
    assert b.event.status == Event.Status.PUBLISHED


def test_event_page_links_to_checkin(sw, a):
    html = sw.get(admin_url("services_event", "change", a.event.pk)).content.decode()
    assert f"/checkin/?event={a.event.pk}" in html


# --- bookings -------------------------------------------------------------------------------


def test_staff_cancel_booking_after_deadline_promotes_the_waitlist(sw, a):
    now = timezone.now()
    event = EventFactory(
        space=a.space,
        capacity=1,
        starts_at=now + datetime.timedelta(hours=30),
        booking_opens_at=now - datetime.timedelta(days=1),
        booking_closes_at=now + datetime.timedelta(hours=29),
        cancel_deadline=now + datetime.timedelta(hours=20),
    )
    first, second = book(event, 2)
    Event.objects.filter(pk=event.pk).update(cancel_deadline=now - datetime.timedelta(minutes=1))
    with pytest.raises(engine.BookingError):
        engine.cancel_booking(booking=first, by=first.user)  # the booker is past the deadline
    response = run_action(sw, "services_booking", "cancel_bookings", [first.pk])
    assert any("已取消 1 条预约" in t for t in texts(response))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Booking.Status.CANCELLED
    assert second.status == Booking.Status.CONFIRMED
    # Cancelling again: the engine's message, no 500.
    response = run_action(sw, "services_booking", "cancel_bookings", [first.pk])
    assert response.status_code == 200
    assert any("不能取消" in t for t in texts(response))


def test_bookings_are_read_only_in_the_admin(sw, a):
    page = sw.get(admin_url("services_booking", "change", a.booking.pk))
    assert page.status_code == 200
    assert list(page.context["adminform"].form.fields) == []
    assert sw.get(admin_url("services_booking", "add")).status_code == 403


# --- space reservations ---------------------------------------------------------------------


def test_approve_and_reject_reservations(sw, a, social_worker):
    response = run_action(sw, "services_spacereservation", "approve_reservations", [a.reservation.pk])
    assert any("已批准 1 条" in t for t in texts(response))
    a.reservation.refresh_from_db()
    assert a.reservation.status == SpaceReservation.Status.APPROVED
    assert a.reservation.decided_by == social_worker
    # An overlapping request cannot be approved: the rule's message, no 500.
    clash = SpaceReservationFactory(
        space=a.space,
        organization=a.organization,
        starts_at=a.reservation.starts_at,
        ends_at=a.reservation.ends_at,
    )
    response = run_action(sw, "services_spacereservation", "approve_reservations", [clash.pk])
    assert response.status_code == 200
    assert any("冲突" in t or "占用" in t for t in texts(response))
    clash.refresh_from_db()
    assert clash.status == SpaceReservation.Status.REQUESTED
    run_action(
        sw, "services_spacereservation", "reject_reservations", [clash.pk], confirm="yes", note="时段冲突"
    )
    clash.refresh_from_db()
    assert clash.status == SpaceReservation.Status.REJECTED
    assert clash.decision_note == "时段冲突"


def test_add_reservation_goes_through_the_write_side(sw, a, social_worker):
    starts = (a.event.starts_at + datetime.timedelta(days=10)).astimezone(timezone.get_current_timezone())
    ends = starts + datetime.timedelta(hours=1)  # may fall on the next day (a 23:xx start)
    data = {
        "space": a.space.pk,
        "organization": a.organization.pk,
        "purpose": "支部委员会",
        "attendees": "8",
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"),
        "ends_at_1": ends.strftime("%H:%M:%S"),
    }
    response = sw.post(admin_url("services_spacereservation", "add"), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    created = SpaceReservation.objects.get(purpose="支部委员会")
    assert created.requested_by == social_worker
    assert created.status == SpaceReservation.Status.REQUESTED


# --- committees: database rules shown on the form ----------------------------------------


def test_second_building_chief_is_a_form_error(sw, a):
    url = admin_url("committees_buildingcommittee", "change", a.committee.pk)
    data = form_post_data(sw.get(url))
    data.update(
        {
            "seats-1-role": "building_chief",
            "seats-1-person_name": "第二楼长",
            "seats-1-starts_on": "2025-01-01",
        }
    )
    response = sw.post(url, data)
    assert response.status_code == 200
    assert "同一时期每个楼委会只能有一名楼长和一名第一书记" in str(
        response.context["inline_admin_formsets"][0].formset.errors
    )


def test_invalid_role_is_a_form_error_not_a_crash(sw, a):
    url = admin_url("committees_buildingcommittee", "change", a.committee.pk)
    data = form_post_data(sw.get(url))
    data.update({"seats-1-role": "emperor", "seats-1-person_name": "某人", "seats-1-starts_on": "2025-01-01"})
    response = sw.post(url, data)
    assert response.status_code == 200
    assert "role" in str(response.context["inline_admin_formsets"][0].formset.errors)


def test_rule_only_the_database_sees_is_a_form_error_and_saves_nothing(sw, a):
    """Two new chiefs in one post: each row alone is valid, the database refuses the pair."""
    a.resolution.delete()  # its owner is the committee's other seat
    a.committee.seats.all().delete()
    url = admin_url("committees_buildingcommittee", "change", a.committee.pk)
    data = form_post_data(sw.get(url))
    data["seats-TOTAL_FORMS"] = "2"
    for i, name in enumerate(["楼长甲", "楼长乙"]):
        data.update(
            {
                f"seats-{i}-role": "building_chief",
                f"seats-{i}-person_name": name,
                f"seats-{i}-starts_on": "2025-01-01",
                f"seats-{i}-committee": str(a.committee.pk),
            }
        )
    data["term_ends_on"] = "2028-05-31"
    response = sw.post(url, data)
    assert response.status_code == 200
    assert "同一时期每个楼委会只能有一名楼长和一名第一书记" in str(
        response.context["adminform"].form.non_field_errors()
    )
    a.committee.refresh_from_db()
    assert str(a.committee.term_ends_on) == "2027-05-31"  # the whole save was rolled back
    assert not a.committee.seats.exists()
