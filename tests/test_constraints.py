"""Every database constraint of the models refuses a write that breaks it: one case per constraint.

``VIOLATIONS`` holds, per constraint name, a write straight to the database (no
``full_clean()``) that breaks that rule and nothing else. The test enumerates every
``Meta.constraints`` of every model of the four apps, so a constraint added without a
case here fails ``test_every_constraint_has_a_violation_case``, and each case must be
refused with an ``IntegrityError`` that names its constraint (not another one, not the
application). The rules' meaning and their form messages are tested next to each model
(tests/<app>/test_models.py); this file is the net under all of them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import UniqueConstraint
from django.utils import timezone

from buildings.models import Street
from committees.models import CommitteeSeat
from core.notifications.models import Outbox as NotificationOutbox
from members.models import ApiToken, MemberLinkRequest, MemberTransfer, PartyOrganization
from services.models import Booking, Event, SpaceReservation
from tests.buildings.factories import BuildingFactory, EnterpriseFactory, StreetFactory
from tests.committees.factories import BuildingCommitteeFactory, CommitteeSeatFactory
from tests.members.factories import (
    MemberTransferFactory,
    PartyMemberFactory,
    PartyOrganizationFactory,
    UserFactory,
)
from tests.project import project_app_labels
from tests.services.factories import (
    BookingFactory,
    EventFactory,
    ServiceStationFactory,
    SpaceFactory,
    SpaceReservationFactory,
)

pytestmark = pytest.mark.django_db

APPS = project_app_labels()
D = datetime.date
H = datetime.timedelta(hours=1)

VIOLATIONS: dict[str, Callable[[], object]] = {}


def violates(name: str):
    """Register the decorated function as the write that breaks constraint ``name``."""

    def register(write: Callable[[], object]) -> Callable[[], object]:
        assert name not in VIOLATIONS, f"two cases for {name}"
        VIOLATIONS[name] = write
        return write

    return register


def model_constraints() -> list[tuple[str, str]]:
    return sorted(
        (constraint.name, model._meta.label)
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        for constraint in model._meta.constraints
    )


def soon(hours: float = 0) -> datetime.datetime:
    """A round time five days ahead (every booking window of the factories is valid then)."""
    base = (timezone.now() + datetime.timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    return base + datetime.timedelta(hours=hours)


def event_fields(**overrides) -> dict:
    """A valid event starting ``soon()``; ``overrides`` break one rule."""
    starts = soon()
    fields = {
        "space": SpaceFactory(),
        "title": "党课",
        "kind": Event.Kind.PARTY_CLASS,
        "starts_at": starts,
        "ends_at": starts + 2 * H,
        "capacity": 10,
        "booking_opens_at": starts - datetime.timedelta(days=7),
        "booking_closes_at": starts - H,
        "cancel_deadline": starts - 12 * H,
        "status": Event.Status.PUBLISHED,
    }
    return {**fields, **overrides}


# --- buildings ----------------------------------------------------------------------------------


@violates("buildings_street_unique_name_in_district")
def _():
    street = StreetFactory()
    Street.objects.create(district=street.district, name=street.name)


@violates("buildings_building_unique_name_in_street")
def _():
    building = BuildingFactory()
    BuildingFactory(street=building.street, name=building.name)


@violates("buildings_building_floors_range")
def _():
    BuildingFactory(floors=201)


@violates("buildings_building_area_positive")
def _():
    BuildingFactory(floor_area_m2=0)


@violates("buildings_enterprise_unique_name_in_building")
def _():
    enterprise = EnterpriseFactory()
    EnterpriseFactory(building=enterprise.building, name=enterprise.name)


@violates("buildings_enterprise_members_within_employees")
def _():
    EnterpriseFactory(employee_count=3, party_member_count=4)


@violates("buildings_enterprise_credit_code_format")
def _():
    EnterpriseFactory(credit_code="91350100I000100Y43")  # I is not in the code's alphabet


# --- members ------------------------------------------------------------------------------------


@violates("members_partyorganization_unique_name_in_street")
def _():
    organization = PartyOrganizationFactory()
    PartyOrganizationFactory(street=organization.street, name=organization.name)


@violates("members_partyorganization_term_after_founding")
def _():
    PartyOrganizationFactory(founded_on=D(2020, 7, 1), term_ends_on=D(2020, 7, 1))


@violates("members_partyorganization_not_own_parent")
def _():
    organization = PartyOrganizationFactory()
    PartyOrganization.objects.filter(pk=organization.pk).update(parent=organization.pk)


@violates("members_partymember_joined_after_birth")
def _():
    PartyMemberFactory(birth_date=D(1990, 5, 17), joined_on=D(1990, 5, 17))


@violates("members_partymember_id_number_format")
def _():
    PartyMemberFactory(id_number="31010419900517123x")  # a lowercase x is normalised by clean() only


@violates("members_partymember_phone_format")
def _():
    PartyMemberFactory(phone="12812345678")


@violates("members_membertransfer_different_organizations")
def _():
    member = PartyMemberFactory()
    MemberTransferFactory(member=member, to_organization=member.organization)


@violates("members_membertransfer_direction_organizations")
def _():
    MemberTransferFactory(direction=MemberTransfer.Direction.IN, to_organization=None)


@violates("members_membertransfer_completed_on_iff_completed")
def _():
    MemberTransferFactory(status=MemberTransfer.Status.COMPLETED, completed_on=None)


@violates("members_membertransfer_one_pending_per_member")
def _():
    first = MemberTransferFactory()
    MemberTransferFactory(member=first.member)


@violates("members_memberlinkrequest_one_pending_per_user")
def _():
    user = UserFactory()
    MemberLinkRequest.objects.create(user=user, member=PartyMemberFactory())
    MemberLinkRequest.objects.create(user=user, member=PartyMemberFactory())


@violates("members_memberlinkrequest_approved_has_member")
def _():
    MemberLinkRequest.objects.create(user=UserFactory(), member=None, status="approved")


@violates("members_apitoken_expires_after_creation")
def _():
    ApiToken.objects.create(
        user=UserFactory(), name="对接", prefix="abcd1234", key_hash="0" * 64, expires_at=timezone.now() - H
    )


@violates("members_apitoken_key_hash_is_sha256")
def _():
    ApiToken.objects.create(
        user=UserFactory(),
        name="对接",
        prefix="abcd1234",
        key_hash="not-a-hash",
        expires_at=timezone.now() + H,
    )


# --- committees ---------------------------------------------------------------------------------


@violates("committees_buildingcommittee_term_ends_after_start")
def _():
    BuildingCommitteeFactory(term_starts_on=D(2024, 6, 1), term_ends_on=D(2024, 6, 1))


@violates("committees_buildingcommittee_term_after_founding")
def _():
    BuildingCommitteeFactory(founded_on=D(2020, 6, 1), term_starts_on=D(2020, 5, 31))


@violates("committees_committeeseat_ends_after_start")
def _():
    CommitteeSeatFactory(starts_on=D(2024, 6, 1), ends_on=D(2024, 6, 1))


@violates("committees_committeeseat_floor_rep_has_floor")
def _():
    CommitteeSeatFactory(role=CommitteeSeat.Role.FLOOR_REPRESENTATIVE, floor=None)


@violates("committees_committeeseat_one_current_single_role")
def _():
    chief = CommitteeSeatFactory(role=CommitteeSeat.Role.BUILDING_CHIEF, ends_on=None)
    CommitteeSeatFactory(
        committee=chief.committee, role=CommitteeSeat.Role.BUILDING_CHIEF, starts_on=D(2025, 1, 1)
    )


def _demand(**fields):
    from tests.committees.factories import DemandFactory

    return DemandFactory(**fields)


@violates("committees_demandcategory_deadline_days_range")
def _():
    from tests.committees.factories import DemandCategoryFactory

    DemandCategoryFactory(deadline_days=0)


@violates("committees_enterprisecontact_unique")
def _():
    from tests.committees.factories import EnterpriseContactFactory

    contact = EnterpriseContactFactory()
    EnterpriseContactFactory(enterprise=contact.enterprise, user=contact.user)


@violates("committees_enterpriseriskoverride_reason_required")
def _():
    from tests.committees.factories import EnterpriseRiskOverrideFactory

    EnterpriseRiskOverrideFactory(reason="")


@violates("committees_enterpriseriskoverride_colour_valid")
def _():
    from tests.committees.factories import EnterpriseRiskOverrideFactory

    EnterpriseRiskOverrideFactory(colour="purple")


@violates("committees_demand_state_valid")
def _():
    _demand(state="lost")


@violates("committees_demand_declined_has_reason")
def _():
    _demand(state="declined", decline_reason="")


@violates("committees_demand_resolved_has_resolution")
def _():
    _demand(state="resolved", resolution="", resolved_at=timezone.now(), confirm_by=timezone.now())


@violates("committees_demand_resolved_has_window")
def _():
    _demand(state="resolved", resolution="修好了", resolved_at=timezone.now(), confirm_by=None)


@violates("committees_demand_closed_at_when_closed")
def _():
    _demand(state="submitted", closed_at=timezone.now())


@violates("committees_demand_rating_when_closed")
def _():
    _demand(
        state="resolved", resolution="修好了", resolved_at=timezone.now(), confirm_by=timezone.now(), rating=5
    )


@violates("committees_demand_assigned_has_handler")
def _():
    _demand(state="assigned", handler_kind="")


@violates("committees_demand_seat_iff_seat_handler")
def _():
    _demand(state="submitted", handler_kind="seat", handler_seat=None)


@violates("committees_demand_department_named")
def _():
    _demand(state="assigned", handler_kind="street", handler_department="")


@violates("committees_demandattachment_allowed_type")
def _():
    from tests.committees.factories import DemandAttachmentFactory

    DemandAttachmentFactory(content_type="text/html")


# --- services: stations and spaces --------------------------------------------------------------


@violates("services_servicestation_unique_name_in_building")
def _():
    station = ServiceStationFactory()
    ServiceStationFactory(building=station.building, name=station.name)


@violates("services_servicestation_area_positive")
def _():
    ServiceStationFactory(area_m2=0)


@violates("services_space_unique_name_in_station")
def _():
    space = SpaceFactory()
    SpaceFactory(station=space.station, name=space.name)


@violates("services_space_capacity_positive")
def _():
    SpaceFactory(capacity=0)


# --- services: events ---------------------------------------------------------------------------


@violates("services_event_ends_after_start")
def _():
    starts = soon()
    Event.objects.create(**event_fields(ends_at=starts, booking_closes_at=starts - H))


@violates("services_event_capacity_positive")
def _():
    Event.objects.create(**event_fields(capacity=0))


@violates("services_event_booking_window")
def _():
    starts = soon()
    Event.objects.create(**event_fields(booking_opens_at=starts - H, booking_closes_at=starts - 2 * H))


@violates("services_event_booking_opens_before_start")
def _():
    starts = soon()
    # The window itself is valid (closes after it opens, by the end): it only opens too late.
    Event.objects.create(**event_fields(booking_opens_at=starts + H, booking_closes_at=starts + 2 * H))


@violates("services_event_cancel_deadline_before_start")
def _():
    Event.objects.create(**event_fields(cancel_deadline=soon() + datetime.timedelta(minutes=1)))


@violates("services_event_counselling_one_person")
def _():
    Event.objects.create(**event_fields(kind=Event.Kind.COUNSELLING, capacity=2))


@violates("services_event_not_overbooked")
def _():
    event = EventFactory(capacity=2)
    Event.objects.filter(pk=event.pk).update(confirmed_count=3)


@violates("services_event_no_overlap_in_space")
def _():
    first = Event.objects.create(**event_fields())
    later = soon(1)
    Event.objects.create(
        **event_fields(
            space=first.space,
            starts_at=later,
            ends_at=later + 2 * H,
            booking_closes_at=later - H,
            cancel_deadline=later - 12 * H,
        )
    )


@violates("services_booking_one_active_per_user")
def _():
    booking = BookingFactory(status=Booking.Status.CONFIRMED)
    BookingFactory(event=booking.event, user=booking.user, status=Booking.Status.WAITLISTED)


@violates("services_booking_checked_in_iff_attended")
def _():
    BookingFactory(status=Booking.Status.ATTENDED, checked_in_at=None)


# --- services: reservations and occupancy --------------------------------------------------------


@violates("services_spacereservation_ends_after_start")
def _():
    SpaceReservationFactory(starts_at=soon(2), ends_at=soon(1))


@violates("services_spacereservation_attendees_positive")
def _():
    SpaceReservationFactory(attendees=0)


@violates("services_spacereservation_no_overlap_approved")
def _():
    first = SpaceReservationFactory(
        status=SpaceReservation.Status.APPROVED, starts_at=soon(0), ends_at=soon(2)
    )
    SpaceReservationFactory(
        space=first.space, status=SpaceReservation.Status.APPROVED, starts_at=soon(1), ends_at=soon(3)
    )


@violates("services_spaceoccupancy_exactly_one_owner")
def _():
    space = SpaceFactory()
    with connection.cursor() as cursor:  # written only by triggers: a stray row by hand
        cursor.execute(
            "INSERT INTO services_spaceoccupancy (space_id, starts_at, ends_at) VALUES (%s, %s, %s)",
            [space.pk, soon(0), soon(1)],
        )


@violates("services_spaceoccupancy_no_overlap")
def _():
    event = EventFactory()  # its trigger writes the occupancy; so does an approved reservation's
    SpaceReservationFactory(
        space=event.space,
        status=SpaceReservation.Status.APPROVED,
        starts_at=event.starts_at + H,
        ends_at=event.ends_at + H,
    )


# --- notifications (core/notifications) --------------------------------------------------------------------


def outbox_row(**overrides) -> NotificationOutbox:
    now = timezone.now()
    fields = {"kind": "booking_confirmed", "cause": "booking:1", "due_at": now}
    fields.update(overrides)
    fields.setdefault("recipient", UserFactory())
    return NotificationOutbox.objects.create(next_attempt_at=now, **fields)


@violates("notifications_outbox_unique_key")
def _():
    first = outbox_row()
    outbox_row(recipient=first.recipient)


@violates("notifications_outbox_sent_at_iff_sent")
def _():
    outbox_row(status=NotificationOutbox.Status.SENT, sent_at=None)


@violates("notifications_outbox_subject_whole")
def _():
    outbox_row(subject_id=1)


# --- spreadsheets (the import log) ----------------------------------------------------------------


@violates("spreadsheets_importjob_progress_within_total")
def _():
    from tests.core.factories import ImportJobFactory

    ImportJobFactory(total_rows=5, done_rows=6)


@violates("spreadsheets_importjob_applied_has_time")
def _():
    from tests.core.factories import ImportJobFactory

    ImportJobFactory(status="applied", applied_at=None)


# --- the tests ----------------------------------------------------------------------------------


def test_every_constraint_has_a_violation_case():
    names = {name for name, _model in model_constraints()}
    assert len(names) > 40  # the enumeration itself works
    assert sorted(names - set(VIOLATIONS)) == [], "constraints without a violation case in VIOLATIONS"
    assert sorted(set(VIOLATIONS) - names) == [], "cases for constraints that no longer exist"


@pytest.mark.parametrize(("name", "model"), model_constraints())
def test_the_database_refuses_a_write_that_breaks_the_constraint(name, model):
    write = VIOLATIONS.get(name)
    if write is None:
        pytest.fail(f"{model}: no violation case for {name} in VIOLATIONS")
    with pytest.raises(IntegrityError, match=f'constraint "{name}"'), transaction.atomic():
        write()


# --- where a violation is reported (core/constraints.py) ---------------------------------------


def project_models():
    return [model for app in APPS for model in apps.get_app_config(app).get_models()]


def test_constraint_error_fields_name_real_constraints_and_fields():
    mapped = 0
    for model in project_models():
        names = {constraint.name for constraint in model._meta.constraints}
        for constraint, field in getattr(model, "constraint_error_fields", {}).items():
            assert constraint in names, f"{model._meta.label}: no constraint {constraint}"
            model._meta.get_field(field)
            mapped += 1
    assert mapped >= 7


def test_every_unique_name_rule_is_reported_on_the_name_field():
    """A duplicate name (该街道已有同名楼宇) belongs next to the name typed, not above the form."""
    for model in project_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint) and "name" in constraint.fields:
                fields = getattr(model, "constraint_error_fields", {})
                assert fields.get(constraint.name) == "name", f"{model._meta.label}: {constraint.name}"


# --- issue 17: partners, places both ways, volunteering, 双报到, agreements ---------------------


@violates("buildings_partner_unique_name_in_street")
def _():
    from tests.buildings.factories import PartnerFactory

    partner = PartnerFactory()
    PartnerFactory(street=partner.street, name=partner.name)


@violates("services_servicestation_unique_name_in_partner")
def _():
    from tests.services.factories import CommunityPlaceFactory

    place = CommunityPlaceFactory()
    CommunityPlaceFactory(partner=place.partner, name=place.name)


@violates("services_servicestation_one_owner")
def _():
    from tests.buildings.factories import PartnerFactory

    ServiceStationFactory(partner=PartnerFactory())


@violates("services_event_volunteer_hours")
def _():
    EventFactory(volunteer_hours=2)  # a party class states no volunteer hours


@violates("services_volunteerproject_unique_name_in_street")
def _():
    from tests.services.factories import VolunteerProjectFactory

    project = VolunteerProjectFactory()
    VolunteerProjectFactory(street=project.street, partner=project.partner, name=project.name)


@violates("services_pairing_ends_after_start")
def _():
    from tests.services.factories import PairingFactory

    PairingFactory(started_on=D(2026, 5, 1), ended_on=D(2026, 4, 30))


@violates("services_volunteerhours_hours_range")
def _():
    from tests.services.factories import VolunteerHoursFactory

    VolunteerHoursFactory(hours=25)


@violates("services_hourscorrection_reason_given")
def _():
    from tests.services.factories import HoursCorrectionFactory

    HoursCorrectionFactory(reason="")


@violates("members_homeregistration_one_active_per_member")
def _():
    from tests.members.factories import HomeRegistrationFactory

    first = HomeRegistrationFactory()
    HomeRegistrationFactory(member=first.member)


@violates("members_homeregistration_ends_after_start")
def _():
    from tests.members.factories import HomeRegistrationFactory

    HomeRegistrationFactory(registered_on=D(2026, 5, 1), ended_on=D(2026, 4, 30))


@violates("committees_agreement_ends_after_start")
def _():
    from tests.committees.factories import AgreementFactory

    AgreementFactory(starts_on=D(2026, 5, 1), ends_on=D(2026, 5, 1))
