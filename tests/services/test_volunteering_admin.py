"""Staff screens for volunteer hours: confirm attendance on bookings, correct hours with a reason.

Both admin actions go through services/volunteering.py; refusals come back as messages,
a missing reason as a field error on the intermediate page, and nothing out of the
staff member's streets is touched.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from services import booking as engine
from services.models import Booking, Event, HoursCorrection, VolunteerHours
from tests.admin_helpers import admin_url, run_action
from tests.members.factories import SocialWorkerFactory, UserFactory
from tests.services.factories import (
    EventFactory,
    SpaceFactory,
    VolunteerHoursFactory,
    VolunteerShiftFactory,
)

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def client_for(street) -> tuple[Client, object]:
    staff = SocialWorkerFactory(streets=[street])
    client = Client()
    client.force_login(staff)
    return client, staff


def booked(event) -> Booking:
    return engine.book_event(user=UserFactory(person_type="rider", building=None), event=event)


def into_the_past(event, hours_ago: int = 3) -> None:
    starts = timezone.now() - hours_ago * H
    Event.objects.filter(pk=event.pk).update(
        booking_opens_at=starts - 48 * H,
        booking_closes_at=starts,
        cancel_deadline=starts - H,
        starts_at=starts,
        ends_at=starts + 2 * H,
    )


# --- confirm attendance ---------------------------------------------------------------------


def test_confirm_attendance_after_the_shift_credits_hours_once():
    shift = VolunteerShiftFactory()
    booking = booked(shift)
    into_the_past(shift)
    client, staff = client_for(shift.space.station.street)
    response = run_action(client, "services_booking", "confirm_attendance", [booking.pk])
    assert response.status_code == 200
    assert any("已确认 1 条预约到场" in t for t in texts(response))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    record = VolunteerHours.objects.get(booking=booking)
    assert record.hours == Decimal("2.0") and record.confirmed_by == staff
    run_action(client, "services_booking", "confirm_attendance", [booking.pk])
    assert VolunteerHours.objects.count() == 1


def test_confirm_attendance_refusals_are_messages():
    shift = VolunteerShiftFactory()
    early = booked(shift)  # the shift has not started yet
    talk = EventFactory(space=SpaceFactory(station=shift.space.station))
    not_volunteer = booked(talk)
    into_the_past(talk)
    client, _staff = client_for(shift.space.station.street)
    response = run_action(client, "services_booking", "confirm_attendance", [early.pk, not_volunteer.pk])
    assert response.status_code == 200
    messages = texts(response)
    assert any("活动开始后才能确认到场" in t for t in messages)
    assert any("不是志愿服务" in t for t in messages)
    assert not any("志愿时长已记入" in t for t in messages)
    assert not VolunteerHours.objects.exists()
    early.refresh_from_db()
    assert early.status == Booking.Status.CONFIRMED


def test_confirm_attendance_out_of_scope_is_not_touched(street_b):
    shift = VolunteerShiftFactory()
    booking = booked(shift)
    into_the_past(shift)
    client, _staff = client_for(street_b)
    assert street_b != shift.space.station.street
    response = run_action(client, "services_booking", "confirm_attendance", [booking.pk])
    assert response.status_code == 200
    assert not any("志愿时长已记入" in t for t in texts(response))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert not VolunteerHours.objects.exists()


# --- correct hours --------------------------------------------------------------------------


def test_correct_hours_asks_for_hours_and_reason_then_records_them():
    record = VolunteerHoursFactory(hours=2)
    client, staff = client_for(record.event.space.station.street)
    page = run_action(client, "services_volunteerhours", "correct_hours", [record.pk])
    assert page.status_code == 200
    assert "admin/action_note.html" in [t.name for t in page.templates]
    assert set(page.context["form"].fields) == {"hours", "note"}
    response = run_action(
        client,
        "services_volunteerhours",
        "correct_hours",
        [record.pk],
        confirm="yes",
        hours="3.5",
        note="提前到场布置",
    )
    assert any("已更正 1 条志愿时长" in t for t in texts(response))
    record.refresh_from_db()
    assert record.hours == Decimal("3.5")
    correction = HoursCorrection.objects.get(record=record)
    assert (correction.old_hours, correction.new_hours) == (Decimal("2.0"), Decimal("3.5"))
    assert correction.reason == "提前到场布置" and correction.corrected_by == staff


def test_correct_hours_without_a_reason_is_a_field_error():
    record = VolunteerHoursFactory(hours=2)
    client, _staff = client_for(record.event.space.station.street)
    page = run_action(
        client, "services_volunteerhours", "correct_hours", [record.pk], confirm="yes", hours="3", note=""
    )
    assert page.status_code == 200
    assert "admin/action_note.html" in [t.name for t in page.templates]
    assert page.context["form"].errors["note"]
    record.refresh_from_db()
    assert record.hours == Decimal("2.0")
    assert not HoursCorrection.objects.exists()


def test_correct_hours_refusal_is_a_message():
    record = VolunteerHoursFactory(hours=2)
    client, _staff = client_for(record.event.space.station.street)
    response = run_action(
        client,
        "services_volunteerhours",
        "correct_hours",
        [record.pk],
        confirm="yes",
        hours="2",
        note="核对",
    )
    assert any("新时长与原时长相同" in t for t in texts(response))
    assert not HoursCorrection.objects.exists()


def test_correct_hours_out_of_scope_is_not_touched(street_b):
    record = VolunteerHoursFactory(hours=2)
    client, _staff = client_for(street_b)
    assert street_b != record.event.space.station.street
    run_action(
        client, "services_volunteerhours", "correct_hours", [record.pk], confirm="yes", hours="5", note="改"
    )
    record.refresh_from_db()
    assert record.hours == Decimal("2.0")
    assert not HoursCorrection.objects.exists()
    # The list does not even show it.
    assert client.get(admin_url("services_volunteerhours", "changelist")).context["cl"].result_count == 0
