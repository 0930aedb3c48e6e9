"""Enterprise demands (急难愁盼): the write side — every transition, who may make it, and its record.

A demand moves only along ``TRANSITIONS``; each move is one function here, one transaction that
locks the demand (``select_for_update``), checks the actor's role and the state, changes the row
and writes one ``DemandStep`` (who, when, from, to, note). A refusal raises ``DemandError`` (a
``core.errors.DomainError``) before anything changes. Every function takes ``now`` (the clock).

Roles (``roles_of``):

* ``submitter`` — the account that raised the demand;
* ``contact`` — an ``EnterpriseContact`` of the demand's enterprise;
* ``committee`` — the building chief or first secretary of the building's committee, today, through
  the account linked to the seat's party member;
* ``handler`` — the account linked to the committee seat the demand is assigned to;
* ``street`` — staff who may change demands (``committees.change_demand``) in the building's
  territory: the street's social workers (and superusers). District staff only read.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.scoping import in_scope, is_active_user
from core.workdays import add_workdays

from .models import CommitteeSeat, Demand, DemandCategory, DemandStep, EnterpriseContact, Visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
S = Demand.State

SUBMITTER = "submitter"
CONTACT = "contact"
COMMITTEE = "committee"
HANDLER = "handler"
STREET = "street"

MANAGERS = frozenset({COMMITTEE, STREET})
RAISERS = frozenset({SUBMITTER, CONTACT})
CHANGE_PERMISSION = "committees.change_demand"
ADD_PERMISSION = "committees.add_demand"


class DemandError(DomainError):
    """A demand rule refused an action; nothing was changed."""


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the state stays (a note, a rating)
    roles: frozenset[str]


#: The state machine, one row per write function (the tests iterate over it).
TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({S.SUBMITTED}), S.ACCEPTED, MANAGERS),
    "decline": Transition(frozenset({S.SUBMITTED}), S.DECLINED, MANAGERS),
    "assign": Transition(
        frozenset({S.ACCEPTED, S.REOPENED, S.ASSIGNED, S.IN_PROGRESS}), S.ASSIGNED, MANAGERS
    ),
    "start": Transition(frozenset({S.ASSIGNED}), S.IN_PROGRESS, MANAGERS | {HANDLER}),
    "add_note": Transition(
        frozenset({S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED}),
        None,
        MANAGERS | {HANDLER},
    ),
    "resolve": Transition(frozenset({S.ASSIGNED, S.IN_PROGRESS}), S.RESOLVED, MANAGERS | {HANDLER}),
    "confirm": Transition(frozenset({S.RESOLVED}), S.CLOSED, RAISERS),
    "reopen": Transition(frozenset({S.RESOLVED}), S.REOPENED, RAISERS),
    "rate": Transition(frozenset({S.CLOSED}), None, RAISERS),
}


def confirm_days() -> int:
    """Calendar days the raiser has to confirm or reopen a resolution; then silence closes it."""
    return int(getattr(settings, "DEMAND_CONFIRM_DAYS", 7))


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def _local_date(now: datetime.datetime) -> datetime.date:
    return timezone.localtime(now, SHANGHAI).date()


def deadline_for(category: DemandCategory, *, now: datetime.datetime) -> datetime.date:
    """The deadline of a demand of ``category`` received at ``now``: that many working days later."""
    return add_workdays(_local_date(now), category.deadline_days)


# --- roles ----------------------------------------------------------------------------------------


def current_seat_q(*, today: datetime.date) -> Q:
    return Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gt=today))


def is_committee_lead(user, building_id: int, *, today: datetime.date) -> bool:
    """The building chief or first secretary of ``building_id``'s committee today, by linked account."""
    if not is_active_user(user) or not user.party_member_id:
        return False
    return (
        CommitteeSeat.objects.filter(
            committee__building_id=building_id,
            role__in=CommitteeSeat.SINGLE_ROLES,
            member_id=user.party_member_id,
        )
        .filter(current_seat_q(today=today))
        .exists()
    )


def is_enterprise_contact(user, enterprise_id: int) -> bool:
    return (
        is_active_user(user)
        and EnterpriseContact.objects.filter(enterprise_id=enterprise_id, user=user).exists()
    )


def roles_of(user, demand: Demand, *, now: datetime.datetime | None = None) -> frozenset[str]:
    """Every role ``user`` holds towards ``demand`` (empty for a stranger)."""
    if not is_active_user(user):
        return frozenset()
    today = _local_date(_now(now))
    roles = set()
    if demand.submitter_id == user.pk:
        roles.add(SUBMITTER)
    if is_enterprise_contact(user, demand.enterprise_id):
        roles.add(CONTACT)
    if is_committee_lead(user, demand.building_id, today=today):
        roles.add(COMMITTEE)
    if (
        demand.handler_seat_id
        and user.party_member_id
        and CommitteeSeat.objects.filter(pk=demand.handler_seat_id, member_id=user.party_member_id).exists()
    ):
        roles.add(HANDLER)
    if user.is_staff and in_scope(demand, user, perm=CHANGE_PERMISSION):
        roles.add(STREET)
    return frozenset(roles)


def allowed_actions(user, demand: Demand, *, now: datetime.datetime | None = None) -> list[str]:
    """The transitions ``user`` may make on ``demand`` now (for buttons; the functions check again)."""
    now = _now(now)
    roles = roles_of(user, demand, now=now)
    names = []
    for name, transition in TRANSITIONS.items():
        if demand.state not in transition.sources or not roles & transition.roles:
            continue
        if name == "reopen" and (demand.confirm_by is None or now >= demand.confirm_by):
            continue
        if name == "rate" and demand.rating is not None:
            continue
        names.append(name)
    return names


# --- the machinery of one transition ---------------------------------------------------------------


def _locked(demand: Demand | int) -> Demand:
    pk = demand if isinstance(demand, int) else demand.pk
    try:
        return Demand.objects.select_for_update(of=("self",)).select_related("category").get(pk=pk)
    except Demand.DoesNotExist:
        raise DemandError("not_found", _("诉求不存在。")) from None


def _check(name: str, demand: Demand, user, now: datetime.datetime) -> frozenset[str]:
    transition = TRANSITIONS[name]
    roles = roles_of(user, demand, now=now)
    if not roles & transition.roles:
        raise DemandError("not_allowed", _("您无权对该诉求进行此操作。"))
    if demand.state not in transition.sources:
        raise DemandError(
            "bad_state",
            _("诉求当前为“%(state)s”，不能%(action)s。")
            % {"state": demand.get_state_display(), "action": ACTION_LABELS[name]},
        )
    return roles


def _step(demand: Demand, *, actor, at: datetime.datetime, from_state: str, note: str = "") -> DemandStep:
    return DemandStep.objects.create(
        demand=demand, actor=actor, at=at, from_state=from_state, to_state=demand.state, note=note
    )


def _move(demand: Demand, target: str, fields: list[str]) -> str:
    before = demand.state
    demand.state = target
    demand.save(update_fields=[*fields, "state", "updated_at"])
    return before


def _text(value: str, *, max_length: int | None = None) -> str:
    value = (value or "").strip()
    return value[:max_length] if max_length else value


ACTION_LABELS = {
    "accept": _("受理"),
    "decline": _("退回诉求"),
    "assign": _("交办"),
    "start": _("开始办理"),
    "add_note": _("记录进展"),
    "resolve": _("办结"),
    "confirm": _("确认办结"),
    "reopen": _("重新打开"),
    "rate": _("评价诉求"),
}


# --- the write functions ------------------------------------------------------------------------------


def submit_demand(
    *,
    user,
    enterprise,
    category: DemandCategory,
    title: str,
    description: str,
    visit: Visit | None = None,
    now: datetime.datetime | None = None,
) -> Demand:
    """Raise a demand for ``enterprise``: by one of its employees or contacts, or by staff of its
    territory on its behalf (during a ``visit``)."""
    now = _now(now)
    if not is_active_user(user):
        raise DemandError("not_allowed", _("请先登录。"))
    own = user.enterprise_id == enterprise.pk or is_enterprise_contact(user, enterprise.pk)
    staff = user.is_staff and in_scope(enterprise, user, perm=ADD_PERMISSION)
    if not (own or staff):
        raise DemandError("not_allowed", _("只能为本人所在企业提出诉求。"))
    if visit is not None and visit.enterprise_id != enterprise.pk:
        raise DemandError("visit_mismatch", _("走访记录与企业不符。"))
    if not category.is_active:
        raise DemandError("category_inactive", _("该诉求类别已停用。"))
    title, description = _text(title, max_length=100), _text(description)
    if not title or not description:
        raise DemandError("text_required", _("请填写标题和详细描述。"))
    with transaction.atomic():
        demand = Demand.objects.create(
            building_id=enterprise.building_id,
            enterprise=enterprise,
            submitter=user,
            visit=visit,
            category=category,
            title=title,
            description=description,
            state=S.SUBMITTED,
            deadline=deadline_for(category, now=now),
            submitted_at=now,
        )
        DemandStep.objects.create(demand=demand, actor=user, at=now, from_state="", to_state=S.SUBMITTED)
    return demand


def accept_demand(
    *, user, demand: Demand | int, note: str = "", now: datetime.datetime | None = None
) -> Demand:
    now = _now(now)
    with transaction.atomic():
        demand = _locked(demand)
        _check("accept", demand, user, now)
        before = _move(demand, S.ACCEPTED, [])
        _step(demand, actor=user, at=now, from_state=before, note=_text(note))
    return demand


def decline_demand(
    *, user, demand: Demand | int, reason: str, now: datetime.datetime | None = None
) -> Demand:
    now = _now(now)
    reason = _text(reason, max_length=500)
    with transaction.atomic():
        demand = _locked(demand)
        _check("decline", demand, user, now)
        if not reason:
            raise DemandError("reason_required", _("不予受理须填写理由。"))
        demand.decline_reason = reason
        before = _move(demand, S.DECLINED, ["decline_reason"])
        _step(demand, actor=user, at=now, from_state=before, note=reason)
    return demand


def assign_demand(
    *,
    user,
    demand: Demand | int,
    handler_kind: str,
    seat: CommitteeSeat | None = None,
    department: str = "",
    note: str = "",
    now: datetime.datetime | None = None,
) -> Demand:
    """Hand the demand to a committee seat, the property manager, a street department or the district."""
    now = _now(now)
    department = _text(department, max_length=100)
    with transaction.atomic():
        demand = _locked(demand)
        _check("assign", demand, user, now)
        if handler_kind not in Demand.HandlerKind.values:
            raise DemandError("bad_handler", _("请选择承办方类型。"))
        if handler_kind == Demand.HandlerKind.SEAT:
            today = _local_date(now)
            if (
                seat is None
                or not CommitteeSeat.objects.filter(pk=seat.pk, committee__building_id=demand.building_id)
                .filter(current_seat_q(today=today))
                .exists()
            ):
                raise DemandError("bad_handler", _("承办人须为本楼宇楼委会的在任成员。"))
            department = ""
        else:
            seat = None
            if not department:
                raise DemandError("bad_handler", _("请填写承办的物业或部门名称。"))
        demand.handler_kind = handler_kind
        demand.handler_seat = seat
        demand.handler_department = department
        before = _move(demand, S.ASSIGNED, ["handler_kind", "handler_seat", "handler_department"])
        handler = str(seat) if seat else department
        text = _text(note)
        _step(
            demand,
            actor=user,
            at=now,
            from_state=before,
            note=_assignment_note(Demand.HandlerKind(handler_kind).label, handler, text),
        )
    return demand


def _assignment_note(kind: str, handler: str, text: str) -> str:
    """ "Committee seat: Member X. The note", in the actor's language with its own punctuation."""
    assignment = _("%(kind)s：%(handler)s") % {"kind": kind, "handler": handler}
    return _("%(assignment)s。%(note)s") % {"assignment": assignment, "note": text} if text else assignment


def start_demand(
    *, user, demand: Demand | int, note: str = "", now: datetime.datetime | None = None
) -> Demand:
    now = _now(now)
    with transaction.atomic():
        demand = _locked(demand)
        _check("start", demand, user, now)
        before = _move(demand, S.IN_PROGRESS, [])
        _step(demand, actor=user, at=now, from_state=before, note=_text(note))
    return demand


def add_note(*, user, demand: Demand | int, note: str, now: datetime.datetime | None = None) -> DemandStep:
    """A progress note on the timeline; the state stays."""
    now = _now(now)
    note = _text(note)
    with transaction.atomic():
        demand = _locked(demand)
        _check("add_note", demand, user, now)
        if not note:
            raise DemandError("note_required", _("请填写进展说明。"))
        return _step(demand, actor=user, at=now, from_state=demand.state, note=note)


def resolve_demand(
    *, user, demand: Demand | int, resolution: str, now: datetime.datetime | None = None
) -> Demand:
    now = _now(now)
    resolution = _text(resolution)
    with transaction.atomic():
        demand = _locked(demand)
        _check("resolve", demand, user, now)
        if not resolution:
            raise DemandError("resolution_required", _("办结须填写办理结果。"))
        demand.resolution = resolution
        demand.resolved_at = now
        demand.confirm_by = now + datetime.timedelta(days=confirm_days())
        before = _move(demand, S.RESOLVED, ["resolution", "resolved_at", "confirm_by"])
        _step(demand, actor=user, at=now, from_state=before, note=resolution)
    return demand


def confirm_demand(
    *, user, demand: Demand | int, note: str = "", now: datetime.datetime | None = None
) -> Demand:
    """The raiser agrees the demand is resolved: it closes (and may then be rated)."""
    now = _now(now)
    with transaction.atomic():
        demand = _locked(demand)
        _check("confirm", demand, user, now)
        demand.closed_at = now
        demand.confirm_by = None
        before = _move(demand, S.CLOSED, ["closed_at", "confirm_by"])
        _step(demand, actor=user, at=now, from_state=before, note=_text(note))
    return demand


def reopen_demand(*, user, demand: Demand | int, reason: str, now: datetime.datetime | None = None) -> Demand:
    """The raiser is not satisfied, within the confirmation window: back to work, a new deadline."""
    now = _now(now)
    reason = _text(reason)
    with transaction.atomic():
        demand = _locked(demand)
        _check("reopen", demand, user, now)
        if demand.confirm_by is None or now >= demand.confirm_by:
            raise DemandError("window_closed", _("确认期已过，不能重新打开。"))
        if not reason:
            raise DemandError("reason_required", _("请说明为何仍未解决。"))
        demand.confirm_by = None
        demand.deadline = deadline_for(demand.category, now=now)
        before = _move(demand, S.REOPENED, ["confirm_by", "deadline"])
        _step(demand, actor=user, at=now, from_state=before, note=reason)
    return demand


def rate_demand(
    *, user, demand: Demand | int, rating: int, comment: str = "", now: datetime.datetime | None = None
) -> Demand:
    """A closed demand's rating (1–5) and comment, once."""
    now = _now(now)
    comment = _text(comment, max_length=500)
    with transaction.atomic():
        demand = _locked(demand)
        _check("rate", demand, user, now)
        if demand.rating is not None:
            raise DemandError("already_rated", _("该诉求已评价。"))
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise DemandError("bad_rating", _("评分须为1至5。"))
        demand.rating = rating
        demand.rating_comment = comment
        demand.save(update_fields=["rating", "rating_comment", "updated_at"])
        _step(demand, actor=user, at=now, from_state=demand.state, note=f"{'★' * rating} {comment}".strip())
    return demand


def auto_close_demands(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Close the resolved demands whose confirmation window has passed in silence; returns how many.

    Safe beside another run: each demand is re-read under its lock (``skip_locked``), and one
    already closed is left alone.
    """
    now = _now(now)
    closed = 0
    with transaction.atomic():
        due = list(
            Demand.objects.select_for_update(skip_locked=True)
            .filter(state=S.RESOLVED, confirm_by__lte=now)
            .order_by("confirm_by", "pk")[:limit]
        )
        for demand in due:
            demand.closed_at = now
            demand.confirm_by = None
            before = _move(demand, S.CLOSED, ["closed_at", "confirm_by"])
            _step(demand, actor=None, at=now, from_state=before, note=str(_("确认期内未答复，自动关闭。")))
            closed += 1
    return closed
