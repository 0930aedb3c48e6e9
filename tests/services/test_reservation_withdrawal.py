"""Withdrawing a space reservation where people do it (services/views.py, services/api/views.py), and
the occupancy repair command. The rules themselves are tested in test_reservations.py."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from services.models import SpaceOccupancy, SpaceReservation
from tests.members.factories import (
    PartyMemberFactory,
    PartyOrganizationFactory,
    StaffUserFactory,
    UserFactory,
)
from tests.services.factories import EventFactory, SpaceFactory, SpaceReservationFactory

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


@pytest.fixture
def reservation(street_a):
    organization = PartyOrganizationFactory(street=street_a, name="嘉里联合党支部")
    organization.secretary = PartyMemberFactory(organization=organization)
    organization.save()
    start = (timezone.now() + datetime.timedelta(days=3)).replace(microsecond=0)
    return SpaceReservationFactory(
        space=SpaceFactory(station__building__street=street_a),
        organization=organization,
        requested_by=UserFactory(),
        starts_at=start,
        ends_at=start + 2 * H,
        status=SpaceReservation.Status.APPROVED,
        purpose="主题党日",
    )


@pytest.fixture
def secretary(reservation):
    return UserFactory(party_member=reservation.organization.secretary)


def test_the_secretary_gives_back_an_approved_slot_in_the_portal(reservation, secretary):
    client = Client()
    client.force_login(reservation.requested_by)
    page = client.get(reverse("portal:my_reservations")).content.decode()
    assert reverse("portal:reservation_cancel", args=[reservation.pk]) in page and "退回该时段" in page
    client.force_login(secretary)
    response = client.post(reverse("portal:reservation_cancel", args=[reservation.pk]), follow=True)
    assert "已撤销场地预约：主题党日。" in response.content.decode()
    reservation.refresh_from_db()
    assert reservation.status == SpaceReservation.Status.CANCELLED
    assert not SpaceOccupancy.objects.filter(reservation=reservation).exists()


def test_a_stranger_cannot_withdraw_and_sees_no_such_reservation(reservation):
    client = Client()
    client.force_login(UserFactory())
    assert client.post(reverse("portal:reservation_cancel", args=[reservation.pk])).status_code == 404
    assert client.get(reverse("portal:reservation_cancel", args=[reservation.pk])).status_code == 405
    reservation.refresh_from_db()
    assert reservation.status == SpaceReservation.Status.APPROVED


def test_an_ended_slot_is_refused_with_its_message_and_no_button(reservation):
    SpaceReservation.objects.filter(pk=reservation.pk).update(
        starts_at=timezone.now() - 3 * H, ends_at=timezone.now() - H
    )
    client = Client()
    client.force_login(reservation.requested_by)
    assert "退回该时段" not in client.get(reverse("portal:my_reservations")).content.decode()
    response = client.post(reverse("portal:reservation_cancel", args=[reservation.pk]), follow=True)
    assert "该预约的时段已结束，不能撤销。" in response.content.decode()
    reservation.refresh_from_db()
    assert reservation.status == SpaceReservation.Status.APPROVED


def test_the_api_lets_the_secretary_list_and_withdraw_their_organizations_reservation(reservation, secretary):
    api = APIClient()
    api.force_authenticate(secretary)
    listed = api.get(reverse("api:space-reservation-list")).json()["results"]
    assert [r["id"] for r in listed] == [reservation.pk]
    response = api.post(reverse("api:space-reservation-cancel", args=[reservation.pk]), format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = api.post(reverse("api:space-reservation-cancel", args=[reservation.pk]), format="json")
    assert again.status_code == 409 and again.json()["code"] == "not_cancellable"


def test_the_api_hides_other_peoples_reservations(reservation, street_b):
    for user in (UserFactory(), StaffUserFactory(streets=[street_b])):
        api = APIClient()
        api.force_authenticate(user)
        assert api.get(reverse("api:space-reservation-list")).json()["results"] == []
        assert api.post(reverse("api:space-reservation-cancel", args=[reservation.pk])).status_code == 404
    reservation.refresh_from_db()
    assert reservation.status == SpaceReservation.Status.APPROVED


def test_the_repair_command_rebuilds_the_occupancy(reservation):
    event = EventFactory(space=reservation.space, starts_at=reservation.ends_at + H)
    SpaceOccupancy.objects.all().delete()
    out = StringIO()
    call_command("rebuild_space_occupancy", stdout=out)
    assert "空间占用已重建：2 条。" in out.getvalue()
    assert set(SpaceOccupancy.objects.values_list("event_id", "reservation_id")) == {
        (event.pk, None),
        (None, reservation.pk),
    }
