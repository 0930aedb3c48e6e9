"""Write side of party-member link requests: a street social worker approves or rejects.

An employee asks (members.accounts.request_member_link) to be linked to their
PartyMember record; the social worker of the request's street (the record's, or the
applicant's building's when no record matched) checks it and decides here. A request
without a matching record can only be rejected. Approving sets ``user.party_member``, which lets the employee book
"members only" events. Each decision is one transaction that locks the request
and the user rows involved; a broken rule raises ``LinkError`` (``code`` and a
translated ``message``), which the admin shows as a message.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.scoping import in_scope

from .models import MemberLinkRequest, User


class LinkError(DomainError):
    """A link request cannot be decided this way; ``message`` is shown to the social worker."""


def _lock_pending(request: MemberLinkRequest, by: User) -> MemberLinkRequest:
    locked = (
        MemberLinkRequest.objects.select_for_update(of=("self",))
        .select_related("member", "user")
        .filter(pk=request.pk)
        .first()
    )
    if locked is None:
        raise LinkError("not_found", _("该申请已不存在。"))
    if not in_scope(locked, by, perm="members.change_memberlinkrequest"):
        raise LinkError("out_of_scope", _("该申请不在您负责的街道，不能处理。"))
    if locked.status != MemberLinkRequest.Status.PENDING:
        raise LinkError(
            "not_pending",
            _("该申请已处理（%(status)s），不能重复处理。") % {"status": locked.get_status_display()},
        )
    return locked


def approve_link_request(*, request: MemberLinkRequest, by: User) -> MemberLinkRequest:
    """Link the requesting user to the member record; refuse if either is linked elsewhere."""
    try:
        with transaction.atomic():
            locked = _lock_pending(request, by)
            if locked.member_id is None:
                raise LinkError(
                    "no_match", _("没有与填写的姓名和身份证号都匹配的党员档案，不能关联；请驳回并说明原因。")
                )
            # Lock, in primary-key order, the requesting user and any user holding the member.
            users = list(
                User.objects.select_for_update()
                .filter(Q(pk=locked.user_id) | Q(party_member_id=locked.member_id))
                .order_by("pk")
            )
            requester = next(u for u in users if u.pk == locked.user_id)
            holder = next((u for u in users if u.party_member_id == locked.member_id), None)
            if holder is not None and holder.pk != requester.pk:
                raise LinkError(
                    "member_already_linked",
                    _("该党员档案已关联账号“%(user)s”，不能再关联其他账号。")
                    % {"user": holder.get_username()},
                )
            if requester.party_member_id and requester.party_member_id != locked.member_id:
                raise LinkError("user_already_linked", _("该账号已关联其他党员档案。"))
            requester.party_member_id = locked.member_id
            requester.save(update_fields=["party_member"])
            locked.status = MemberLinkRequest.Status.APPROVED
            locked.decided_by = by
            locked.decided_at = timezone.now()
            locked.save(update_fields=["status", "decided_by", "decided_at"])
    except IntegrityError as exc:  # the one-to-one on party_member: a concurrent approval won
        raise LinkError("member_already_linked", _("该党员档案已关联其他账号。")) from exc
    request.refresh_from_db()
    return request


def reject_link_request(*, request: MemberLinkRequest, by: User, note: str = "") -> MemberLinkRequest:
    """Refuse the request, with the reason shown to the employee."""
    with transaction.atomic():
        locked = _lock_pending(request, by)
        locked.status = MemberLinkRequest.Status.REJECTED
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.decision_note = (note or "").strip()[:200]
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    request.refresh_from_db()
    return request
