"""Demo data for the committee's work: demand categories, visits, and demands in every state
(some overdue), written through the write functions so that every timeline is a real one.

Idempotent: a demand is found by (enterprise, title) and left alone when it exists, so seeding
again (or on a later day) changes nothing.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from buildings.models import Enterprise
from committees import demands as d
from committees.models import CommitteeSeat, Demand, DemandCategory, Visit
from members.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: (name, level, working days, risk signal)
CATEGORIES = [
    ("物业设施", DemandCategory.Level.COMMITTEE, 5, False),
    ("政策咨询", DemandCategory.Level.STREET, 5, False),
    ("人才落户", DemandCategory.Level.DISTRICT, 15, False),
    ("融资服务", DemandCategory.Level.DISTRICT, 10, False),
    ("证照办理", DemandCategory.Level.STREET, 10, False),
    ("安全生产", DemandCategory.Level.STREET, 3, False),
    ("职工服务", DemandCategory.Level.COMMITTEE, 5, False),
    ("欠薪风险", DemandCategory.Level.STREET, 3, True),
    ("拟迁出", DemandCategory.Level.STREET, 5, True),
    ("其他", DemandCategory.Level.COMMITTEE, 10, False),
]

#: (title, category, the state to bring it to, days before today it was raised)
DEMANDS = [
    ("3号电梯早高峰频繁停运", "物业设施", "closed", 30),
    ("地下车库夜间照明不足", "物业设施", "resolved", 9),
    ("高新技术企业认定政策咨询", "政策咨询", "in_progress", 6),
    ("应届生落户积分材料咨询", "人才落户", "assigned", 12),
    ("中央空调周末不供冷", "物业设施", "accepted", 2),
    ("申请设立职工哺乳室", "职工服务", "submitted", 1),
    ("门禁卡补办收费过高", "其他", "declined", 8),
    ("消防通道被快递堆放占用", "安全生产", "reopened", 14),
    ("食品经营许可证延续", "证照办理", "in_progress", 25),  # overdue
    ("首贷融资对接", "融资服务", "submitted", 20),  # overdue, never accepted
]


def _at(today: datetime.date, days_ago: int, hour: int = 10) -> datetime.datetime:
    day = today - datetime.timedelta(days=days_ago)
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def seed_demands(*, today: datetime.date, upsert, counter: dict) -> None:
    categories = {}
    for i, (name, level, days, risk) in enumerate(CATEGORIES):
        categories[name] = upsert(
            DemandCategory,
            {"name": name},
            {"handling_level": level, "deadline_days": days, "is_risk_signal": risk, "position": i},
        )
    employee = User.objects.filter(username="zhangwei").select_related("enterprise").first()
    root = User.objects.filter(username="admin").first()
    if employee is None or employee.enterprise is None or root is None:
        return
    enterprise: Enterprise = employee.enterprise
    seat = (
        CommitteeSeat.objects.filter(committee__building_id=enterprise.building_id, ends_on__isnull=True)
        .exclude(role__in=CommitteeSeat.SINGLE_ROLES)
        .order_by("pk")
        .first()
    )
    visit = Visit.objects.filter(enterprise=enterprise, topics__startswith="演示走访").first()
    if visit is None:
        visit = Visit.objects.create(
            enterprise=enterprise,
            visited_on=today - datetime.timedelta(days=14),
            visited_by=root,
            met_with="行政经理",
            topics="演示走访：了解企业用工、通勤和消防安全情况",
        )
        counter["created"] += 1
    for title, category, state, days_ago in DEMANDS:
        if Demand.objects.filter(enterprise=enterprise, title=title).exists():
            continue
        start = _at(today, days_ago)
        demand = d.submit_demand(
            user=root if category == "安全生产" else employee,
            enterprise=enterprise,
            category=categories[category],
            title=title,
            description=f"{title}，请楼委会协调解决。",
            visit=visit if category == "安全生产" else None,
            now=start,
        )
        counter["created"] += 1
        _bring(demand, state, root=root, raiser=demand.submitter, seat=seat, start=start, today=today)


def _bring(demand, state, *, root, raiser, seat, start, today) -> None:
    hour = datetime.timedelta(hours=2)
    if state == "submitted":
        return
    if state == "declined":
        d.decline_demand(
            user=root, demand=demand, reason="属于企业内部管理事项，建议与物业直接协商。", now=start + hour
        )
        return
    d.accept_demand(user=root, demand=demand, now=start + hour)
    if state == "accepted":
        return
    if seat is not None:
        d.assign_demand(user=root, demand=demand, handler_kind="seat", seat=seat, now=start + 2 * hour)
    else:
        d.assign_demand(
            user=root, demand=demand, handler_kind="property", department="物业服务中心", now=start + 2 * hour
        )
    if state == "assigned":
        return
    d.start_demand(user=root, demand=demand, now=start + 3 * hour)
    d.add_note(user=root, demand=demand, note="已联系相关负责人，正在协调。", now=start + 4 * hour)
    if state == "in_progress":
        return
    resolved_at = start + datetime.timedelta(days=2)
    d.resolve_demand(user=root, demand=demand, resolution="已协调处理完毕。", now=resolved_at)
    if state == "resolved":
        return
    if state == "reopened":
        d.reopen_demand(user=raiser, demand=demand, reason="问题仍反复出现。", now=resolved_at + hour)
        return
    d.confirm_demand(user=raiser, demand=demand, now=resolved_at + datetime.timedelta(days=1))
    d.rate_demand(
        user=raiser,
        demand=demand,
        rating=5,
        comment="响应及时，解决彻底。",
        now=resolved_at + datetime.timedelta(days=1),
    )
