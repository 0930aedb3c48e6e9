"""The admin shows, offers and changes only what lies in the user's territory.

A street social worker of street A, district staff of district A (streets A and
A2) and a superuser, against records in street A, street A2 (same district) and
street B (another district): lists, change, delete and history pages,
autocomplete, CSV exports and foreign-key choices in forms.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from committees.models import CommitteeSeat
from members.groups import SOCIAL_WORKER
from members.models import PartyMember
from services.models import Booking
from tests.admin_helpers import (
    SCOPED_RECORDS,
    admin_url,
    autocomplete_ids,
    changelist_pks,
    export_csv,
    form_post_data,
    grant,
    make_territory,
    run_action,
)
from tests.buildings.factories import EnterpriseFactory
from tests.members.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(street_a, street_a2, street_b):
    return {
        "a": make_territory(street_a, "甲"),
        "a2": make_territory(street_a2, "乙"),
        "b": make_territory(street_b, "丙"),
    }


@pytest.fixture
def sw_client(client, social_worker):
    client.force_login(social_worker)
    return client


@pytest.fixture
def district_client(district_staff):
    client = Client()
    client.force_login(district_staff)
    return client


@pytest.fixture
def super_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def test_fixture_users_are_in_the_groups(social_worker, district_staff):
    assert social_worker.groups.filter(name=SOCIAL_WORKER).exists()
    assert district_staff.groups.filter(name="区级工作人员").exists()


# --- lists ------------------------------------------------------------------------------


@pytest.mark.parametrize(("attr", "prefix"), SCOPED_RECORDS)
def test_social_worker_lists_only_their_street(sw_client, world, attr, prefix):
    pks = changelist_pks(sw_client, prefix)
    assert getattr(world["a"], attr).pk in pks
    assert getattr(world["a2"], attr).pk not in pks
    assert getattr(world["b"], attr).pk not in pks


@pytest.mark.parametrize(("attr", "prefix"), SCOPED_RECORDS)
def test_district_staff_list_their_district(district_client, world, attr, prefix):
    pks = changelist_pks(district_client, prefix)
    assert getattr(world["a"], attr).pk in pks
    assert getattr(world["a2"], attr).pk in pks
    assert getattr(world["b"], attr).pk not in pks


@pytest.mark.parametrize(("attr", "prefix"), SCOPED_RECORDS)
def test_superuser_lists_everything(super_client, world, attr, prefix):
    pks = changelist_pks(super_client, prefix)
    for key in ("a", "a2", "b"):
        assert getattr(world[key], attr).pk in pks


def test_district_list_is_scoped(sw_client, world, district_a, district_b):
    pks = changelist_pks(sw_client, "buildings_district")
    assert pks == {district_a.pk}


def test_street_filter_cannot_reach_outside(sw_client, world):
    """Asking the list for street B's records by a filter parameter yields nothing."""
    pks = changelist_pks(sw_client, "members_partymember", {"street": str(world["b"].street.pk)})
    assert pks == set()
    pks = changelist_pks(sw_client, "members_partymember", {"district": str(world["b"].street.district_id)})
    assert pks == set()


def test_search_does_not_reach_outside(sw_client, world):
    assert changelist_pks(sw_client, "members_partymember", {"q": "丙党员"}) == set()
    assert changelist_pks(sw_client, "members_partymember", {"q": "甲党员"}) == {world["a"].member.pk}


def test_staff_user_without_territory_sees_nothing(client, world):
    user = StaffUserFactory(username="no_territory")
    user.groups.add(Group.objects.get(name=SOCIAL_WORKER))
    client.force_login(user)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert client.get(admin_url("members_partymember", "changelist")).status_code == 403


# --- change, delete, history ----------------------------------------------------------------


@pytest.mark.parametrize(("attr", "prefix"), SCOPED_RECORDS)
def test_change_page_outside_territory_is_not_found(sw_client, world, attr, prefix):
    own = sw_client.get(admin_url(prefix, "change", getattr(world["a"], attr).pk))
    assert own.status_code == 200
    for key in ("a2", "b"):
        other = sw_client.get(admin_url(prefix, "change", getattr(world[key], attr).pk))
        assert other.status_code == 302
        assert other["Location"] == reverse("admin:index")


@pytest.mark.parametrize(("attr", "prefix"), SCOPED_RECORDS)
def test_history_outside_territory_is_not_found(sw_client, world, attr, prefix):
    assert sw_client.get(admin_url(prefix, "history", getattr(world["a"], attr).pk)).status_code == 200
    other = sw_client.get(admin_url(prefix, "history", getattr(world["b"], attr).pk))
    assert other.status_code == 302


def test_change_post_outside_territory_changes_nothing(sw_client, world):
    member_b = world["b"].member
    response = sw_client.post(
        admin_url("members_partymember", "change", member_b.pk), {"name": "改名", "gender": "M"}
    )
    assert response.status_code == 302
    member_b.refresh_from_db()
    assert member_b.name == "丙党员"


def test_delete_respects_territory(sw_client, world):
    seat_a, seat_b = world["a"].seat, world["b"].seat
    # Outside the territory: "not found", nothing deleted (page and POST alike).
    assert sw_client.get(admin_url("committees_committeeseat", "delete", seat_b.pk)).status_code == 302
    sw_client.post(admin_url("committees_committeeseat", "delete", seat_b.pk), {"post": "yes"})
    assert CommitteeSeat.objects.filter(pk=seat_b.pk).exists()
    # The bulk action only ever sees the scoped list.
    run_action(sw_client, "committees_committeeseat", "delete_selected", [seat_b.pk], post="yes")
    assert CommitteeSeat.objects.filter(pk=seat_b.pk).exists()
    # Inside: a social worker may remove a seat entered by mistake.
    assert sw_client.get(admin_url("committees_committeeseat", "delete", seat_a.pk)).status_code == 200
    sw_client.post(admin_url("committees_committeeseat", "delete", seat_a.pk), {"post": "yes"})
    assert not CommitteeSeat.objects.filter(pk=seat_a.pk).exists()


def test_no_one_but_superusers_deletes_members_or_bookings(sw_client, world):
    member, booking = world["a"].member, world["a"].booking
    assert sw_client.get(admin_url("members_partymember", "delete", member.pk)).status_code == 403
    sw_client.post(admin_url("members_partymember", "delete", member.pk), {"post": "yes"})
    assert PartyMember.objects.filter(pk=member.pk).exists()
    assert sw_client.get(admin_url("services_booking", "delete", booking.pk)).status_code == 403
    assert Booking.objects.filter(pk=booking.pk).exists()


def test_superuser_deletes_outside_any_street(super_client, world):
    seat = world["b"].seat
    super_client.post(admin_url("committees_committeeseat", "delete", seat.pk), {"post": "yes"})
    assert not CommitteeSeat.objects.filter(pk=seat.pk).exists()


def test_district_staff_read_events_but_cannot_change_them(district_client, world):
    event = world["a2"].event
    page = district_client.get(admin_url("services_event", "change", event.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    response = district_client.post(admin_url("services_event", "change", event.pk), {"title": "改"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.title == "乙党课"


def test_district_staff_change_buildings_of_their_district_only(district_client, world):
    own = district_client.get(admin_url("buildings_building", "change", world["a2"].building.pk))
    assert own.status_code == 200
    assert own.context["has_change_permission"] is True
    data = form_post_data(own)
    data["employee_count"] = "4321"
    response = district_client.post(admin_url("buildings_building", "change", world["a2"].building.pk), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    world["a2"].building.refresh_from_db()
    assert world["a2"].building.employee_count == 4321
    other = district_client.get(admin_url("buildings_building", "change", world["b"].building.pk))
    assert other.status_code == 302


# --- autocomplete ------------------------------------------------------------------------------

AUTOCOMPLETES = [
    # (source app, source model, field, territory attribute of the target)
    ("buildings", "building", "street", "street"),
    ("buildings", "enterprise", "building", "building"),
    ("members", "partymember", "organization", "organization"),
    ("members", "partymember", "enterprise", "enterprise"),
    ("members", "partyorganization", "buildings", "building"),
    ("members", "membertransfer", "member", "member"),
    ("members", "user", "party_member", "member"),
    ("committees", "committeeseat", "member", "member"),
    ("committees", "buildingcommittee", "building", "building"),
    ("services", "servicestation", "building", "building"),
    ("services", "event", "space", "space"),
    ("services", "event", "organizer", "organization"),
    ("services", "spacereservation", "organization", "organization"),
]


@pytest.mark.parametrize(("app_label", "model_name", "field", "attr"), AUTOCOMPLETES)
def test_autocomplete_is_scoped(sw_client, world, app_label, model_name, field, attr):
    ids = autocomplete_ids(sw_client, app_label, model_name, field)
    assert getattr(world["a"], attr).pk in ids
    assert getattr(world["a2"], attr).pk not in ids
    assert getattr(world["b"], attr).pk not in ids


@pytest.mark.parametrize(("app_label", "model_name", "field", "attr"), AUTOCOMPLETES)
def test_autocomplete_for_superuser_is_city_wide(super_client, world, app_label, model_name, field, attr):
    ids = autocomplete_ids(super_client, app_label, model_name, field)
    assert {getattr(world[k], attr).pk for k in ("a", "a2", "b")} <= ids


def test_autocomplete_search_term_does_not_reach_outside(sw_client, world):
    assert autocomplete_ids(sw_client, "members", "partymember", "organization", "丙") == set()
    assert autocomplete_ids(sw_client, "members", "partymember", "organization", "甲联合") == {
        world["a"].organization.pk
    }


def test_transfer_destination_may_be_any_organization(sw_client, world):
    """The one deliberate exception: a member may move to another street's organization."""
    ids = autocomplete_ids(sw_client, "members", "membertransfer", "to_organization", "丙联合")
    assert ids == {world["b"].organization.pk}
    # ...which does not widen anything else about organizations.
    assert world["b"].organization.pk not in changelist_pks(sw_client, "members_partyorganization")


# --- exports --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attr", "prefix"), [r for r in SCOPED_RECORDS if r[0] != "street"])
def test_export_is_scoped(sw_client, world, attr, prefix):
    text = export_csv(sw_client, prefix)
    assert "甲" in text
    assert "乙" not in text
    assert "丙" not in text


def test_export_of_selected_rows_ignores_rows_outside(sw_client, world):
    response = sw_client.post(
        admin_url("buildings_building", "changelist"),
        {
            "action": "export_csv",
            "index": "0",
            "_selected_action": [str(world["a"].building.pk), str(world["b"].building.pk)],
        },
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "甲大厦" in text
    assert "丙大厦" not in text


def test_export_for_district_staff_and_superuser(district_client, world, client, superuser):
    text = export_csv(district_client, "members_partymember")
    assert "甲党员" in text and "乙党员" in text and "丙党员" not in text
    client.force_login(superuser)
    text = export_csv(client, "members_partymember")
    assert "甲党员" in text and "乙党员" in text and "丙党员" in text


# --- foreign-key choices in forms -----------------------------------------------------------------


def test_fk_choices_offer_only_the_territory(sw_client, world):
    page = sw_client.get(admin_url("buildings_enterprise", "add"))
    choices = page.context["adminform"].form.fields["building"].queryset
    assert world["a"].building in choices
    assert world["b"].building not in choices
    assert world["a2"].building not in choices


def test_add_with_a_foreign_key_outside_is_refused(sw_client, world):
    data = {
        "building": world["b"].building.pk,
        "name": "越界企业",
        "credit_code": EnterpriseFactory.build().credit_code,
        "floor": "3",
        "industry": "",
        "employee_count": "10",
        "party_member_count": "1",
    }
    response = sw_client.post(admin_url("buildings_enterprise", "add"), data)
    assert response.status_code == 200
    assert "building" in response.context["adminform"].form.errors
    data["building"] = world["a"].building.pk
    response = sw_client.post(admin_url("buildings_enterprise", "add"), data)
    assert response.status_code == 302


def test_change_to_a_foreign_key_outside_is_refused(sw_client, world):
    member = world["a"].member
    page = sw_client.get(admin_url("members_partymember", "change", member.pk))
    data = form_post_data(page)
    data["organization"] = world["b"].organization.pk
    response = sw_client.post(admin_url("members_partymember", "change", member.pk), data)
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.organization == world["a"].organization


def test_many_to_many_outside_is_refused(sw_client, world):
    org = world["a"].organization
    page = sw_client.get(admin_url("members_partyorganization", "change", org.pk))
    data = form_post_data(page)
    data["buildings"] = [world["a"].building.pk, world["b"].building.pk]
    response = sw_client.post(admin_url("members_partyorganization", "change", org.pk), data)
    assert response.status_code == 200
    assert "buildings" in response.context["adminform"].form.errors
    assert list(org.buildings.all()) == [world["a"].building]


def test_inline_foreign_key_outside_is_refused(sw_client, world):
    committee = world["a"].committee
    page = sw_client.get(admin_url("committees_buildingcommittee", "change", committee.pk))
    data = form_post_data(page)
    data.update(
        {
            "seats-1-role": "member",
            "seats-1-person_name": "越界委员",
            "seats-1-member": world["b"].member.pk,
            "seats-1-starts_on": "2025-01-01",
        }
    )
    response = sw_client.post(admin_url("committees_buildingcommittee", "change", committee.pk), data)
    assert response.status_code == 200
    assert not CommitteeSeat.objects.filter(person_name="越界委员").exists()
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert any("member" in e for e in errors)


def test_event_space_outside_is_refused(sw_client, world):
    event = world["a"].event
    page = sw_client.get(admin_url("services_event", "change", event.pk))
    data = form_post_data(page)
    data["space"] = world["b"].space.pk
    response = sw_client.post(admin_url("services_event", "change", event.pk), data)
    assert response.status_code == 200
    assert "space" in response.context["adminform"].form.errors
    event.refresh_from_db()
    assert event.space == world["a"].space


# --- counselling is confidential ------------------------------------------------------------------


def test_counselling_bookings_hidden_without_permission(sw_client, social_worker, world):
    a = world["a"]
    assert a.counselling_booking.pk not in changelist_pks(sw_client, "services_booking")
    assert a.booking.pk in changelist_pks(sw_client, "services_booking")
    assert changelist_pks(sw_client, "services_booking", {"q": "甲_counselled"}) == set()
    assert sw_client.get(admin_url("services_booking", "change", a.counselling_booking.pk)).status_code == 302
    assert (
        sw_client.get(admin_url("services_booking", "history", a.counselling_booking.pk)).status_code == 302
    )
    assert "甲_counselled" not in export_csv(sw_client, "services_booking")
    # The event itself is public; its booker list is not.
    page = sw_client.get(admin_url("services_event", "change", a.counselling.pk))
    assert page.status_code == 200
    assert page.context["inline_admin_formsets"] == []
    assert "甲_counselled" not in page.content.decode()
    # Nor can the kind filter be used to find them.
    page = sw_client.get(admin_url("services_booking", "changelist"))
    kind_filter = next(
        f for f in page.context["cl"].filter_specs if getattr(f, "parameter_name", "") == "kind"
    )
    assert "counselling" not in dict(kind_filter.lookup_choices)
    assert changelist_pks(sw_client, "services_booking", {"kind": "counselling"}) == set()


def test_counselling_bookings_visible_with_permission(sw_client, social_worker, world):
    grant(social_worker, "services.view_confidential")
    a = world["a"]
    assert a.counselling_booking.pk in changelist_pks(sw_client, "services_booking")
    assert a.counselling_booking.pk not in changelist_pks(sw_client, "services_booking") - {
        world["a"].counselling_booking.pk
    }
    assert world["b"].counselling_booking.pk not in changelist_pks(sw_client, "services_booking")
    page = sw_client.get(admin_url("services_event", "change", a.counselling.pk))
    assert "甲_counselled" in page.content.decode()
    assert "甲_counselled" in export_csv(sw_client, "services_booking")


def test_superuser_sees_counselling_bookings(super_client, world):
    pks = changelist_pks(super_client, "services_booking")
    assert {world[k].counselling_booking.pk for k in ("a", "b")} <= pks


# --- users ---------------------------------------------------------------------------------------------


def test_social_worker_sees_no_staff_accounts(sw_client, social_worker, district_staff, superuser, world):
    pks = changelist_pks(sw_client, "members_user")
    assert social_worker.pk not in pks
    assert superuser.pk not in pks
    assert sw_client.get(admin_url("members_user", "change", social_worker.pk)).status_code == 302


def test_social_worker_cannot_grant_permissions_or_scope(sw_client, social_worker, world, street_b):
    employee = world["a"].employee
    page = sw_client.get(admin_url("members_user", "change", employee.pk))
    form_fields = set(page.context["adminform"].form.fields)
    assert not form_fields & {"is_staff", "is_superuser", "groups", "user_permissions", "streets", "district"}
    data = form_post_data(page)
    data.update(
        {
            "is_staff": "on",
            "is_superuser": "on",
            "streets": [street_b.pk],
            "groups": [Group.objects.get(name=SOCIAL_WORKER).pk],
            "real_name": "晓明",
        }
    )
    response = sw_client.post(admin_url("members_user", "change", employee.pk), data)
    assert response.status_code == 302
    employee.refresh_from_db()
    assert employee.real_name == "晓明"
    assert not employee.is_staff and not employee.is_superuser
    assert not employee.streets.exists() and not employee.groups.exists()
    # Passwords are reset by superusers only.
    password_url = reverse("admin:auth_user_password_change", args=[employee.pk])
    assert sw_client.get(password_url).status_code == 403
    assert sw_client.get(admin_url("members_user", "add")).status_code == 403


def test_superuser_assigns_streets(super_client, world, street_b):
    employee = world["b"].employee
    page = super_client.get(admin_url("members_user", "change", employee.pk))
    data = form_post_data(page)
    data["streets"] = [street_b.pk]
    response = super_client.post(admin_url("members_user", "change", employee.pk), data)
    assert response.status_code == 200  # a territory without staff status is refused
    assert "is_staff" in response.context["adminform"].form.errors
    data["is_staff"] = "on"
    response = super_client.post(admin_url("members_user", "change", employee.pk), data)
    assert response.status_code == 302
    employee.refresh_from_db()
    assert employee.is_staff
    assert list(employee.streets.all()) == [street_b]


def test_city_wide_history_admin_is_for_superusers(sw_client, super_client):
    url = reverse("admin:pghistory_middlewareevents_changelist")
    assert sw_client.get(url).status_code == 403
    assert super_client.get(url).status_code == 200
    # Django's facet counts do not work over pghistory's events view: the link "显示计数" answered 500.
    assert super_client.get(url, {"_facets": "1"}).status_code == 200


def test_notification_outbox_hides_counselling_and_stays_in_territory(world, district_staff):
    from django.utils import timezone

    from core.notifications import outbox as notification_outbox
    from services.models import Event

    def outbox(territory, booking, kind="booking_confirmed"):
        row = notification_outbox.row(
            recipient_id=booking.user_id,
            kind=kind,
            cause=f"booking:{booking.pk}",
            due_at=timezone.now(),
            subject=booking,
            street_id=territory.street.pk,
            topic=f"event:{booking.event_id}",
            confidential=booking.event.kind == Event.Kind.COUNSELLING,
        )
        row.save()
        return row

    plain = outbox(world["a"], world["a"].booking)
    secret = outbox(world["a"], world["a"].counselling_booking)
    other = outbox(world["b"], world["b"].booking)
    grant(district_staff, "notifications.view_outbox")
    client = Client()
    client.force_login(district_staff)
    pks = changelist_pks(client, "notifications_outbox")
    assert plain.pk in pks
    assert secret.pk not in pks
    assert other.pk not in pks
    grant(district_staff, "services.view_confidential")
    assert secret.pk in changelist_pks(client, "notifications_outbox")
