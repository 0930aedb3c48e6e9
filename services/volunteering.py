"""Write side of volunteer service (志愿服务): hours earned by attending shifts, and their corrections.

A volunteer shift is an event of kind "volunteer", booked with the one booking engine
(services/booking.py). Hours are earned once per attended booking: when the person is
checked in (``check_in`` calls ``credit_attendance`` in its transaction), or when staff
confirm after the shift that the person came (``confirm_attendance``). A cancelled or
no-show booking earns nothing; the booking's OneToOne key makes a second credit
impossible. Staff correct hours only with a reason (``correct_hours``), recorded in
HoursCorrection and in the record's history.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.scoping import in_scope

from .models import Booking, Event, HoursCorrection, Pairing, VolunteerHours


class VolunteeringError(DomainError):
    """A rule of volunteer service was broken; ``message`` is shown to the person."""


def credit_attendance(
    *, booking: Booking, event: Event, now: datetime.datetime, by=None
) -> VolunteerHours | None:
    """Credit the shift's hours for an attended booking, once. The caller holds the booking's lock.

    Returns the record (new or existing), or None when the event is not volunteer service.
    """
    if event.kind != Event.Kind.VOLUNTEER:
        return None
    if booking.status != Booking.Status.ATTENDED:
        raise VolunteeringError("not_attended", _("只有已到场的预约才能记入志愿时长。"))
    record, _created = VolunteerHours.objects.get_or_create(
        booking=booking,
        defaults={
            "user_id": booking.user_id,
            "event": event,
            "hours": event.credited_hours,
            "earned_at": now,
            "confirmed_by": by,
        },
    )
    return record


def confirm_attendance(*, booking: Booking, by, now: datetime.datetime | None = None) -> VolunteerHours:
    """Staff confirm after a volunteer shift that the person came: attended, hours credited.

    Only after the shift has started, only for a booking that held a seat (confirmed, or
    marked no-show by the nightly run while the person was in fact there); a cancelled or
    waitlisted booking is refused. Confirming twice credits once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=booking.event_id)
        if not in_scope(event, by, perm="services.change_booking"):
            raise VolunteeringError("forbidden", _("您无权确认该活动的到场情况。"))
        if event.kind != Event.Kind.VOLUNTEER:
            raise VolunteeringError("not_volunteer", _("该活动不是志愿服务。"))
        if event.status == Event.Status.CANCELLED:
            raise VolunteeringError("event_cancelled", _("该活动已取消。"))
        if now < event.starts_at:
            raise VolunteeringError("too_early", _("活动开始后才能确认到场。"))
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        if current.status in (Booking.Status.CANCELLED, Booking.Status.WAITLISTED):
            raise VolunteeringError(
                "not_confirmed", _("该预约已取消或仍在候补中，不能确认到场，也不记入时长。")
            )
        if current.status != Booking.Status.ATTENDED:
            current.status = Booking.Status.ATTENDED
            current.checked_in_at = min(now, event.ends_at)
            current.save(update_fields=["status", "checked_in_at"])
        return credit_attendance(booking=current, event=event, now=now, by=by)


def correct_hours(
    *, record: VolunteerHours, hours, reason: str, by, now: datetime.datetime | None = None
) -> VolunteerHours:
    """Change the hours of ``record`` to ``hours``, with a reason that is recorded."""
    reason = (reason or "").strip()
    if not reason:
        raise VolunteeringError("reason_required", _("更正时长须填写原因。"))
    try:
        value = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise VolunteeringError("bad_hours", _("请输入正确的时长。")) from None
    if not (Decimal(0) <= value <= Decimal(24)):
        raise VolunteeringError("bad_hours", _("时长应在0到24小时之间。"))
    now = now or timezone.now()
    with transaction.atomic():
        current = VolunteerHours.objects.select_for_update().get(pk=record.pk)
        if not in_scope(current, by, perm="services.change_volunteerhours"):
            raise VolunteeringError("forbidden", _("您无权更正该时长。"))
        if current.hours == value:
            raise VolunteeringError("unchanged", _("新时长与原时长相同。"))
        HoursCorrection.objects.create(
            record=current,
            old_hours=current.hours,
            new_hours=value,
            reason=reason[:200],
            corrected_by=by,
            corrected_at=now,
        )
        current.hours = value
        current.save(update_fields=["hours"])
    return current


def can_see_resident(user, pairing: Pairing) -> bool:
    """The resident's name and address: the partner's own staff only (and superusers)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or (
        user.is_staff and user.partner_id is not None and user.partner_id == pairing.partner_id
    )
