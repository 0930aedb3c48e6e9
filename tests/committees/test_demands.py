"""committees/demands.py: every transition × every role (allowed, or refused with nothing changed),
every transition from every state it does not start from, the text rules, the confirmation window,
auto-close, and deadlines in official working days."""

from __future__ import annotations

import datetime
import logging
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser, Group
from django.forms.models import model_to_dict

from committees import demands as d
from committees.models import CommitteeSeat, Demand, DemandStep
from core import workdays
from tests.buildings.factories import EnterpriseFactory
from tests.committees.factories import (
    BuildingCommitteeFactory,
    CommitteeSeatFactory,
    DemandCategoryFactory,
    EnterpriseContactFactory,
    VisitFactory,
)
from tests.concurrency import held_elsewhere
from tests.members.factories import PartyMemberFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=SH)  # a Monday
S = Demand.State


def _seat_holder(committee, role, username):
    member = PartyMemberFactory()
    CommitteeSeatFactory(committee=committee, role=role, member=member, starts_on=datetime.date(2024, 6, 1))
    user = UserFactory(username=username, party_member=member)
    return user


@pytest.fixture
def world(street_a, street_b, district_a, social_worker, district_staff, superuser):
    enterprise = EnterpriseFactory(building__street=street_a)
    building = enterprise.building
    committee = BuildingCommitteeFactory(building=building)
    handler_member = PartyMemberFactory()
    handler_seat = CommitteeSeatFactory(
        committee=committee, role=CommitteeSeat.Role.PROPERTY_MANAGER, member=handler_member
    )
    other_worker = StaffUserFactory(username="other_worker", streets=[street_b])
    other_worker.groups.add(Group.objects.get(name="街道社工"))
    users = {
        "submitter": UserFactory(username="submitter", enterprise=enterprise, building=building),
        "contact": EnterpriseContactFactory(enterprise=enterprise).user,
        "colleague": UserFactory(username="colleague", enterprise=enterprise, building=building),
        "chief": _seat_holder(committee, CommitteeSeat.Role.BUILDING_CHIEF, "chief"),
        "first_secretary": _seat_holder(committee, CommitteeSeat.Role.FIRST_SECRETARY, "first_secretary"),
        "seat_member": _seat_holder(committee, CommitteeSeat.Role.MEMBER, "seat_member"),
        "handler": UserFactory(username="handler", party_member=handler_member),
        "social_worker": social_worker,
        "other_worker": other_worker,
        "district_staff": district_staff,
        "superuser": superuser,
        "stranger": UserFactory(username="stranger"),
    }
    category = DemandCategoryFactory(name="物业设施", deadline_days=5)
    return {"enterprise": enterprise, "seat": handler_seat, "category": category, "users": users}


#: Which role may make which transition — written out by hand, not derived from the module.
MANAGING = {"accept", "decline", "assign", "start", "add_note", "resolve"}
HANDLING = {"start", "add_note", "resolve"}
RAISING = {"confirm", "reopen", "rate"}
ALLOWED = {
    "submitter": RAISING,
    "contact": RAISING,
    "colleague": set(),
    "chief": MANAGING,
    "first_secretary": MANAGING,
    "seat_member": set(),
    "handler": HANDLING,
    "social_worker": MANAGING,
    "other_worker": set(),
    "district_staff": set(),
    "superuser": MANAGING,
    "stranger": set(),
}

#: A state each transition starts from, and the state it leaves.
FROM_TO = {
    "accept": (S.SUBMITTED, S.ACCEPTED),
    "decline": (S.SUBMITTED, S.DECLINED),
    "assign": (S.ACCEPTED, S.ASSIGNED),
    "start": (S.ASSIGNED, S.IN_PROGRESS),
    "add_note": (S.IN_PROGRESS, S.IN_PROGRESS),
    "resolve": (S.IN_PROGRESS, S.RESOLVED),
    "confirm": (S.RESOLVED, S.CLOSED),
    "reopen": (S.RESOLVED, S.REOPENED),
    "rate": (S.CLOSED, S.CLOSED),
}


def _submit(world, *, now=NOW):
    return d.submit_demand(
        user=world["users"]["submitter"],
        enterprise=world["enterprise"],
        category=world["category"],
        title="电梯故障",
        description="3号电梯每天停运。",
        now=now,
    )


def _bring_to(world, state, *, now=NOW):
    """A demand in ``state``, moved there by the write functions (a superuser and the submitter)."""
    root, submitter = world["users"]["superuser"], world["users"]["submitter"]
    demand = _submit(world, now=now)
    if state == S.SUBMITTED:
        return demand
    if state == S.DECLINED:
        return d.decline_demand(user=root, demand=demand, reason="不属于受理范围", now=now)
    d.accept_demand(user=root, demand=demand, now=now)
    if state == S.ACCEPTED:
        return Demand.objects.get(pk=demand.pk)
    d.assign_demand(user=root, demand=demand, handler_kind="seat", seat=world["seat"], now=now)
    if state == S.ASSIGNED:
        return Demand.objects.get(pk=demand.pk)
    d.start_demand(user=root, demand=demand, now=now)
    if state == S.IN_PROGRESS:
        return Demand.objects.get(pk=demand.pk)
    d.resolve_demand(user=root, demand=demand, resolution="已维修", now=now)
    if state == S.RESOLVED:
        return Demand.objects.get(pk=demand.pk)
    if state == S.REOPENED:
        return d.reopen_demand(user=submitter, demand=demand, reason="又坏了", now=now)
    d.confirm_demand(user=submitter, demand=demand, now=now)
    return Demand.objects.get(pk=demand.pk)


def _call(name, *, user, demand, world, now=NOW):
    later = now + datetime.timedelta(hours=1)
    kwargs = {"user": user, "demand": demand, "now": later}
    extra = {
        "decline": {"reason": "不属于受理范围"},
        "assign": {"handler_kind": "seat", "seat": world["seat"]},
        "add_note": {"note": "已联系物业"},
        "resolve": {"resolution": "已更换部件"},
        "reopen": {"reason": "仍未解决"},
        "rate": {"rating": 4, "comment": "及时"},
    }.get(name, {})
    func = {
        "accept": d.accept_demand,
        "decline": d.decline_demand,
        "assign": d.assign_demand,
        "start": d.start_demand,
        "add_note": d.add_note,
        "resolve": d.resolve_demand,
        "confirm": d.confirm_demand,
        "reopen": d.reopen_demand,
        "rate": d.rate_demand,
    }[name]
    return func(**kwargs, **extra)


def _snapshot(demand):
    demand = Demand.objects.get(pk=demand.pk)
    return model_to_dict(demand), DemandStep.objects.filter(demand=demand).count()


def test_the_table_covers_every_write_function():
    assert set(d.TRANSITIONS) == set(FROM_TO)


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize("name", sorted(FROM_TO))
def test_every_transition_for_every_role(world, name, role):
    source, target = FROM_TO[name]
    demand = _bring_to(world, source)
    before, steps = _snapshot(demand)
    user = world["users"][role]
    if name in ALLOWED[role]:
        _call(name, user=user, demand=demand, world=world)
        demand.refresh_from_db()
        assert demand.state == target
        step = DemandStep.objects.filter(demand=demand).latest("at", "id")
        assert step.actor == user and step.from_state == source and step.to_state == target
        assert DemandStep.objects.filter(demand=demand).count() == steps + 1
    else:
        with pytest.raises(d.DemandError) as refused:
            _call(name, user=user, demand=demand, world=world)
        assert refused.value.code == "not_allowed"
        assert _snapshot(demand) == (before, steps)


@pytest.mark.parametrize(
    ("name", "state"),
    [
        (name, state)
        for name in sorted(FROM_TO)
        for state in S.values
        if state not in d.TRANSITIONS[name].sources
    ],
)
def test_every_transition_from_a_state_it_does_not_leave_is_refused(world, name, state):
    demand = _bring_to(world, state)
    before, steps = _snapshot(demand)
    role = "submitter" if name in RAISING else "social_worker"
    with pytest.raises(d.DemandError) as refused:
        _call(name, user=world["users"][role], demand=demand, world=world)
    assert refused.value.code == "bad_state"
    assert str(S(state).label) in str(refused.value)
    assert _snapshot(demand) == (before, steps)


def test_allowed_actions_match_the_table(world):
    demand = _bring_to(world, S.IN_PROGRESS)
    assert d.allowed_actions(world["users"]["handler"], demand, now=NOW) == ["add_note", "resolve"]
    assert d.allowed_actions(world["users"]["submitter"], demand, now=NOW) == []
    assert set(d.allowed_actions(world["users"]["chief"], demand, now=NOW)) == {
        "assign",
        "add_note",
        "resolve",
    }


def test_submit_by_employee_contact_or_street_staff_only(world):
    users = world["users"]
    for role in ("submitter", "colleague", "contact", "social_worker", "superuser"):
        demand = d.submit_demand(
            user=users[role],
            enterprise=world["enterprise"],
            category=world["category"],
            title="t",
            description="x",
            now=NOW,
        )
        assert demand.state == S.SUBMITTED and demand.building == world["enterprise"].building
    for role in ("stranger", "other_worker", "district_staff", "chief"):
        with pytest.raises(d.DemandError):
            d.submit_demand(
                user=users[role],
                enterprise=world["enterprise"],
                category=world["category"],
                title="t",
                description="x",
                now=NOW,
            )


def test_decline_needs_a_reason_resolve_a_resolution(world):
    root = world["users"]["superuser"]
    demand = _bring_to(world, S.SUBMITTED)
    with pytest.raises(d.DemandError) as refused:
        d.decline_demand(user=root, demand=demand, reason="  ", now=NOW)
    assert refused.value.code == "reason_required"
    demand = _bring_to(world, S.IN_PROGRESS)
    with pytest.raises(d.DemandError) as refused:
        d.resolve_demand(user=root, demand=demand, resolution="", now=NOW)
    assert refused.value.code == "resolution_required"
    assert Demand.objects.get(pk=demand.pk).state == S.IN_PROGRESS


def test_assign_to_a_seat_of_another_building_or_without_a_department_is_refused(world):
    root = world["users"]["superuser"]
    demand = _bring_to(world, S.ACCEPTED)
    for kwargs in (
        {"handler_kind": "seat", "seat": CommitteeSeatFactory()},
        {"handler_kind": "seat", "seat": None},
        {"handler_kind": "street", "department": ""},
        {"handler_kind": "nobody"},
    ):
        with pytest.raises(d.DemandError) as refused:
            d.assign_demand(user=root, demand=demand, now=NOW, **kwargs)
        assert refused.value.code == "bad_handler"
    d.assign_demand(user=root, demand=demand, handler_kind="street", department="街道营商办", now=NOW)
    demand.refresh_from_db()
    assert (demand.handler_kind, demand.handler_seat, demand.handler_department) == (
        "street",
        None,
        "街道营商办",
    )


def test_reopen_only_within_the_window_then_silence_closes(world):
    submitter = world["users"]["submitter"]
    demand = _bring_to(world, S.RESOLVED)
    assert demand.confirm_by == NOW + datetime.timedelta(days=7)
    edge = demand.confirm_by
    with pytest.raises(d.DemandError) as refused:
        d.reopen_demand(user=submitter, demand=demand, reason="没修好", now=edge)
    assert refused.value.code == "window_closed"
    assert d.auto_close_demands(now=edge - datetime.timedelta(microseconds=1)) == 0
    d.reopen_demand(
        user=submitter, demand=demand, reason="没修好", now=edge - datetime.timedelta(microseconds=1)
    )
    assert Demand.objects.get(pk=demand.pk).state == S.REOPENED

    other = _bring_to(world, S.RESOLVED)
    assert d.auto_close_demands(now=edge) == 1
    other.refresh_from_db()
    assert other.state == S.CLOSED and other.closed_at == edge
    assert DemandStep.objects.filter(demand=other, to_state=S.CLOSED, actor=None).count() == 1
    assert d.auto_close_demands(now=edge + datetime.timedelta(days=1)) == 0


def test_rating_once_and_between_one_and_five(world):
    submitter = world["users"]["submitter"]
    demand = _bring_to(world, S.CLOSED)
    for bad in (0, 6, "5", True):
        with pytest.raises(d.DemandError) as refused:
            d.rate_demand(user=submitter, demand=demand, rating=bad, now=NOW)
        assert refused.value.code == "bad_rating"
    d.rate_demand(user=submitter, demand=demand, rating=5, comment="很满意", now=NOW)
    with pytest.raises(d.DemandError) as refused:
        d.rate_demand(user=world["users"]["contact"], demand=demand, rating=1, now=NOW)
    assert refused.value.code == "already_rated"
    demand.refresh_from_db()
    assert (demand.rating, demand.rating_comment) == (5, "很满意")


def test_a_former_building_chief_has_no_say(world):
    chief = world["users"]["chief"]
    CommitteeSeat.objects.filter(member=chief.party_member).update(ends_on=datetime.date(2026, 10, 1))
    demand = _bring_to(world, S.SUBMITTED)
    with pytest.raises(d.DemandError):
        d.accept_demand(user=chief, demand=demand, now=NOW)


# --- working days ---------------------------------------------------------------------------------


def test_deadline_skips_the_national_day_holiday():
    # 2026: 1–7 October off; Saturday 10 October an adjusted working day.
    start = datetime.date(2026, 9, 30)  # Wednesday
    assert workdays.add_workdays(start, 1) == datetime.date(2026, 10, 8)
    assert workdays.add_workdays(start, 2) == datetime.date(2026, 10, 9)
    assert workdays.add_workdays(start, 3) == datetime.date(2026, 10, 10)  # the working Saturday
    assert workdays.add_workdays(start, 4) == datetime.date(2026, 10, 12)


def test_an_adjusted_working_sunday_counts():
    # Sunday 20 September 2026 is a working day (for the Mid-Autumn / National Day bridge).
    assert workdays.is_workday(datetime.date(2026, 9, 20))
    assert workdays.add_workdays(datetime.date(2026, 9, 18), 1) == datetime.date(2026, 9, 20)


def test_demand_deadline_counts_working_days_in_shanghai(world):
    category = world["category"]  # five working days
    late_evening = datetime.datetime(2026, 9, 29, 23, 30, tzinfo=SH)  # Tuesday
    demand = _submit(world, now=late_evening)
    # 30 Sep, 8, 9, 10 (Saturday, working), 12 October
    assert demand.deadline == datetime.date(2026, 10, 12)
    assert category.deadline_days == 5


def test_an_unknown_year_counts_weekdays_and_warns(caplog):
    workdays._warned_years.discard(2099)
    with caplog.at_level(logging.WARNING, logger="core.workdays"):
        assert workdays.add_workdays(datetime.date(2099, 1, 2), 1) == datetime.date(2099, 1, 5)  # Fri → Mon
        workdays.add_workdays(datetime.date(2099, 3, 2), 3)
    assert [r.getMessage() for r in caplog.records].count(
        "chinese-calendar has no schedule for 2099: counting Monday to Friday as working days"
    ) == 1


# --- auto-close: the batch, its order, the state, the locks (found by mutation testing, issue 20) ------


def _copies(demand: Demand, count: int) -> list[Demand]:
    """``count`` more demands exactly like ``demand`` (same state and dates), without their steps."""
    fields = {
        f.attname: getattr(demand, f.attname) for f in Demand._meta.concrete_fields if not f.primary_key
    }
    return Demand.objects.bulk_create([Demand(**fields) for _ in range(count)])


def test_auto_close_closes_at_most_500_a_run_by_default(world):
    first = _bring_to(world, S.RESOLVED)
    _copies(first, 500)
    after = first.confirm_by
    assert d.auto_close_demands(now=after) == 500
    assert d.auto_close_demands(now=after) == 1
    assert not Demand.objects.filter(state=S.RESOLVED).exists()


def test_auto_close_takes_the_longest_overdue_first_then_by_id(world):
    a, b, c = (_bring_to(world, S.RESOLVED) for _ in range(3))
    edge = a.confirm_by
    # b is a second longer overdue; a and c are due at the same instant, a first by id (a is
    # written last, so the table's own order would give c first)
    Demand.objects.filter(pk=b.pk).update(confirm_by=edge - datetime.timedelta(seconds=1))
    Demand.objects.filter(pk=c.pk).update(confirm_by=edge)
    Demand.objects.filter(pk=a.pk).update(confirm_by=edge)
    closed = []
    for _ in range(3):
        assert d.auto_close_demands(now=edge, limit=1) == 1
        closed.append(Demand.objects.filter(state=S.CLOSED).exclude(pk__in=closed).get().pk)
    assert closed == [b.pk, a.pk, c.pk]


def test_auto_close_leaves_demands_in_other_states_alone_whatever_their_window(world):
    closed = _bring_to(world, S.CLOSED)
    reopened = _bring_to(world, S.REOPENED)
    past = NOW + datetime.timedelta(days=30)
    Demand.objects.filter(pk__in=[closed.pk, reopened.pk]).update(confirm_by=NOW)
    steps = DemandStep.objects.count()
    assert d.auto_close_demands(now=past) == 0
    assert DemandStep.objects.count() == steps
    assert Demand.objects.get(pk=reopened.pk).state == S.REOPENED


# --- what each refusal says, what each step records (found by mutation testing, issue 20) -------------


def _refused(code: str, message: str, fn, **kwargs) -> None:
    with pytest.raises(d.DemandError) as refused:
        fn(**kwargs)
    assert (refused.value.code, str(refused.value.message)) == (code, message)


def _last_step(demand: Demand) -> DemandStep:
    return DemandStep.objects.filter(demand_id=demand.pk).latest("id")


def test_a_decline_keeps_its_reason_cut_at_500_characters_on_the_timeline(world):
    root = world["users"]["superuser"]
    demand = _bring_to(world, S.SUBMITTED)
    _refused(
        "reason_required",
        "不予受理须填写理由。",
        d.decline_demand,
        user=root,
        demand=demand,
        reason=" ",
        now=NOW,
    )
    d.decline_demand(user=root, demand=demand, reason=" " + "理" * 501, now=NOW)
    demand.refresh_from_db()
    assert demand.decline_reason == "理" * 500
    step = _last_step(demand)
    assert (step.at, step.note, step.to_state) == (NOW, "理" * 500, S.DECLINED)


def test_a_note_needs_its_text_and_is_recorded_at_the_given_now(world):
    root = world["users"]["superuser"]
    demand = _bring_to(world, S.ACCEPTED)
    _refused("note_required", "请填写进展说明。", d.add_note, user=root, demand=demand, note="  ", now=NOW)
    step = d.add_note(user=root, demand=demand, note=" 已联系物业 ", now=NOW)
    assert (step.at, step.note, step.from_state, step.to_state) == (NOW, "已联系物业", S.ACCEPTED, S.ACCEPTED)


def test_a_rating_from_one_star_with_its_comment_cut_at_500_characters(world):
    submitter = world["users"]["submitter"]
    demand = _bring_to(world, S.CLOSED)
    _refused("bad_rating", "评分须为1至5。", d.rate_demand, user=submitter, demand=demand, rating=0, now=NOW)
    d.rate_demand(user=submitter, demand=demand, rating=1, comment="差" * 501, now=NOW)
    demand.refresh_from_db()
    assert (demand.rating, demand.rating_comment) == (1, "差" * 500)
    step = _last_step(demand)
    assert (step.at, step.note) == (NOW, "★ " + "差" * 500)
    _refused(
        "already_rated", "该诉求已评价。", d.rate_demand, user=submitter, demand=demand, rating=2, now=NOW
    )


def test_a_rating_without_a_comment_has_none(world):
    submitter = world["users"]["submitter"]
    demand = _bring_to(world, S.CLOSED)
    d.rate_demand(user=submitter, demand=demand, rating=2, now=NOW)
    demand.refresh_from_db()
    assert (demand.rating, demand.rating_comment, _last_step(demand).note) == (2, "", "★★")


def test_the_raisers_buttons_follow_the_window_and_the_rating(world):
    submitter = world["users"]["submitter"]
    demand = _bring_to(world, S.RESOLVED)
    edge = demand.confirm_by
    assert d.allowed_actions(submitter, demand, now=NOW) == ["confirm", "reopen"]
    assert d.allowed_actions(submitter, demand, now=edge - datetime.timedelta(microseconds=1)) == [
        "confirm",
        "reopen",
    ]
    assert d.allowed_actions(submitter, demand, now=edge) == ["confirm"]
    closed = _bring_to(world, S.CLOSED)
    assert d.allowed_actions(submitter, closed, now=NOW) == ["rate"]
    d.rate_demand(user=submitter, demand=closed, rating=4, now=NOW)
    closed.refresh_from_db()
    assert d.allowed_actions(submitter, closed, now=NOW) == []


def test_a_reopening_says_why_it_is_refused_and_restarts_the_deadline_from_the_given_now(world):
    submitter = world["users"]["submitter"]
    demand = _bring_to(world, S.RESOLVED)
    _refused(
        "reason_required",
        "请说明为何仍未解决。",
        d.reopen_demand,
        user=submitter,
        demand=demand,
        reason=" ",
        now=NOW,
    )
    _refused(
        "window_closed",
        "确认期已过，不能重新打开。",
        d.reopen_demand,
        user=submitter,
        demand=demand,
        reason="没修好",
        now=demand.confirm_by,
    )
    later = NOW + datetime.timedelta(days=2)
    d.reopen_demand(user=submitter, demand=demand, reason=" 没修好 ", now=later)
    demand.refresh_from_db()
    assert demand.deadline == d.deadline_for(demand.category, now=later)
    step = _last_step(demand)
    assert (step.at, step.note, step.to_state) == (later, "没修好", S.REOPENED)


def test_auto_close_says_so_on_the_timeline(world):
    demand = _bring_to(world, S.RESOLVED)
    assert d.auto_close_demands(now=demand.confirm_by) == 1
    step = _last_step(demand)
    assert (step.actor, step.note, step.at) == (None, "确认期内未答复，自动关闭。", demand.confirm_by)


def test_each_step_of_the_work_says_why_it_is_refused_and_records_its_note(world):
    root, submitter = world["users"]["superuser"], world["users"]["submitter"]
    demand = _bring_to(world, S.ACCEPTED)
    for kwargs, message in (
        ({"handler_kind": "nobody"}, "请选择承办方类型。"),
        ({"handler_kind": "seat"}, "承办人须为本楼宇楼委会的在任成员。"),
        ({"handler_kind": "street"}, "请填写承办的物业或部门名称。"),
    ):
        _refused("bad_handler", message, d.assign_demand, user=root, demand=demand, now=NOW, **kwargs)
    d.assign_demand(user=root, demand=demand, handler_kind="street", department=" " + "部" * 101, now=NOW)
    demand.refresh_from_db()
    assert demand.handler_department == "部" * 100
    d.start_demand(user=root, demand=demand, now=NOW)
    assert _last_step(demand).note == ""
    _refused(
        "resolution_required",
        "办结须填写办理结果。",
        d.resolve_demand,
        user=root,
        demand=demand,
        resolution="",
        now=NOW,
    )
    d.resolve_demand(user=root, demand=demand, resolution=" 已更换电梯部件 ", now=NOW)
    assert _last_step(demand).note == "已更换电梯部件"
    later = NOW + datetime.timedelta(days=1)
    d.confirm_demand(user=submitter, demand=demand, note=" 好了 ", now=later)
    demand.refresh_from_db()
    assert demand.closed_at == later
    assert (_last_step(demand).note, _last_step(demand).at) == ("好了", later)


# --- what the steps record without a note, and roles judged at the given now (issue 20) ---------------


def test_an_assignment_without_a_note_records_the_handler_alone_and_a_seat_no_department(world):
    root = world["users"]["superuser"]
    demand = _bring_to(world, S.ACCEPTED)
    d.assign_demand(user=root, demand=demand, handler_kind="street", department="城管科", now=NOW)
    assert _last_step(demand).note == "街道部门：城管科"
    d.assign_demand(
        user=root, demand=demand, handler_kind="seat", seat=world["seat"], department="城管科", now=NOW
    )
    demand.refresh_from_db()
    assert (demand.handler_kind, demand.handler_seat_id, demand.handler_department) == (
        "seat",
        world["seat"].pk,
        "",
    )
    assert _last_step(demand).note == f"楼委会成员：{world['seat']}"


def test_a_start_records_its_note_and_a_confirmation_without_a_note_none(world):
    root, submitter = world["users"]["superuser"], world["users"]["submitter"]
    demand = _bring_to(world, S.ASSIGNED)
    d.start_demand(user=root, demand=demand, note=" 已联系物业 ", now=NOW)
    assert _last_step(demand).note == "已联系物业"
    d.resolve_demand(user=root, demand=demand, resolution="已维修", now=NOW)
    d.confirm_demand(user=submitter, demand=demand, now=NOW)
    assert (_last_step(demand).to_state, _last_step(demand).note) == (S.CLOSED, "")


#: The clock stands at NOW; the functions are asked about LATER. A seat that starts (or ends)
#: between the two shows whether the roles are judged at the given ``now`` or at the clock's date.
LATER = NOW + datetime.timedelta(days=30)
BETWEEN = (NOW + datetime.timedelta(days=10)).date()


@pytest.fixture
def seats_changing(world):
    committee = CommitteeSeat.objects.get(pk=world["seat"].pk).committee
    CommitteeSeat.objects.filter(committee=committee, role=CommitteeSeat.Role.BUILDING_CHIEF).update(
        ends_on=BETWEEN
    )
    new_member = PartyMemberFactory()
    CommitteeSeatFactory(
        committee=committee, role=CommitteeSeat.Role.BUILDING_CHIEF, member=new_member, starts_on=BETWEEN
    )
    newcomer = CommitteeSeatFactory(committee=committee, role=CommitteeSeat.Role.MEMBER, starts_on=BETWEEN)
    leaver = CommitteeSeatFactory(
        committee=committee,
        role=CommitteeSeat.Role.MEMBER,
        starts_on=datetime.date(2024, 6, 1),
        ends_on=BETWEEN,
    )
    return {
        "new_chief": UserFactory(username="new_chief", party_member=new_member),
        "old_chief": world["users"]["chief"],
        "newcomer": newcomer,
        "leaver": leaver,
    }


def test_the_buttons_follow_the_roles_at_the_given_now(world, seats_changing):
    with time_machine.travel(NOW, tick=False):
        demand = _bring_to(world, S.SUBMITTED)
        assert d.allowed_actions(seats_changing["new_chief"], demand, now=LATER) == [
            "accept",
            "decline",
            "add_note",
        ]
        assert d.allowed_actions(seats_changing["old_chief"], demand, now=LATER) == []
        assert d.allowed_actions(seats_changing["old_chief"], demand, now=NOW) == [
            "accept",
            "decline",
            "add_note",
        ]


def test_a_decline_is_judged_by_the_roles_at_the_given_now(world, seats_changing):
    new_chief, old_chief = seats_changing["new_chief"], seats_changing["old_chief"]
    with time_machine.travel(NOW, tick=False):
        demand = _bring_to(world, S.SUBMITTED)
        with pytest.raises(d.DemandError):
            d.decline_demand(user=old_chief, demand=demand, reason="不属于受理范围", now=LATER)
        d.decline_demand(user=new_chief, demand=demand, reason="不属于受理范围", now=LATER)
    assert Demand.objects.get(pk=demand.pk).state == S.DECLINED


def test_an_assignment_is_judged_by_the_roles_and_the_seats_at_the_given_now(world, seats_changing):
    new_chief, old_chief = seats_changing["new_chief"], seats_changing["old_chief"]
    with time_machine.travel(NOW, tick=False):
        demand = _bring_to(world, S.ACCEPTED)
        kwargs = {"demand": demand, "handler_kind": "seat", "now": LATER}
        with pytest.raises(d.DemandError):
            d.assign_demand(user=old_chief, seat=world["seat"], **kwargs)
        _refused(
            "bad_handler",
            "承办人须为本楼宇楼委会的在任成员。",
            d.assign_demand,
            user=new_chief,
            seat=seats_changing["leaver"],
            **kwargs,
        )
        d.assign_demand(user=new_chief, seat=seats_changing["newcomer"], **kwargs)
    assert Demand.objects.get(pk=demand.pk).handler_seat_id == seats_changing["newcomer"].pk


@pytest.mark.parametrize(
    ("name", "state"),
    [("start", S.ASSIGNED), ("add_note", S.IN_PROGRESS), ("resolve", S.IN_PROGRESS)],
)
def test_the_work_is_judged_by_the_roles_at_the_given_now(world, seats_changing, name, state):
    new_chief, old_chief = seats_changing["new_chief"], seats_changing["old_chief"]
    with time_machine.travel(NOW, tick=False):
        demand = _bring_to(world, state)
        steps = DemandStep.objects.filter(demand=demand).count()
        with pytest.raises(d.DemandError):
            _call(name, user=old_chief, demand=demand, world=world, now=LATER)
        _call(name, user=new_chief, demand=demand, world=world, now=LATER)
    assert DemandStep.objects.filter(demand=demand).count() == steps + 1
    assert _last_step(demand).actor == new_chief


def test_auto_close_breaks_ties_by_id_whatever_the_order_the_rows_were_written_in(world):
    first = _bring_to(world, S.RESOLVED)
    edge = first.confirm_by
    Demand.objects.filter(pk=first.pk).update(confirm_by=edge - datetime.timedelta(seconds=1))
    # three demands due at the same instant, written in the reverse of their ids
    fields = {f.attname: getattr(first, f.attname) for f in Demand._meta.concrete_fields if not f.primary_key}
    fields["confirm_by"] = edge
    ids = [first.pk + 30, first.pk + 20, first.pk + 10]
    Demand.objects.bulk_create([Demand(pk=pk, **fields) for pk in ids])
    closed = []
    for _ in range(4):
        assert d.auto_close_demands(now=edge, limit=1) == 1
        closed.append(Demand.objects.filter(state=S.CLOSED).exclude(pk__in=closed).get().pk)
    assert closed == [first.pk, *sorted(ids)]


# --- a submission: what it records, each refusal, who may raise it (issue 20, d20) ---------------------


def test_a_submission_records_the_demand_and_its_first_step_at_the_given_now(world):
    worker, enterprise = world["users"]["social_worker"], world["enterprise"]
    visit = VisitFactory(enterprise=enterprise, visited_by=worker)
    demand = d.submit_demand(
        user=worker,
        enterprise=enterprise,
        category=world["category"],
        title=" " + "题" * 101,
        description=" 3号电梯每天停运。 ",
        visit=visit,
        now=NOW,
    )
    demand = Demand.objects.get(pk=demand.pk)
    assert (demand.building_id, demand.enterprise_id, demand.submitter_id, demand.visit_id) == (
        enterprise.building_id,
        enterprise.pk,
        worker.pk,
        visit.pk,
    )
    assert (demand.category_id, demand.title, demand.description) == (
        world["category"].pk,
        "题" * 100,
        "3号电梯每天停运。",
    )
    # five working days from Monday 2 November 2026: 3, 4, 5, 6 and Monday 9 November
    assert (demand.state, demand.submitted_at, demand.deadline) == (
        S.SUBMITTED,
        NOW,
        datetime.date(2026, 11, 9),
    )
    step = DemandStep.objects.get(demand=demand)
    assert (step.actor_id, step.at, step.from_state, step.to_state, step.note) == (
        worker.pk,
        NOW,
        "",
        S.SUBMITTED,
        "",
    )


def test_each_refusal_of_a_submission_says_why_and_writes_nothing(world):
    users, enterprise, category = world["users"], world["enterprise"], world["category"]
    fields = {
        "enterprise": enterprise,
        "category": category,
        "title": "电梯故障",
        "description": "停运",
        "now": NOW,
    }
    inactive = users["colleague"]
    inactive.is_active = False
    inactive.save()
    for user in (AnonymousUser(), inactive):
        _refused("not_allowed", "请先登录。", d.submit_demand, user=user, **fields)
    # a stranger, staff of another street, district staff (who only read), the building's chief
    for role in ("stranger", "other_worker", "district_staff", "chief"):
        _refused("not_allowed", "只能为本人所在企业提出诉求。", d.submit_demand, user=users[role], **fields)
    _refused(
        "visit_mismatch",
        "走访记录与企业不符。",
        d.submit_demand,
        user=users["social_worker"],
        visit=VisitFactory(visited_by=users["social_worker"]),
        **fields,
    )
    stopped = DemandCategoryFactory(name="已停用类别", is_active=False)
    _refused(
        "category_inactive",
        "该诉求类别已停用。",
        d.submit_demand,
        user=users["submitter"],
        **{**fields, "category": stopped},
    )
    for text in ({"title": " "}, {"description": " "}):
        _refused(
            "text_required",
            "请填写标题和详细描述。",
            d.submit_demand,
            user=users["submitter"],
            **{**fields, **text},
        )
    assert (Demand.objects.count(), DemandStep.objects.count()) == (0, 0)


def test_a_contact_working_elsewhere_may_raise_a_demand_for_the_enterprise_a_contact_of_another_may_not(
    world,
):
    enterprise = world["enterprise"]
    outside = UserFactory(username="outside_contact")  # no enterprise of their own
    EnterpriseContactFactory(enterprise=enterprise, user=outside)
    demand = d.submit_demand(
        user=outside, enterprise=enterprise, category=world["category"], title="t", description="x", now=NOW
    )
    assert (demand.submitter_id, demand.enterprise_id) == (outside.pk, enterprise.pk)
    elsewhere = EnterpriseContactFactory().user  # a contact (and employee) of another enterprise
    _refused(
        "not_allowed",
        "只能为本人所在企业提出诉求。",
        d.submit_demand,
        user=elsewhere,
        enterprise=enterprise,
        category=world["category"],
        title="t",
        description="x",
        now=NOW,
    )
    assert Demand.objects.count() == 1


# --- the notes, the refusals and the roles of the transitions (issue 20, d20) --------------------------


def test_an_assignment_with_a_note_records_the_handler_then_the_note(world):
    root = world["users"]["superuser"]
    demand = _bring_to(world, S.ACCEPTED)
    d.assign_demand(
        user=root, demand=demand, handler_kind="street", department="城管科", note=" 尽快处理 ", now=NOW
    )
    assert _last_step(demand).note == "街道部门：城管科。尽快处理"
    d.assign_demand(user=root, demand=demand, handler_kind="seat", seat=world["seat"], note="转物业", now=NOW)
    assert _last_step(demand).note == f"楼委会成员：{world['seat']}。转物业"


def test_an_acceptance_records_its_note_and_without_one_none(world):
    root = world["users"]["superuser"]
    with_note, without = _submit(world), _submit(world)
    d.accept_demand(user=root, demand=with_note, note=" 三日内上门 ", now=NOW)
    d.accept_demand(user=root, demand=without, now=NOW)
    assert (_last_step(with_note).note, _last_step(without).note) == ("三日内上门", "")
    assert (_last_step(with_note).to_state, _last_step(without).to_state) == (S.ACCEPTED, S.ACCEPTED)


def test_an_acceptance_is_judged_by_the_roles_at_the_given_now(world, seats_changing):
    new_chief, old_chief = seats_changing["new_chief"], seats_changing["old_chief"]
    with time_machine.travel(NOW, tick=False):
        demand = _bring_to(world, S.SUBMITTED)
        with pytest.raises(d.DemandError):
            d.accept_demand(user=old_chief, demand=demand, now=LATER)
        d.accept_demand(user=new_chief, demand=demand, now=LATER)
    assert Demand.objects.get(pk=demand.pk).state == S.ACCEPTED
    assert _last_step(demand).actor == new_chief


def test_a_transition_refused_says_why(world):
    demand = _bring_to(world, S.CLOSED)
    _refused(
        "not_allowed",
        "您无权对该诉求进行此操作。",
        d.accept_demand,
        user=world["users"]["stranger"],
        demand=demand,
        now=NOW,
    )
    _refused(
        "bad_state",
        "诉求当前为“已关闭”，不能受理。",
        d.accept_demand,
        user=world["users"]["social_worker"],
        demand=demand,
        now=NOW,
    )


def test_a_demand_given_by_its_id_and_an_unknown_id(world):
    root = world["users"]["superuser"]
    demand = _submit(world)
    accepted = d.accept_demand(user=root, demand=demand.pk, now=NOW)
    assert (accepted.pk, Demand.objects.get(pk=demand.pk).state) == (demand.pk, S.ACCEPTED)
    missing = Demand.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    _refused("not_found", "诉求不存在。", d.accept_demand, user=root, demand=missing, now=NOW)


def test_a_lead_of_another_building_and_an_account_without_a_party_member_have_no_say(world):
    """Another building's committee: its chief has an account; its first secretary's seat has no
    party member (a name only), which an account without a party member must not match."""
    other = EnterpriseFactory(building__street=world["enterprise"].building.street)
    committee = BuildingCommitteeFactory(building=other.building)
    other_chief = _seat_holder(committee, CommitteeSeat.Role.BUILDING_CHIEF, "other_chief")
    CommitteeSeatFactory(committee=committee, role=CommitteeSeat.Role.FIRST_SECRETARY, member=None)
    demand = _submit(world)
    assert d.roles_of(other_chief, demand, now=NOW) == frozenset()
    _refused(
        "not_allowed", "您无权对该诉求进行此操作。", d.accept_demand, user=other_chief, demand=demand, now=NOW
    )
    employee = UserFactory(username="other_employee", enterprise=other, building=other.building)
    theirs = d.submit_demand(
        user=employee, enterprise=other, category=world["category"], title="t", description="x", now=NOW
    )
    stranger = world["users"]["stranger"]
    assert stranger.party_member_id is None
    assert d.roles_of(stranger, theirs, now=NOW) == frozenset()
    assert d.roles_of(other_chief, theirs, now=NOW) == {d.COMMITTEE}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_auto_close_skips_a_demand_another_transaction_holds_instead_of_waiting(world):
    held, free = _bring_to(world, S.RESOLVED), _bring_to(world, S.RESOLVED)
    with held_elsewhere(Demand, held.pk):
        assert d.auto_close_demands(now=held.confirm_by) == 1
    assert Demand.objects.get(pk=held.pk).state == S.RESOLVED
    assert Demand.objects.get(pk=free.pk).state == S.CLOSED
