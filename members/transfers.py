"""Write side of organizational-relationship transfers (组织关系转接).

A transfer moves a party member's organizational relationship:

- ``internal`` (系统内转接): from their current organization to another one in
  the system; on completion ``member.organization`` becomes ``to_organization``.
- ``in`` (转入): from an organization outside the system (``external_organization``)
  to ``to_organization``; on completion ``member.organization`` becomes
  ``to_organization``. The receiving street first keeps a record for the
  member (usually already under the receiving organization).
- ``out`` (转出): from their current organization to one outside the system
  (``external_organization``). ``PartyMember.organization`` cannot be empty and
  the record is history worth keeping, so on completion the member keeps their
  last organization and the completed ``out`` transfer is the mark that they
  have left: see ``is_transferred_out`` / ``transferred_out_q``. Such a member
  can only be transferred back in.

Who may act: the sending side requests (a user whose territory holds the
member's organization; for ``in``, the receiving organization's territory);
the receiving side completes (``to_organization``'s territory for ``in`` and
``internal``, the member's own for ``out``); either side may cancel. When a
member leaves an organization whose secretary they are, the seat becomes empty.

Each function is one transaction that locks the member row and then the
transfer row (always in that order), so a transfer cannot be completed twice
and a member never has two transfers pending. A broken rule raises
``TransferError`` (stable ``code``, translated ``message``); nothing is changed.
Every change lands in the pghistory tables with the acting user in its context.
"""

from __future__ import annotations

import datetime

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.scoping import scope_queryset

from .models import MemberTransfer, PartyMember, PartyOrganization, User

Direction = MemberTransfer.Direction
Status = MemberTransfer.Status


class TransferError(DomainError):
    """A transfer rule refused an action; nothing was changed.

    ``code`` is stable and machine-readable (API clients, tests); ``message``
    is translated and meant for the person in front of the screen.
    """


# --- reads used by the rules ------------------------------------------------------


def _latest_completed(member_ref) -> Subquery:
    return Subquery(
        MemberTransfer.objects.filter(member=member_ref, status=Status.COMPLETED)
        .order_by("-completed_on", "-id")
        .values("direction")[:1]
    )


def transferred_out_q() -> Q:
    """Members whose latest completed transfer took them out of the system."""
    return Q(
        pk__in=PartyMember.objects.alias(last=_latest_completed(OuterRef("pk"))).filter(last=Direction.OUT)
    )


def is_transferred_out(member: PartyMember) -> bool:
    last = (
        MemberTransfer.objects.filter(member=member, status=Status.COMPLETED)
        .order_by("-completed_on", "-id")
        .values_list("direction", flat=True)
        .first()
    )
    return last == Direction.OUT


def _in_scope(model, pk: int, user: User) -> bool:
    return scope_queryset(model.objects.filter(pk=pk), user).exists()


def _lock_member(member_id: int) -> PartyMember:
    member = PartyMember.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        raise TransferError("member_not_found", _("该党员档案已不存在。"))
    return member


def _lock_transfer(transfer: MemberTransfer) -> tuple[PartyMember, MemberTransfer]:
    """Lock the member, then the transfer; refuse unless the transfer is still pending."""
    member_id = MemberTransfer.objects.filter(pk=transfer.pk).values_list("member_id", flat=True).first()
    if member_id is None:
        raise TransferError("not_found", _("该转接记录已不存在。"))
    member = _lock_member(member_id)
    locked = MemberTransfer.objects.select_for_update().get(pk=transfer.pk)
    if locked.status != Status.PENDING:
        raise TransferError(
            "not_pending",
            _("该转接的状态为“%(status)s”，不能再办理。") % {"status": locked.get_status_display()},
        )
    return member, locked


def _today(now: datetime.datetime | None = None) -> datetime.date:
    return timezone.localdate(now)


# --- writes -----------------------------------------------------------------------


def request_transfer(
    *,
    member: PartyMember,
    direction: str,
    to_organization: PartyOrganization | None = None,
    external_organization: str = "",
    requested_on: datetime.date | None = None,
    by: User,
    note: str = "",
    now: datetime.datetime | None = None,
) -> MemberTransfer:
    """Open a pending transfer for ``member``; at most one may be pending at a time."""
    if direction not in Direction.values:
        raise TransferError("invalid_direction", _("转接方向无效。"))
    external_organization = (external_organization or "").strip()
    requested_on = requested_on or _today(now)
    if requested_on > _today(now):
        raise TransferError("requested_in_future", _("申请日期不能晚于今天。"))

    if direction in (Direction.IN, Direction.INTERNAL) and to_organization is None:
        raise TransferError("to_organization_required", _("请选择转入党组织。"))
    if direction == Direction.OUT and to_organization is not None:
        raise TransferError(
            "out_has_to_organization", _("转往系统内党组织请办理系统内转接，转出只填写系统外党组织。")
        )
    if direction in (Direction.IN, Direction.OUT) and not external_organization:
        raise TransferError(
            "external_organization_required",
            _("请填写转入来源党组织。") if direction == Direction.IN else _("请填写转出去向党组织。"),
        )
    if direction == Direction.INTERNAL and external_organization:
        raise TransferError("external_not_allowed", _("系统内转接不填写系统外党组织。"))

    with pghistory.context(user=by.pk, action="members.request_transfer"):
        try:
            with transaction.atomic():
                locked = _lock_member(member.pk)
                member_in_scope = _in_scope(PartyMember, locked.pk, by)
                in_scope = member_in_scope or (
                    direction == Direction.IN and _in_scope(PartyOrganization, to_organization.pk, by)
                )
                if not in_scope:
                    raise TransferError("out_of_scope", _("该党员不在您负责的范围内，不能办理转接。"))
                if MemberTransfer.objects.filter(member=locked, status=Status.PENDING).exists():
                    raise TransferError("already_pending", _("该党员已有一条办理中的组织关系转接。"))
                transferred_out = is_transferred_out(locked)
                # Only the destination in scope: the member must come from outside the city. One
                # still held by another street's organization moves by that street's internal
                # transfer (issue 14: "in" took members from anywhere in the city).
                if direction == Direction.IN and not member_in_scope and not transferred_out:
                    raise TransferError(
                        "source_in_city",
                        _("该党员的组织关系仍在本市的党组织，须由其所在街道办理系统内转接。"),
                    )
                if transferred_out and direction != Direction.IN:
                    raise TransferError("transferred_out", _("该党员的组织关系已转出，只能办理转入。"))
                if direction == Direction.INTERNAL and to_organization.pk == locked.organization_id:
                    raise TransferError("same_organization", _("转入党组织与当前所在党组织相同。"))
                transfer = MemberTransfer(
                    member=locked,
                    direction=direction,
                    from_organization_id=None if direction == Direction.IN else locked.organization_id,
                    to_organization=to_organization,
                    external_organization=external_organization,
                    requested_on=requested_on,
                    note=note,
                    created_by=by,
                )
                try:
                    transfer.full_clean(exclude=["member", "created_by"])
                except ValidationError as exc:
                    raise TransferError("invalid", "；".join(exc.messages)) from exc
                transfer.save()
        except IntegrityError as exc:  # a concurrent request slipped in between check and insert
            raise TransferError("already_pending", _("该党员已有一条办理中的组织关系转接。")) from exc
    return transfer


def complete_transfer(
    *,
    transfer: MemberTransfer,
    by: User,
    completed_on: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> MemberTransfer:
    """The receiving side confirms: the member's organization follows (see the module docstring)."""
    completed_on = completed_on or _today(now)
    with pghistory.context(user=by.pk, action="members.complete_transfer"), transaction.atomic():
        member, locked = _lock_transfer(transfer)
        receiving = locked.to_organization_id if locked.direction != Direction.OUT else member.organization_id
        if not _in_scope(PartyOrganization, receiving, by):
            raise TransferError("out_of_scope", _("接收党组织不在您负责的范围内，不能办理接收。"))
        if completed_on > _today(now):
            raise TransferError("completed_in_future", _("完成日期不能晚于今天。"))
        if completed_on < locked.requested_on:
            raise TransferError("completed_before_request", _("完成日期不能早于申请日期。"))
        if locked.from_organization_id and member.organization_id != locked.from_organization_id:
            raise TransferError(
                "organization_changed", _("该党员的所在党组织已变更，请撤销本次转接后重新申请。")
            )

        leaving = locked.from_organization_id
        if locked.direction in (Direction.IN, Direction.INTERNAL):
            member.organization_id = locked.to_organization_id
            member.save(update_fields=["organization", "updated_at"])
        if leaving:
            # A secretary who leaves leaves the seat empty.
            for org in PartyOrganization.objects.select_for_update().filter(pk=leaving, secretary=member):
                org.secretary = None
                org.save(update_fields=["secretary", "updated_at"])

        locked.status = Status.COMPLETED
        locked.completed_on = completed_on
        locked.save(update_fields=["status", "completed_on"])
    transfer.refresh_from_db()
    return transfer


def cancel_transfer(*, transfer: MemberTransfer, by: User) -> MemberTransfer:
    """Withdraw a pending transfer (either side may); the member stays where they are."""
    with pghistory.context(user=by.pk, action="members.cancel_transfer"), transaction.atomic():
        member, locked = _lock_transfer(transfer)
        sides = [
            pk
            for pk in (locked.from_organization_id, locked.to_organization_id, member.organization_id)
            if pk
        ]
        if not scope_queryset(PartyOrganization.objects.filter(pk__in=sides), by).exists():
            raise TransferError("out_of_scope", _("该转接不在您负责的范围内，不能撤销。"))
        locked.status = Status.CANCELLED
        locked.save(update_fields=["status"])
    transfer.refresh_from_db()
    return transfer
