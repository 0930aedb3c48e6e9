"""Space reservations by party organizations: request, approve, reject, cancel.

The secretary of a party organization (or a social worker on the
organization's behalf) asks for a space of a service station for a time; the
social worker responsible for the station approves or rejects it in the admin.

An approved reservation and a (non-cancelled) event never overlap in one
space. The rule is checked here first, to give a clear message, and enforced
by PostgreSQL in the end: the triggers on Event and SpaceReservation mirror
both into ``SpaceOccupancy``, whose exclusion constraint refuses an overlap
whichever way the rows were written. If a competing write wins the race
between our check and our write, the constraint violation is turned into the
same clear message here.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.scoping import in_scope

from .models import Event, Space, SpaceOccupancy, SpaceReservation

# The constraints whose violation means "the space is taken at that time".
_OVERLAP_CONSTRAINTS = frozenset(
    {
        "services_spaceoccupancy_no_overlap",
        "services_spacereservation_no_overlap_approved",
        "services_event_no_overlap_in_space",
    }
)

# Two writers whose new rows overlap can each wait for the other inside an exclusion
# constraint check; PostgreSQL breaks the tie by failing one with "deadlock detected".
_DEADLOCK_DETECTED = "40P01"
_WRITE_ATTEMPTS = 3

_PURPOSE_MAX = SpaceReservation._meta.get_field("purpose").max_length
_NOTE_MAX = SpaceReservation._meta.get_field("decision_note").max_length


class ReservationError(DomainError):
    """A reservation rule refused an action; nothing was changed (``code`` + translated ``message``)."""


# --- helpers ------------------------------------------------------------------------------------


def _staff_in_scope_of_space(user, space_id: int, *, perm: str) -> bool:
    """A staff member holding ``perm`` whose territory includes the space (district staff only read)."""
    return in_scope(Space(pk=space_id), user, perm=perm)  # only the id is read


def _is_secretary(user, organization) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.party_member_id is not None
        and user.party_member_id == organization.secretary_id
    )


def space_conflict(
    *,
    space_id: int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    exclude_reservation_id: int | None = None,
    exclude_event_id: int | None = None,
) -> str | None:
    """The message for what already holds ``space_id`` in [starts_at, ends_at), or None if free.

    Looks at non-cancelled events and approved reservations (SpaceOccupancy).
    Also useful to the admin and the API before they save an event.
    """
    clashes = SpaceOccupancy.overlapping(space_id=space_id, starts_at=starts_at, ends_at=ends_at)
    if exclude_reservation_id is not None:
        clashes = clashes.exclude(reservation_id=exclude_reservation_id)
    if exclude_event_id is not None:
        clashes = clashes.exclude(event_id=exclude_event_id)
    clash = clashes.first()
    return None if clash is None else str(clash.conflict_message)


def _is_overlap_violation(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) in _OVERLAP_CONSTRAINTS


def _is_deadlock(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "pgcode", None) == _DEADLOCK_DETECTED


def _lock_reservation(reservation: SpaceReservation) -> SpaceReservation:
    return (
        SpaceReservation.objects.select_for_update(of=("self",))
        .select_related("organization", "space")
        .get(pk=reservation.pk)
    )


def _sync(target: SpaceReservation, source: SpaceReservation) -> None:
    if target is not source:
        for field in ("status", "decided_by_id", "decided_at", "decision_note"):
            setattr(target, field, getattr(source, field))


# --- write side ---------------------------------------------------------------------------------


def request_reservation(
    *,
    user,
    organization,
    space: Space,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    purpose: str,
    attendees: int,
    now: datetime.datetime | None = None,
) -> SpaceReservation:
    """A party organization asks for ``space`` from ``starts_at`` to ``ends_at``.

    Only the organization's secretary (``user.party_member`` is the
    organization's ``secretary``) or staff whose territory includes the space
    may ask. A time that is already taken is refused at once.
    """
    if not (
        _is_secretary(user, organization)
        or _staff_in_scope_of_space(user, space.pk, perm="services.add_spacereservation")
    ):
        raise ReservationError("not_secretary", _("只有该党组织的书记或负责该服务站的社工可以申请使用场地。"))
    purpose = (purpose or "").strip()
    if not purpose:
        raise ReservationError("purpose_required", _("请填写用途。"))
    if len(purpose) > _PURPOSE_MAX:
        raise ReservationError("purpose_too_long", _("用途不能超过%(n)s个字。") % {"n": _PURPOSE_MAX})
    if not starts_at or not ends_at or ends_at <= starts_at:
        raise ReservationError("invalid_period", _("结束时间必须晚于开始时间。"))
    if starts_at <= (now or timezone.now()):
        raise ReservationError("in_past", _("不能预约已经开始或过去的时段。"))
    if attendees is None or attendees < 1:
        raise ReservationError("attendees_invalid", _("预计人数必须大于0。"))
    if attendees > space.capacity:
        raise ReservationError(
            "too_many_attendees", _("预计人数超过空间容纳人数（%(n)s人）。") % {"n": space.capacity}
        )
    if not space.station.is_active:
        raise ReservationError("station_closed", _("该服务站暂停开放，不能预约。"))
    clash = space_conflict(space_id=space.pk, starts_at=starts_at, ends_at=ends_at)
    if clash is not None:
        raise ReservationError("space_conflict", clash)
    reservation = SpaceReservation(
        space=space,
        organization=organization,
        requested_by=user,
        purpose=purpose,
        attendees=attendees,
        starts_at=starts_at,
        ends_at=ends_at,
        status=SpaceReservation.Status.REQUESTED,
    )
    try:
        reservation.full_clean()
    except ValidationError as exc:  # a rule of the model we did not duplicate above
        raise ReservationError("invalid", " ".join(str(m) for m in exc.messages)) from None
    reservation.save()
    return reservation


def approve_reservation(
    *, reservation: SpaceReservation, by, note: str = "", now: datetime.datetime | None = None
) -> SpaceReservation:
    """The station's social worker approves a request; the space is then held for it."""
    now = now or timezone.now()
    if len(note or "") > _NOTE_MAX:
        raise ReservationError("note_too_long", _("审批意见不能超过%(n)s个字。") % {"n": _NOTE_MAX})
    with transaction.atomic():
        current = _lock_reservation(reservation)
        if not _staff_in_scope_of_space(by, current.space_id, perm="services.change_spacereservation"):
            raise ReservationError("forbidden", _("只有负责该服务站的社工可以审批。"))
        if current.status != SpaceReservation.Status.REQUESTED:
            raise ReservationError(
                "not_pending",
                _("该申请已处理（当前状态：%(status)s）。") % {"status": current.get_status_display()},
            )
        if current.starts_at <= now:
            raise ReservationError("reservation_past", _("申请的时段已开始或已过去，不能批准。"))
        # Approvals in one space take turns, so the check below sees the previous
        # approval and says what it clashes with. NO KEY UPDATE: inserting events
        # in the space (a foreign-key share lock on it) is not held up.
        Space.objects.select_for_update(no_key=True).filter(pk=current.space_id).exists()
        clash = space_conflict(
            space_id=current.space_id,
            starts_at=current.starts_at,
            ends_at=current.ends_at,
            exclude_reservation_id=current.pk,
        )
        if clash is not None:
            raise ReservationError("space_conflict", clash)
        current.status = SpaceReservation.Status.APPROVED
        current.decided_by = by
        current.decided_at = now
        current.decision_note = note or ""
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
                break
            except OperationalError as exc:
                # Our row and an event written at the same moment waited for each other;
                # the savepoint is rolled back, the other writer goes on, we try again
                # (and then wait for it like any other conflicting write).
                if not _is_deadlock(exc) or attempt == _WRITE_ATTEMPTS:
                    raise
            except IntegrityError as exc:
                # Someone (an event saved in the admin, a bulk import) took the slot between
                # our check and our write; the constraint waited for their commit, so we can
                # now see what they wrote.
                if not _is_overlap_violation(exc):
                    raise
                clash = space_conflict(
                    space_id=current.space_id,
                    starts_at=current.starts_at,
                    ends_at=current.ends_at,
                    exclude_reservation_id=current.pk,
                )
                raise ReservationError(
                    "space_conflict", clash or _("该空间在这段时间已被活动或批准的场地预约占用。")
                ) from None
    _sync(reservation, current)
    return current


def reject_reservation(
    *, reservation: SpaceReservation, by, note: str = "", now: datetime.datetime | None = None
) -> SpaceReservation:
    """The station's social worker turns a request down, optionally saying why."""
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > _NOTE_MAX:
        raise ReservationError("note_too_long", _("审批意见不能超过%(n)s个字。") % {"n": _NOTE_MAX})
    with transaction.atomic():
        current = _lock_reservation(reservation)
        if not _staff_in_scope_of_space(by, current.space_id, perm="services.change_spacereservation"):
            raise ReservationError("forbidden", _("只有负责该服务站的社工可以审批。"))
        if current.status != SpaceReservation.Status.REQUESTED:
            raise ReservationError(
                "not_pending",
                _("该申请已处理（当前状态：%(status)s）。") % {"status": current.get_status_display()},
            )
        current.status = SpaceReservation.Status.REJECTED
        current.decided_by = by
        current.decided_at = now
        current.decision_note = note
        current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _sync(reservation, current)
    return current


def cancel_reservation(
    *, reservation: SpaceReservation, by, now: datetime.datetime | None = None
) -> SpaceReservation:
    """Withdraw a request or give back an approved slot (the space becomes free at once).

    Allowed to the person who asked, the organization's current secretary, and
    staff whose territory includes the space; not once the slot has ended.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock_reservation(reservation)
        allowed = (
            (by is not None and by.pk == current.requested_by_id)
            or _is_secretary(by, current.organization)
            or _staff_in_scope_of_space(by, current.space_id, perm="services.change_spacereservation")
        )
        if not allowed:
            raise ReservationError("forbidden", _("只有申请人、该党组织书记或负责该服务站的社工可以撤销。"))
        if current.status not in (SpaceReservation.Status.REQUESTED, SpaceReservation.Status.APPROVED):
            raise ReservationError(
                "not_cancellable",
                _("该预约当前状态为“%(status)s”，不能撤销。") % {"status": current.get_status_display()},
            )
        if current.ends_at <= now:
            raise ReservationError("reservation_past", _("该预约的时段已结束，不能撤销。"))
        current.status = SpaceReservation.Status.CANCELLED
        current.save(update_fields=["status"])
    _sync(reservation, current)
    return current


def rebuild_space_occupancy() -> int:
    """Recompute SpaceOccupancy from the events and reservations; returns the number of rows.

    Only needed after writes made with the occupancy triggers switched off
    (``pgtrigger.ignore``): the triggers keep the table right otherwise. Raises
    IntegrityError if the data itself has an event and an approved reservation
    overlapping in one space. Concurrent writers wait for it (table lock).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE services_spaceoccupancy IN EXCLUSIVE MODE")
        cursor.execute("DELETE FROM services_spaceoccupancy")
        cursor.execute(
            "INSERT INTO services_spaceoccupancy (space_id, starts_at, ends_at, event_id) "
            "SELECT space_id, starts_at, ends_at, id FROM services_event WHERE status <> %s",
            [Event.Status.CANCELLED],
        )
        rows = cursor.rowcount
        cursor.execute(
            "INSERT INTO services_spaceoccupancy (space_id, starts_at, ends_at, reservation_id) "
            "SELECT space_id, starts_at, ends_at, id FROM services_spacereservation WHERE status = %s",
            [SpaceReservation.Status.APPROVED],
        )
        return rows + cursor.rowcount
