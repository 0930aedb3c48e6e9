"""Volunteer service (services/volunteering.py and the check-in of services/booking.py).

Hours are earned once per attended booking (check-in, or staff confirmation after the
shift), never for a cancelled or no-show booking; each shift credits its stated hours or its
length; staff correct hours only with a reason, which is recorded; the resident of a
pairing is seen by the partner's own staff only.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from services import booking as engine
from services import volunteering
from services.models import Booking, HoursCorrection, VolunteerHours
from services.volunteering import VolunteeringError
from tests.members.factories import SocialWorkerFactory, StaffUserFactory, UserFactory
from tests.services.factories import PairingFactory, VolunteerHoursFactory, VolunteerShiftFactory

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


def staff_for(event):
    return SocialWorkerFactory(streets=[event.space.station.street])


def booked_shift(**kwargs):
    shift = VolunteerShiftFactory(**kwargs)
    person = UserFactory(person_type="rider", platform="美团·曹杨站", building=None)
    booking = engine.book_event(user=person, event=shift)
    return shift, booking


def test_check_in_earns_the_shift_length_once():
    shift, booking = booked_shift()
    code = engine.checkin_code(booking)
    engine.check_in(code=code, event=shift, by=staff_for(shift), now=shift.starts_at)
    record = VolunteerHours.objects.get(booking=booking)
    assert record.hours == Decimal("2.0") and record.user_id == booking.user_id
    with pytest.raises(engine.BookingError):
        engine.check_in(code=code, event=shift, by=staff_for(shift), now=shift.starts_at + H)
    assert VolunteerHours.objects.filter(booking=booking).count() == 1


def test_stated_hours_win_over_the_length():
    shift, booking = booked_shift(volunteer_hours=Decimal("1.5"))
    engine.check_in(code=engine.checkin_code(booking), event=shift, by=staff_for(shift), now=shift.starts_at)
    assert VolunteerHours.objects.get(booking=booking).hours == Decimal("1.5")


def test_other_events_earn_no_hours_on_check_in():
    from tests.services.factories import EventFactory

    event = EventFactory()
    booking = engine.book_event(user=UserFactory(), event=event)
    engine.check_in(code=engine.checkin_code(booking), event=event, by=staff_for(event), now=event.starts_at)
    assert not VolunteerHours.objects.exists()


def test_staff_confirm_after_the_shift_credits_once():
    shift, booking = booked_shift()
    staff = staff_for(shift)
    after = shift.ends_at + H
    first = volunteering.confirm_attendance(booking=booking, by=staff, now=after)
    second = volunteering.confirm_attendance(booking=booking, by=staff, now=after)
    assert first.pk == second.pk and first.confirmed_by == staff
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    assert VolunteerHours.objects.count() == 1


def test_cancelled_booking_earns_nothing():
    shift, booking = booked_shift()
    engine.cancel_booking(booking=booking)
    with pytest.raises(VolunteeringError) as info:
        volunteering.confirm_attendance(booking=booking, by=staff_for(shift), now=shift.ends_at + H)
    assert info.value.code == "not_confirmed"
    assert not VolunteerHours.objects.exists()


def test_no_show_run_earns_nothing():
    shift, booking = booked_shift()
    engine.mark_no_shows(now=shift.ends_at + H)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.NO_SHOW
    assert not VolunteerHours.objects.exists()


def test_database_refuses_a_second_record_for_one_booking():
    record = VolunteerHoursFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        VolunteerHours.objects.create(
            booking=record.booking, user=record.user, event=record.event, hours=1, earned_at=timezone.now()
        )


def test_confirm_refused_outside_territory_and_before_start():
    shift, booking = booked_shift()
    outsider = SocialWorkerFactory(streets=[])
    with pytest.raises(VolunteeringError) as info:
        volunteering.confirm_attendance(booking=booking, by=outsider, now=shift.ends_at + H)
    assert info.value.code == "forbidden"
    with pytest.raises(VolunteeringError) as info:
        volunteering.confirm_attendance(booking=booking, by=staff_for(shift), now=shift.starts_at - H)
    assert info.value.code == "too_early"
    assert not VolunteerHours.objects.exists()


def test_partner_staff_confirm_at_their_own_place():
    from django.contrib.auth.models import Group

    from members.groups import PARTNER_STAFF

    shift, booking = booked_shift()
    staff = StaffUserFactory(partner=shift.space.station.partner)
    staff.groups.add(Group.objects.get(name=PARTNER_STAFF))
    record = volunteering.confirm_attendance(booking=booking, by=staff, now=shift.ends_at + H)
    assert record.hours == Decimal("2.0")


class TestCorrection:
    def test_correction_needs_a_reason_and_is_recorded(self):
        record = VolunteerHoursFactory(hours=2)
        staff = staff_for(record.event)
        with pytest.raises(VolunteeringError) as info:
            volunteering.correct_hours(record=record, hours="3", reason="  ", by=staff)
        assert info.value.code == "reason_required"
        record.refresh_from_db()
        assert record.hours == 2 and not HoursCorrection.objects.exists()
        volunteering.correct_hours(record=record, hours="3", reason="提前到场布置", by=staff)
        record.refresh_from_db()
        assert record.hours == Decimal("3.0")
        correction = HoursCorrection.objects.get()
        assert (correction.old_hours, correction.new_hours, correction.reason, correction.corrected_by) == (
            Decimal("2.0"),
            Decimal("3.0"),
            "提前到场布置",
            staff,
        )
        # and the record's history has the change
        assert record.events.filter(pgh_label="update").count() == 1

    def test_database_refuses_a_correction_without_reason(self):
        record = VolunteerHoursFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            HoursCorrection.objects.create(
                record=record,
                old_hours=2,
                new_hours=1,
                reason="",
                corrected_by=record.user,
                corrected_at=timezone.now(),
            )

    @pytest.mark.parametrize("hours", ["-1", "25", "abc"])
    def test_bad_hours_refused(self, hours):
        record = VolunteerHoursFactory()
        with pytest.raises(VolunteeringError):
            volunteering.correct_hours(record=record, hours=hours, reason="x", by=staff_for(record.event))

    def test_outsider_cannot_correct(self):
        record = VolunteerHoursFactory()
        with pytest.raises(VolunteeringError) as info:
            volunteering.correct_hours(
                record=record, hours="5", reason="x", by=SocialWorkerFactory(streets=[])
            )
        assert info.value.code == "forbidden"


def test_only_the_partner_staff_see_the_resident():
    pairing = PairingFactory()
    own = StaffUserFactory(partner=pairing.partner)
    other_partner = StaffUserFactory(partner=PairingFactory().partner)
    worker = SocialWorkerFactory(streets=[pairing.partner.street])
    assert volunteering.can_see_resident(own, pairing)
    assert not volunteering.can_see_resident(other_partner, pairing)
    assert not volunteering.can_see_resident(worker, pairing)
    assert not volunteering.can_see_resident(pairing.volunteer, pairing)


def test_social_worker_admin_hides_the_resident(client):
    pairing = PairingFactory()
    worker = SocialWorkerFactory(streets=[pairing.partner.street])
    client.force_login(worker)
    listing = client.get("/admin/services/pairing/").content.decode()
    page = client.get(f"/admin/services/pairing/{pairing.pk}/change/").content.decode()
    assert pairing.resident_name not in listing and pairing.resident_name not in page
    assert pairing.resident_address not in page


class TestRecord:
    def test_person_sees_own_hours_per_year_and_the_list(self, client):
        mine = VolunteerHoursFactory(hours=2)
        VolunteerHoursFactory(hours=3, user=mine.user, booking__user=mine.user)
        other = VolunteerHoursFactory(hours=7)
        client.force_login(mine.user)
        response = client.get("/volunteering/")
        assert response.status_code == 200
        years = response.context["years"]
        assert [(y["hours"], y["shifts"]) for y in years] == [(Decimal("5.0"), 2)]
        assert len(response.context["rows"]) == 2 and other.pk not in {r.pk for r in response.context["rows"]}
        assert other.event.title not in response.content.decode()

    def test_printable_page_has_a_print_stylesheet(self, client):
        record = VolunteerHoursFactory(hours=2)
        client.force_login(record.user)
        body = client.get("/volunteering/?print=1").content.decode()
        assert "volunteer_print.css" in body and record.event.title in body

    def test_anonymous_is_sent_to_login(self, client):
        assert client.get("/volunteering/").status_code == 302
