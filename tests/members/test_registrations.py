"""双报到 (members/registrations.py, the partner staff's page, the admin's scoping).

One registration at a time, with history; partner staff see only the members registered with
their own partner, with the hours earned at its places; the member's organization sees
that they registered.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.scoping import scope_queryset
from members import registrations
from members.models import HomeRegistration
from members.registrations import RegistrationError
from members.selectors import organization_registrations
from services.selectors import partner_registered_members
from tests.buildings.factories import PartnerFactory
from tests.members.factories import PartyMemberFactory, SocialWorkerFactory, StaffUserFactory, UserFactory
from tests.services.factories import VolunteerHoursFactory, VolunteerShiftFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def test_registering_elsewhere_ends_the_current_one_and_keeps_history():
    member = PartyMemberFactory()
    first, second = PartnerFactory(), PartnerFactory()
    today = datetime.date(2026, 12, 1)
    registrations.register_with_partner(member=member, partner=first, on=today - 10 * DAY)
    registrations.register_with_partner(member=member, partner=second, on=today)
    rows = list(HomeRegistration.objects.filter(member=member).order_by("registered_on"))
    assert [(r.partner_id, r.ended_on) for r in rows] == [(first.pk, today), (second.pk, None)]


def test_registering_twice_with_the_same_partner_is_refused():
    member, partner = PartyMemberFactory(), PartnerFactory()
    registrations.register_with_partner(member=member, partner=partner)
    with pytest.raises(RegistrationError) as info:
        registrations.register_with_partner(member=member, partner=partner)
    assert info.value.code == "already_registered"
    assert HomeRegistration.objects.count() == 1


def test_database_refuses_two_active_registrations():
    member = PartyMemberFactory()
    HomeRegistration.objects.create(
        member=member, partner=PartnerFactory(), registered_on=datetime.date(2026, 1, 1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        HomeRegistration.objects.create(
            member=member, partner=PartnerFactory(), registered_on=datetime.date(2026, 2, 1)
        )


def test_end_registration():
    member = PartyMemberFactory()
    registrations.register_with_partner(member=member, partner=PartnerFactory(), on=datetime.date(2026, 1, 1))
    ended = registrations.end_registration(member=member, on=datetime.date(2026, 3, 1))
    assert ended.ended_on == datetime.date(2026, 3, 1)
    with pytest.raises(RegistrationError):
        registrations.end_registration(member=member)


class TestPartnerStaff:
    def test_partner_staff_see_only_their_own_registrations_with_hours_earned_there(self):
        shift = VolunteerShiftFactory()
        partner = shift.space.station.partner
        member, other_member = PartyMemberFactory(), PartyMemberFactory()
        registrations.register_with_partner(member=member, partner=partner)
        registrations.register_with_partner(member=other_member, partner=PartnerFactory())
        person = UserFactory(party_member=member)
        VolunteerHoursFactory(booking__user=person, booking__event=shift, hours=Decimal("2.5"))
        # hours at another partner's place do not count here
        VolunteerHoursFactory(booking__user=person, hours=Decimal("4"))
        staff = StaffUserFactory(partner=partner)
        rows = list(partner_registered_members(user=staff))
        assert [(r.member_id, r.hours_here) for r in rows] == [(member.pk, Decimal("2.5"))]
        assert list(scope_queryset(HomeRegistration.objects.all(), staff)) == [rows[0]]

    def test_people_without_a_partner_see_nothing(self):
        registrations.register_with_partner(member=PartyMemberFactory(), partner=PartnerFactory())
        assert not partner_registered_members(user=UserFactory()).exists()
        assert not partner_registered_members(user=StaffUserFactory(streets=[])).exists()

    def test_partner_page_is_for_partner_staff_only(self, client):
        registration = registrations.register_with_partner(
            member=PartyMemberFactory(), partner=PartnerFactory()
        )
        client.force_login(UserFactory())
        assert client.get("/partner/members/").status_code == 404
        client.force_login(StaffUserFactory(partner=PartnerFactory()))
        assert registration.member.name not in client.get("/partner/members/").content.decode()
        client.force_login(StaffUserFactory(partner=registration.partner))
        assert registration.member.name in client.get("/partner/members/").content.decode()


def test_the_organization_sees_that_its_member_registered():
    member = PartyMemberFactory()
    registration = registrations.register_with_partner(member=member, partner=PartnerFactory())
    assert list(organization_registrations(organization=member.organization)) == [registration]
    # and the organization's street's social worker sees it in the admin's scope
    worker = SocialWorkerFactory(streets=[member.organization.street])
    assert list(scope_queryset(HomeRegistration.objects.all(), worker)) == [registration]


def test_member_registers_in_the_portal(client):
    member = PartyMemberFactory()
    partner = PartnerFactory()
    client.force_login(UserFactory(party_member=member))
    response = client.post("/accounts/profile/home-registration/", {"partner": partner.pk})
    assert response.status_code == 302
    assert HomeRegistration.objects.get(member=member).partner == partner
