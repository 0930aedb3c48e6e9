"""City scale, the building committees' work (issue 16): a year of visits and enterprise demands.

Part of ``seed_demo --scale city`` (demo/city.py calls ``CityWork`` after the events): one street
social worker per street (an account in the 街道社工 group, the street in its scope; the small
demo's ``shegong`` keeps 南京西路街道), about 30,000 visits (走访) by them to the enterprises of
their street, and about 20,000 demands with their timelines (DemandStep rows), written by COPY.

Each demand is planned as the write functions in committees/demands.py would have made it:
submitted → accepted (or declined with a reason) → assigned (a seat of the building's committee,
the property manager, a street department or the district, by the category's level) → in
progress (notes) → resolved → confirmed by the raiser and rated, reopened within the window, or
closed by silence when the window ends (no actor). The plan runs from the submission at a
random moment of the past year; whatever would happen after ``now`` is cut, so the demand's
state is that of its last step, its fields are the ones that step leaves, and nothing is dated
in the future. A few demands stall at an open stage (nobody moves them): with the slow ones,
they are the overdue demands. Deadlines are working days (core/workdays.py, looked up from a
precomputed list of working days). A quarter of the demands are raised during a visit, by the
social worker on the enterprise's behalf.
"""

from __future__ import annotations

import bisect
import datetime
import math
import random
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.utils import translation

from committees.demands import confirm_days
from committees.models import CommitteeSeat, Demand, DemandCategory, Visit
from core.workdays import is_workday
from demo.identifiers import USER_COLUMNS, person_name, user_row
from members.groups import SOCIAL_WORKER, ensure_groups
from members.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
S = Demand.State
Kind = Demand.HandlerKind
DAYS = 365  # the year the visits and demands are spread over
VISIT_SHARE = 0.25  # demands raised during a visit
DECLINE_SHARE = 0.07
STALL_SHARE = 0.02  # demands nobody moves on from an open stage
STALL_STAGES = (S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED, S.RESOLVED)

#: how often each demo category comes up (unknown categories: 4)
CATEGORY_WEIGHTS = {
    "物业设施": 26,
    "政策咨询": 15,
    "人才落户": 11,
    "融资服务": 7,
    "证照办理": 9,
    "安全生产": 7,
    "职工服务": 12,
    "欠薪风险": 2,
    "拟迁出": 2,
    "其他": 6,
}
TITLES = {
    "物业设施": [
        "电梯早晚高峰等候时间过长",
        "空调周末加班不供冷",
        "卫生间漏水影响办公",
        "地下车库照明不足",
        "门禁系统经常失灵",
        "办公区网络线路老化",
        "外墙玻璃渗水",
    ],
    "政策咨询": [
        "高新技术企业认定政策咨询",
        "稳岗补贴申领咨询",
        "研发费用加计扣除咨询",
        "专精特新企业申报咨询",
        "房租补贴政策咨询",
    ],
    "人才落户": [
        "应届生落户积分材料咨询",
        "引进人才居住证办理",
        "海外留学人员落户咨询",
        "人才公寓申请",
    ],
    "融资服务": ["首贷融资对接", "知识产权质押融资咨询", "政府性融资担保申请", "供应链金融对接"],
    "证照办理": ["食品经营许可证延续", "营业执照地址变更", "消防验收备案", "办公场地备案证明"],
    "安全生产": ["消防通道被杂物占用", "楼层配电箱存在隐患", "员工安全培训需求", "疏散指示灯损坏"],
    "职工服务": [
        "申请设立职工哺乳室",
        "午间就餐排队时间长",
        "希望开设职工子女暑托班",
        "职工通勤班车线路调整",
        "希望增加心理咨询服务",
    ],
    "欠薪风险": ["员工反映工资延迟发放", "外包人员工资拖欠"],
    "拟迁出": ["企业因租金考虑拟迁出", "企业扩张需更大办公面积"],
    "其他": ["门禁卡补办收费过高", "快递收发点设置", "楼宇周边共享单车停放混乱"],
}
STREET_DEPARTMENTS = {
    "政策咨询": "营商环境办公室",
    "证照办理": "社区事务受理服务中心",
    "安全生产": "城市运行管理中心",
    "欠薪风险": "劳动保障监察队",
    "拟迁出": "经济服务办公室",
}
DISTRICT_DEPARTMENTS = {
    "人才落户": "人力资源和社会保障局",
    "融资服务": "金融工作局",
    "证照办理": "市场监督管理局",
}
RESOLUTIONS = [
    "已协调相关方处理完毕，并向企业反馈。",
    "已现场核实并督促整改到位。",
    "已对接主管部门，政策已解释清楚并协助提交材料。",
    "已召集物业、业主方协商，问题已解决。",
    "已联系区级部门，企业诉求已办理。",
]
NOTES = [
    "已联系相关负责人，正在协调。",
    "已现场查看，等待配件到货。",
    "已与主管部门沟通，材料正在审核。",
    "已约企业负责人面谈，了解详细情况。",
]
DECLINE_REASONS = [
    "属于企业内部管理事项，建议与物业直接协商。",
    "诉求已通过其他渠道办理，不再重复受理。",
    "不属于楼委会和街道职责范围，已告知企业办理渠道。",
]
REOPEN_REASONS = ["问题仍反复出现。", "办理结果与诉求不符，请重新处理。", "整改不到位。"]
RATING_COMMENTS = {
    1: "没有解决问题。",
    2: "处理较慢。",
    3: "基本解决。",
    4: "处理及时。",
    5: "响应及时，解决彻底。",
}
RATING_WEIGHTS = [3, 5, 12, 30, 50]
MET_WITH = ["总经理", "行政经理", "人事主管", "财务负责人", "党支部书记", "办公室主任"]
COMPANIONS = ["楼长", "经济服务专员", "第一书记", "物业负责人"]
TOPICS = [
    "了解企业经营和用工情况，宣传稳岗政策。",
    "走访企业，了解办公环境和物业服务情况。",
    "宣传人才政策，了解员工落户和住房需求。",
    "了解企业融资需求，介绍政府性融资担保。",
    "检查消防安全，提醒企业做好员工安全培训。",
    "了解企业党员情况，介绍楼宇党群服务站活动。",
    "回访企业诉求办理情况，听取意见建议。",
]
AUTO_CLOSE_NOTE = "确认期内未答复，自动关闭。"


def _hours(value: float) -> datetime.timedelta:
    return datetime.timedelta(hours=value)


class _Workdays:
    """``add_workdays`` over a precomputed list: the same answers, one bisect instead of a loop."""

    def __init__(self, first: datetime.date, last: datetime.date):
        span = (last - first).days
        self.days = [
            day for day in (first + datetime.timedelta(days=i) for i in range(span + 1)) if is_workday(day)
        ]

    def add(self, start: datetime.date, n: int) -> datetime.date:
        return self.days[bisect.bisect_right(self.days, start) + n - 1]


class CityWork:
    """Plans and writes the committees' year of work for a ``demo.city._CityGenerator``."""

    def __init__(self, generator):
        from demo.city import SEED  # (demo.city imports this module)

        self.g = generator
        self.rng = random.Random(SEED + 16)
        self.now = generator.now
        self.today = generator.today
        self.first_day = self.today - datetime.timedelta(days=DAYS)
        self.workdays = _Workdays(
            self.first_day - datetime.timedelta(days=7), self.today + datetime.timedelta(days=200)
        )
        self.confirm_window = datetime.timedelta(days=confirm_days())

    # -- the street social workers --------------------------------------------------------------

    def social_workers(self) -> int:
        """One social worker per street that has new buildings (a street's existing one is kept)."""
        g = self.g
        ensure_groups()
        group = Group.objects.get(name=SOCIAL_WORKER)
        streets = sorted({b["street_id"] for b in g.new_buildings})
        have: dict[int, int] = {}
        for street_id, user_id in (
            User.objects.filter(is_staff=True, is_active=True, groups=group, streets__isnull=False)
            .order_by("pk")
            .values_list("streets", "pk")
        ):
            have.setdefault(street_id, user_id)
        missing = [s for s in streets if s not in have]
        ids = g.ids(User, len(missing))
        rows = []
        for street_id, pk in zip(missing, ids, strict=True):
            _s, _g, name, _pinyin = person_name(self.rng, self.rng.random() < 0.4)
            username = f"shegong{street_id}"
            rows.append(
                user_row(
                    pk,
                    g.password,
                    username,
                    name,
                    is_staff=True,
                    joined=self.now - datetime.timedelta(days=DAYS + 30),
                    phone=g.next_phone(),
                )
            )
            have[street_id] = pk
        n = g.copy(
            "members_user",
            USER_COLUMNS,
            rows,
            label="街道社工账号",
            total=len(rows),
        )
        g.copy(
            User.streets.through._meta.db_table,
            "user_id, street_id",
            [(pk, street_id) for street_id, pk in zip(missing, ids, strict=True)],
            label="社工负责街道",
            total=len(missing),
        )
        g.copy(
            User.groups.through._meta.db_table,
            "user_id, group_id",
            [(pk, group.pk) for pk in ids],
            label="社工用户组",
            total=len(ids),
        )
        self.worker_of_street = have
        return n

    # -- visits ---------------------------------------------------------------------------------

    def visits(self) -> int:
        g, rng = self.g, self.rng
        target = max(0, g.targets["visits"] - Visit.objects.count())
        firms = g.new_enterprises
        if not firms or not target:
            self.new_visits = []
            return 0
        cum = []
        total = 0.0
        for e in firms:
            total += math.sqrt(e["employees"])
            cum.append(total)
        days = [d for d in self.workdays.days if self.first_day <= d <= self.today]
        if self.now < datetime.datetime(
            self.today.year, self.today.month, self.today.day, 18, tzinfo=SHANGHAI
        ):
            days = [d for d in days if d < self.today] or days
        planned = []
        for e in rng.choices(firms, cum_weights=cum, k=target):
            planned.append((rng.choice(days), e))
        planned.sort(key=lambda p: (p[0], p[1]["id"]))
        ids = g.ids(Visit, len(planned))
        self.new_visits = []
        rows = []
        for pk, (day, e) in zip(ids, planned, strict=True):
            worker = self.worker_of_street[e["building"]["street_id"]]
            self.new_visits.append({"id": pk, "day": day, "enterprise": e, "worker": worker})
            rows.append(
                (
                    pk,
                    e["id"],
                    day,
                    worker,
                    rng.choice(COMPANIONS) if rng.random() < 0.35 else "",
                    rng.choice(MET_WITH),
                    rng.choice(TOPICS),
                    datetime.datetime(day.year, day.month, day.day, 17, 30, tzinfo=SHANGHAI),
                )
            )
        return g.copy(
            "committees_visit",
            "id, enterprise_id, visited_on, visited_by_id, companions, met_with, topics, created_at",
            rows,
            label="走访",
            total=len(rows),
        )

    # -- demands --------------------------------------------------------------------------------

    def _categories(self) -> list[dict]:
        if not DemandCategory.objects.exists():
            from demo.demands import CATEGORIES

            DemandCategory.objects.bulk_create(
                DemandCategory(
                    name=name, handling_level=level, deadline_days=days, is_risk_signal=risk, position=i
                )
                for i, (name, level, days, risk) in enumerate(CATEGORIES)
            )
        return list(
            DemandCategory.objects.filter(is_active=True)
            .order_by("position", "pk")
            .values("id", "name", "handling_level", "deadline_days")
        )

    def _seats(self) -> dict[int, list[tuple[int, str]]]:
        """The current seats (not chief or secretary) of the new buildings' committees, by building."""
        seats: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.g.cur.execute(
            """
            SELECT c.building_id, s.id, s.role, s.person_name
            FROM committees_committeeseat s JOIN committees_buildingcommittee c ON c.id = s.committee_id
            WHERE c.building_id = ANY(%s) AND s.ends_on IS NULL AND s.role <> ALL(%s)
            ORDER BY s.id
            """,
            [[b["id"] for b in self.g.new_buildings], list(CommitteeSeat.SINGLE_ROLES)],
        )
        for building_id, pk, role, person in self.g.cur.fetchall():
            seats[building_id].append((pk, role, f"{CommitteeSeat.Role(role).label} {person}"))
        return seats

    def _employees(self) -> dict[int, list[int]]:
        self.g.cur.execute(
            "SELECT enterprise_id, id FROM members_user WHERE enterprise_id = ANY(%s) AND NOT is_staff ORDER BY id",
            [[e["id"] for e in self.g.new_enterprises]],
        )
        by_firm: dict[int, list[int]] = defaultdict(list)
        for firm, pk in self.g.cur.fetchall():
            by_firm[firm].append(pk)
        return by_firm

    def _handler(self, category: dict, e: dict) -> tuple[str, int | None, str]:
        """(handler kind, seat id, department or seat text) as ``assign_demand`` records them."""
        b = e["building"]
        level = category["handling_level"]
        if level == DemandCategory.Level.COMMITTEE:
            seats = self.seats.get(b["id"])
            if seats:
                wanted = (
                    CommitteeSeat.Role.PROPERTY_MANAGER
                    if category["name"] == "物业设施"
                    else CommitteeSeat.Role.EMPLOYEE_REPRESENTATIVE
                )
                fitting = [s for s in seats if s[1] == wanted] or seats
                pk, _role, text = self.rng.choice(fitting)
                return Kind.SEAT, pk, text
            return Kind.PROPERTY, None, f"{b['property']}物业服务中心"[:100]
        if level == DemandCategory.Level.STREET:
            return (
                Kind.STREET,
                None,
                self.street_names[b["street_id"]]
                + STREET_DEPARTMENTS.get(category["name"], "社区党群服务中心"),
            )
        return (
            Kind.DISTRICT,
            None,
            self.district_names[b["district"]] + DISTRICT_DEPARTMENTS.get(category["name"], "投资促进办公室"),
        )

    def _deadline(self, at: datetime.datetime, days: int) -> datetime.date:
        return self.workdays.add(at.astimezone(SHANGHAI).date(), days)

    def _plan(self, d: dict, *, stall: str | None, fast: bool = False) -> None:
        """The demand's whole life from its submission, cut at ``now`` (see the module docstring)."""
        rng = self.rng
        cat, worker, raiser = d["category"], d["worker"], d["submitter"]
        t = d["submitted_at"]
        steps = [(t, raiser, "", S.SUBMITTED, "")]
        d["handler"] = ("", None, "")
        d["resolution"] = ""
        d["resolved_at"] = None
        d["decline_reason"] = ""
        d["rating"] = None
        d["rating_comment"] = ""
        assignments: dict[datetime.datetime, tuple[str, int | None, str]] = {}

        def later(median_hours: float, sigma: float = 1.0, cap: float = 24 * 20) -> datetime.timedelta:
            if fast:
                return _hours(rng.uniform(0.2, 0.6))
            return _hours(min(cap, rng.lognormvariate(math.log(median_hours), sigma)))

        def done() -> bool:
            return stall is not None and steps[-1][3] == stall

        t += later(6)
        if d["decline"] and not fast:
            steps.append((t, worker, S.SUBMITTED, S.DECLINED, d["decline_reason_text"]))
        elif not done():
            steps.append((t, worker, S.SUBMITTED, S.ACCEPTED, ""))
            state, cycle_start = S.ACCEPTED, d["submitted_at"]
            for cycle in range(2):
                if done():
                    break
                handler = self._handler(cat, d["enterprise"])
                t += later(4)
                kind, _seat, text = handler
                assignments[t] = handler
                steps.append((t, worker, state, S.ASSIGNED, f"{Kind(kind).label}：{text}"))
                if done():
                    break
                t += later(10)
                steps.append((t, worker, S.ASSIGNED, S.IN_PROGRESS, ""))
                # the time to resolve: around the category's working days, a tail of slow ones
                if fast:
                    resolve_at = t + _hours(rng.uniform(0.2, 0.6))
                else:
                    span = cat["deadline_days"] * 1.4 * rng.lognormvariate(math.log(0.55), 0.6)
                    resolve_at = max(cycle_start + datetime.timedelta(days=span), t + _hours(1))
                if rng.random() < 0.6 and not fast:
                    steps.append(
                        (
                            t + (resolve_at - t) * rng.uniform(0.2, 0.8),
                            worker,
                            S.IN_PROGRESS,
                            S.IN_PROGRESS,
                            rng.choice(NOTES),
                        )
                    )
                if done():
                    break
                t = resolve_at
                steps.append((t, worker, S.IN_PROGRESS, S.RESOLVED, rng.choice(RESOLUTIONS)))
                window_ends = t + self.confirm_window
                if done():  # a raiser who has not answered (yet): silence closes it when the window ends
                    steps.append((window_ends, None, S.RESOLVED, S.CLOSED, AUTO_CLOSE_NOTE))
                    break
                roll = rng.random()
                if (roll < 0.05 and cycle == 0) or stall == S.REOPENED:
                    t += min(later(30), self.confirm_window * 0.8)
                    steps.append((t, raiser, S.RESOLVED, S.REOPENED, rng.choice(REOPEN_REASONS)))
                    state, cycle_start = S.REOPENED, t
                    continue
                if roll < 0.6:
                    t += min(later(20), self.confirm_window * 0.9)
                    steps.append((t, raiser, S.RESOLVED, S.CLOSED, ""))
                    if rng.random() < 0.8:
                        rating = rng.choices(range(1, 6), weights=RATING_WEIGHTS)[0]
                        comment = RATING_COMMENTS[rating] if rng.random() < 0.7 else ""
                        steps.append(
                            (
                                t + _hours(0.05),
                                raiser,
                                S.CLOSED,
                                S.CLOSED,
                                f"{'★' * rating} {comment}".strip(),
                            )
                        )
                        d["rating_plan"] = (rating, comment)
                else:
                    steps.append((window_ends, None, S.RESOLVED, S.CLOSED, AUTO_CLOSE_NOTE))
                break
        kept = [s for s in steps if s[0] <= self.now]
        d["steps"] = kept
        last = kept[-1]
        d["state"] = last[3]
        d["updated_at"] = last[0]
        d["closed_at"] = d["confirm_by"] = None
        reopened_at = None
        for at, _actor, before, after, note in kept:
            if after == S.DECLINED:
                d["decline_reason"] = note
            elif after == S.ASSIGNED:
                d["handler"] = assignments[at]
            elif after == S.RESOLVED and before != S.RESOLVED:
                d["resolution"], d["resolved_at"] = note, at
            elif after == S.REOPENED:
                reopened_at = at
            elif after == S.CLOSED and before == S.RESOLVED:
                d["closed_at"] = at
            elif after == S.CLOSED and before == S.CLOSED:
                d["rating"], d["rating_comment"] = d["rating_plan"]
        # the deadline runs from the submission, or anew from a reopening (``reopen_demand``)
        d["deadline"] = self._deadline(reopened_at or d["submitted_at"], cat["deadline_days"])
        if d["state"] == S.RESOLVED:
            d["confirm_by"] = d["resolved_at"] + self.confirm_window

    def demands(self) -> int:
        g, rng = self.g, self.rng
        target = max(0, g.targets["demands"] - Demand.objects.count())
        categories = self._categories()
        if not target or not categories or not g.new_enterprises:
            self.new_demands = []
            return 0
        self.seats = self._seats()
        self.street_names = {pk: name for (_code, name), pk in g.street_ids.items()}
        from demo.data import DISTRICTS

        self.district_names = {code: name for code, name, *_rest in DISTRICTS}
        employees = self._employees()
        firms = [e for e in g.new_enterprises if employees.get(e["id"])]
        cum = []
        total = 0.0
        for e in firms:
            total += e["employees"]
            cum.append(total)
        cat_cum = []
        total = 0.0
        for c in categories:
            total += CATEGORY_WEIGHTS.get(c["name"], 4)
            cat_cum.append(total)
        visits = [v for v in self.new_visits if v["day"] < self.today]
        span = (self.now - datetime.timedelta(days=DAYS)).timestamp(), self.now.timestamp()
        planned = []
        stall_every = max(1, round(1 / STALL_SHARE))
        for i in range(target):
            category = rng.choices(categories, cum_weights=cat_cum)[0]
            if visits and rng.random() < VISIT_SHARE:
                visit = rng.choice(visits)
                e, worker, raiser = visit["enterprise"], visit["worker"], visit["worker"]
                day = visit["day"]
                at = datetime.datetime(
                    day.year, day.month, day.day, rng.randint(9, 16), rng.randint(0, 59), tzinfo=SHANGHAI
                )
            else:
                visit = None
                e = rng.choices(firms, cum_weights=cum)[0]
                worker = self.worker_of_street[e["building"]["street_id"]]
                raiser = rng.choice(employees[e["id"]])
                at = datetime.datetime.fromtimestamp(rng.uniform(*span), tz=SHANGHAI)
                if at.hour < 8:  # people raise demands in their working day, mostly
                    at += _hours(rng.uniform(8, 12))
                at = min(at, self.now - _hours(rng.uniform(0.05, 1)))
            at = at.replace(microsecond=0)
            planned.append(
                {
                    "enterprise": e,
                    "category": category,
                    "visit": visit,
                    "worker": worker,
                    "submitter": raiser,
                    "submitted_at": at,
                    "title": rng.choice(TITLES.get(category["name"], TITLES["其他"])),
                    "decline": rng.random() < DECLINE_SHARE,
                    "decline_reason_text": rng.choice(DECLINE_REASONS),
                    "stall": STALL_STAGES[(i // stall_every) % len(STALL_STAGES)]
                    if i % stall_every == 0
                    else None,
                }
            )
        planned.sort(key=lambda d: d["submitted_at"])
        with translation.override("zh-hans"):
            for d in planned:
                self._plan_one(d)
            self._every_state(planned)
        ids = g.ids(Demand, len(planned))
        for d, pk in zip(planned, ids, strict=True):
            d["id"] = pk
        self.new_demands = planned
        n = g.copy(
            "committees_demand",
            "id, building_id, enterprise_id, submitter_id, visit_id, category_id, title, description, state, handler_kind, handler_seat_id, handler_department, deadline, resolution, resolved_at, confirm_by, decline_reason, closed_at, rating, rating_comment, submitted_at, updated_at",
            (
                (
                    d["id"],
                    d["enterprise"]["building"]["id"],
                    d["enterprise"]["id"],
                    d["submitter"],
                    d["visit"]["id"] if d["visit"] else None,
                    d["category"]["id"],
                    d["title"],
                    f"{d['title']}，请楼委会协调解决。",
                    d["state"],
                    d["handler"][0],
                    d["handler"][1],
                    d["handler"][2] if d["handler"][0] != Kind.SEAT else "",
                    d["deadline"],
                    d["resolution"],
                    d["resolved_at"],
                    d["confirm_by"],
                    d["decline_reason"],
                    d["closed_at"],
                    d["rating"],
                    d["rating_comment"],
                    d["submitted_at"],
                    d["updated_at"],
                )
                for d in planned
            ),
            label="企业诉求",
            total=len(planned),
        )
        return n + g.copy(
            "committees_demandstep",
            "demand_id, actor_id, at, from_state, to_state, note",
            (
                (d["id"], actor, at, before, after, note)
                for d in planned
                for at, actor, before, after, note in d["steps"]
            ),
            label="诉求办理记录",
            total=sum(len(d["steps"]) for d in planned),
        )

    def _plan_one(self, d: dict, *, fast: bool = False) -> None:
        if d["stall"] is not None:
            d["decline"] = False
        self._plan(d, stall=d["stall"], fast=fast)

    def _every_state(self, planned: list[dict]) -> None:
        """At a small scale, make sure every state occurs: recent demands stall at the missing ones."""
        seen = {d["state"] for d in planned}
        missing = [s for s in S.values if s not in seen and s != S.DECLINED]
        candidates = [
            d
            for d in reversed(planned)
            if self.now - self.confirm_window * 0.5 < d["submitted_at"] < self.now - _hours(4)
            and not d["decline"]
        ]
        for state, d in zip(missing, candidates, strict=False):
            d["stall"] = state if state != S.CLOSED else None
            self._plan_one(d, fast=True)
        if S.DECLINED not in seen:
            for d in reversed(planned):
                if d["submitted_at"] < self.now - _hours(1) and d not in candidates[: len(missing)]:
                    d["decline"], d["stall"] = True, None
                    self._plan_one(d)
                    break
