"""Demo data: a small, realistic data set for trying the portal, and a city-scale one for load.

``seed_demo()`` writes three districts (静安, 浦东, 普陀) with their real streets,
the buildings the design names (a Nanjing West Road tower with its 300 m²
party–mass service station on the 6th floor, a Lujiazui tower, a Putuo plaza)
and ordinary ones around them, their enterprises (named and generated, with
valid credit codes), joint and standalone party organizations, members (valid
ID numbers), committees with every seat role, events of every kind over the
next two weeks of working days (and a few last week, with attendance),
bookings, two transfers, and the demo logins.
It is deterministic (a fixed random seed; dates relative to today) and
idempotent: every row is found by its natural key and written only when it
differs, so a second run changes nothing, not even the history tables. On a
later day the same run moves the demo calendar along with today.

``seed_city()`` (demo/city.py) adds, in bulk (PostgreSQL COPY), the city of the design's
figures: 16 districts and their streets, 1,569 buildings, ~2,800 party
organizations, 66,000 members, 200,000 employee accounts, 50,000 events over a
year and 1,000,000 bookings, all scaled by ``factor`` (and counted with the
demo rows: the figures are totals). Events sit on a grid of working days ×
time slots per space, so none overlap. It writes with the
pghistory triggers switched off for this transaction only
(``pgtrigger.ignore``): a bulk load is not a change anyone made. Counters on
events are computed with the bookings and checked against them at the end.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import pghistory
import pgtrigger
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from buildings.models import Building, District, Enterprise, Street
from committees.models import BuildingCommittee, CommitteeSeat, Demand, Visit
from demo.data import (
    DEMO_DISTRICT_CODES,
    DISTRICTS,
    ID_AREA_CODES,
    PROPERTY_COMPANIES,
    SPEAKERS,
)
from demo.identifiers import (
    _at,
    company_name,
    make_credit_code,
    make_id_number,
    make_phone,
    person_name,
    workday,
)
from demo.writes import upsert
from members.groups import DISTRICT_STAFF, SOCIAL_WORKER, ensure_groups
from members.models import MemberTransfer, PartyMember, PartyOrganization, User
from services.models import Booking, Event, ServiceStation, Space

SEED = 20240701
PASSWORD = "demo12345"
SHANGHAI = ZoneInfo("Asia/Shanghai")

Role = CommitteeSeat.Role
Kind = Event.Kind
BStatus = Booking.Status


# --- the small demo -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DemoBuilding:
    key: str
    district: str
    street: str
    name: str
    address: str
    floors: int
    area: int
    is_key: bool
    employees: int
    covered: bool  # has a party organization


# The buildings the design names, and a few ordinary ones around them (names made up).
# fmt: off
DEMO_BUILDINGS = [
    DemoBuilding("njxl", "310106", "南京西路街道", "南京西路国际大厦", "南京西路1388号", 66, 210000, True, 6500, True),
    DemoBuilding("whl", "310106", "南京西路街道", "威海路商务中心", "威海路500号", 28, 62000, True, 2100, True),
    DemoBuilding("smyl", "310106", "南京西路街道", "石门一路企业天地", "石门一路288号", 18, 30000, False, 800, False),
    DemoBuilding("jas", "310106", "静安寺街道", "静安寺广场大厦", "愚园路68号", 45, 120000, True, 3800, True),
    DemoBuilding("yyl", "310106", "静安寺街道", "愚园路创意大楼", "愚园路1107号", 8, 12000, False, 420, True),
    DemoBuilding("jnl", "310106", "江宁路街道", "江宁路科技大厦", "江宁路1158号", 32, 68000, True, 2400, False),
    DemoBuilding("sm2", "310106", "石门二路街道", "石门二路商务中心", "新闸路1068号", 36, 80000, True, 2600, True),
    DemoBuilding("cjd", "310106", "曹家渡街道", "曹家渡企业天地", "万航渡路623号", 20, 36000, False, 1100, False),
    DemoBuilding("ljz", "310115", "陆家嘴街道", "陆家嘴金融中心大厦", "陆家嘴环路1288号", 72, 260000, True, 7200, True),
    DemoBuilding("sjdd", "310115", "陆家嘴街道", "世纪大道国际大厦", "世纪大道1568号", 48, 150000, True, 4100, True),
    DemoBuilding("wf", "310115", "潍坊新村街道", "潍坊路商务大厦", "潍坊路588号", 24, 42000, False, 1300, True),
    DemoBuilding("tq", "310115", "塘桥街道", "浦东南路金融大厦", "浦东南路2250号", 38, 90000, True, 2900, True),
    DemoBuilding("hm", "310115", "花木街道", "花木科技园大楼", "锦绣路1229号", 16, 28000, False, 900, False),
    DemoBuilding("csl", "310107", "长寿路街道", "长寿路中环广场", "长寿路999号", 40, 110000, True, 3500, True),
    DemoBuilding("cy", "310107", "曹杨新村街道", "曹杨商务大厦", "曹杨路510号", 18, 26000, False, 700, True),
    DemoBuilding("zr", "310107", "真如镇街道", "真如副中心广场", "真北路1688号", 35, 98000, True, 2800, True),
    DemoBuilding("cf", "310107", "长风新村街道", "长风国际大厦", "大渡河路168号", 30, 76000, True, 2300, True),
]
# fmt: on

# Enterprises of the named buildings (made-up names): (building key, name, floor, employees, industry)
DEMO_ENTERPRISES = [
    ("njxl", "上海启明信息科技有限公司", 23, 420, "信息技术"),
    ("njxl", "上海嘉禾投资管理有限公司", 35, 160, "金融"),
    ("njxl", "上海博远商务咨询有限公司", 18, 95, "商务服务"),
    ("njxl", "上海汇通金融信息服务有限公司", 41, 380, "金融"),
    ("njxl", "上海智云网络科技有限公司", 27, 520, "信息技术"),
    ("njxl", "上海德润人力资源有限公司", 12, 140, "商务服务"),
    ("njxl", "上海蓝海文化传媒有限公司", 9, 88, "文化创意"),
    ("ljz", "上海安信资产管理有限公司", 52, 310, "金融"),
    ("ljz", "上海卓越金融信息服务有限公司", 46, 640, "金融"),
    ("ljz", "上海鼎新国际贸易有限公司", 30, 120, "贸易物流"),
    ("ljz", "上海华康医药科技有限公司", 21, 260, "生物医药"),
    ("csl", "上海同创软件有限公司", 15, 330, "信息技术"),
    ("csl", "上海思源企业管理咨询有限公司", 22, 75, "商务服务"),
    ("csl", "上海远景建筑设计有限公司", 8, 190, "专业服务"),
]

STATION_SPACES = [
    ("接待窗口", Space.Function.RECEPTION, 4),
    ("事务办理室", Space.Function.AFFAIRS, 6),
    ("驻点办公室", Space.Function.OFFICE, 8),
    ("党员活动室", Space.Function.ACTIVITY_ROOM, 60),
    ("心理咨询室", Space.Function.OFFICE, 2),
]
# (building key, floor, area m², opening hours, phone)
DEMO_STATIONS = [
    ("njxl", 6, 300, "工作日 9:00–18:00，周三延长至 20:00", "021-62580001"),
    ("ljz", 3, 260, "工作日 8:30–18:30", "021-58880002"),
    ("csl", 2, 200, "工作日 9:00–17:30", "021-62660003"),
    ("jas", 5, 180, "工作日 9:00–18:00", "021-62480004"),
]


@dataclasses.dataclass(frozen=True)
class DemoEvent:
    station: str
    space: str
    day: int  # working days from today (weekends skipped); negative: already held
    start: str
    minutes: int
    kind: str
    title: str
    capacity: int
    demand: int  # how many demo employees book it
    audience: str = Event.Audience.EVERYONE
    status: str = Event.Status.PUBLISHED
    with_zhangwei: str = ""  # the booking status zhangwei gets, if any


ROOM, COUNSEL = "党员活动室", "心理咨询室"
PARTY_MEMBER_SHARE = 0.06
# Titles name no weekday: the demo's days move with today ("周五音乐分享夜" fell on a Tuesday).
MEMBERS = Event.Audience.PARTY_MEMBERS
# fmt: off
DEMO_EVENTS = [
    # held last week: attendance and no-shows for the dashboards
    DemoEvent("njxl", ROOM, -5, "14:00", 120, Kind.PARTY_CLASS, "“两新”组织党员教育专题党课", 40, 24, with_zhangwei=BStatus.ATTENDED),
    DemoEvent("njxl", ROOM, -3, "12:00", 60, Kind.SAFETY_LECTURE, "职场急救与AED使用培训", 30, 20),
    DemoEvent("njxl", COUNSEL, -2, "15:00", 60, Kind.COUNSELLING, "职场压力心理咨询（一对一）", 1, 1),
    DemoEvent("ljz", ROOM, -4, "18:30", 120, Kind.YOUTH_SOCIAL, "楼宇青年羽毛球友谊赛", 24, 16),
    DemoEvent("csl", ROOM, -1, "12:00", 60, Kind.OTHER, "楼宇企业服务专员接待日", 20, 9),
    # the next two weeks
    DemoEvent("njxl", ROOM, 1, "12:00", 60, Kind.YOUTH_SOCIAL, "午间咖啡沙龙", 30, 12, with_zhangwei=BStatus.CONFIRMED),
    DemoEvent("njxl", ROOM, 2, "14:00", 120, Kind.PARTY_CLASS, "学习贯彻党的二十届三中全会精神专题党课", 50, 14, audience=MEMBERS, with_zhangwei=BStatus.CONFIRMED),
    DemoEvent("njxl", COUNSEL, 2, "10:00", 60, Kind.COUNSELLING, "职业发展心理咨询（一对一）", 1, 3),
    DemoEvent("njxl", COUNSEL, 2, "15:00", 60, Kind.COUNSELLING, "情绪管理心理咨询（一对一）", 1, 1),
    DemoEvent("njxl", COUNSEL, 3, "10:00", 60, Kind.COUNSELLING, "睡眠与减压心理咨询（一对一）", 1, 0),
    DemoEvent("njxl", ROOM, 3, "12:00", 90, Kind.SAFETY_LECTURE, "高层楼宇消防安全讲座", 12, 16, with_zhangwei=BStatus.WAITLISTED),
    DemoEvent("njxl", ROOM, 4, "19:00", 120, Kind.YOUTH_SOCIAL, "楼宇青年交友联谊会", 20, 26),
    DemoEvent("njxl", ROOM, 5, "14:00", 90, Kind.OTHER, "楼宇企业政策宣讲会", 60, 10, with_zhangwei=BStatus.CANCELLED),
    DemoEvent("njxl", COUNSEL, 6, "10:00", 60, Kind.COUNSELLING, "亲子关系心理咨询（一对一）", 1, 1),
    DemoEvent("njxl", COUNSEL, 6, "14:00", 60, Kind.COUNSELLING, "人际沟通心理咨询（一对一）", 1, 0),
    DemoEvent("njxl", ROOM, 6, "12:00", 60, Kind.SAFETY_LECTURE, "防范电信网络诈骗安全讲座", 40, 8),
    DemoEvent("njxl", ROOM, 7, "18:30", 120, Kind.OTHER, "“1℃空间”志愿服务", 15, 15),
    DemoEvent("njxl", ROOM, 8, "12:00", 60, Kind.YOUTH_SOCIAL, "白领青年读书分享会", 25, 4),
    DemoEvent("njxl", ROOM, 9, "14:00", 120, Kind.PARTY_CLASS, "新时代楼宇党建工作专题党课", 50, 0, status=Event.Status.DRAFT),
    DemoEvent("njxl", ROOM, 10, "14:00", 90, Kind.OTHER, "知识产权保护咨询会", 30, 0, status=Event.Status.DRAFT),
    DemoEvent("ljz", ROOM, 1, "18:30", 120, Kind.YOUTH_SOCIAL, "下班后音乐分享夜", 30, 10),
    DemoEvent("ljz", ROOM, 3, "14:00", 120, Kind.PARTY_CLASS, "党章党规党纪学习专题党课", 60, 7),
    DemoEvent("ljz", COUNSEL, 4, "13:30", 60, Kind.COUNSELLING, "情绪管理心理咨询（一对一）", 1, 1),
    DemoEvent("ljz", ROOM, 5, "12:00", 60, Kind.SAFETY_LECTURE, "数据安全与个人信息保护讲座", 40, 6),
    DemoEvent("ljz", ROOM, 8, "14:00", 90, Kind.OTHER, "企业人才政策咨询会", 50, 3),
    DemoEvent("csl", ROOM, 2, "12:00", 60, Kind.SAFETY_LECTURE, "办公场所用电安全讲座", 30, 5),
    DemoEvent("csl", ROOM, 4, "14:00", 120, Kind.PARTY_CLASS, "青年党员的初心与担当", 40, 4),
    DemoEvent("csl", COUNSEL, 5, "10:00", 60, Kind.COUNSELLING, "职场压力心理咨询（一对一）", 1, 1),
    DemoEvent("csl", ROOM, 7, "18:30", 120, Kind.YOUTH_SOCIAL, "楼宇青年交友联谊会", 30, 8),
    DemoEvent("jas", ROOM, 4, "12:00", 60, Kind.OTHER, "“1℃空间”志愿服务", 20, 5),
    DemoEvent("jas", ROOM, 7, "14:00", 120, Kind.PARTY_CLASS, "红色上海：从一大会址出发", 40, 6),
    DemoEvent("jas", COUNSEL, 9, "15:00", 60, Kind.COUNSELLING, "情绪管理心理咨询（一对一）", 1, 0),
]
# fmt: on


EVENT_DESCRIPTIONS = {
    Kind.PARTY_CLASS: "由区委党校讲师主讲，面向楼宇党员和入党积极分子，结合楼宇企业实际开展学习交流。",
    Kind.SAFETY_LECTURE: "邀请专业人员讲解楼宇办公安全知识，现场演示并答疑。",
    Kind.YOUTH_SOCIAL: "楼宇青年相识交流、放松身心，欢迎各企业白领报名参加。",
    Kind.COUNSELLING: "专业心理咨询师一对一面谈，内容严格保密。",
    Kind.OTHER: "楼宇党群服务站服务项目，欢迎楼宇企业和员工参加。",
}


@dataclasses.dataclass
class DemoResult:
    counts: dict[str, int]
    created: int
    updated: int
    logins: list[tuple[str, str, str]]


class _DemoSeeder:
    def __init__(self, today: datetime.date, out: Callable[[str], None]):
        self.today = today
        self.out = out
        self.rng = random.Random(SEED)
        self.counter = {"created": 0, "updated": 0}
        self.password_hash: str | None = None
        self.districts: dict[str, District] = {}
        self.streets: dict[tuple[str, str], Street] = {}
        self.buildings: dict[str, Building] = {}
        self.enterprises: dict[str, list[Enterprise]] = defaultdict(list)
        self.orgs: dict[str, PartyOrganization] = {}  # building key or "street:<name>"
        self.members: dict[str, list[PartyMember]] = defaultdict(list)  # building key -> members
        self.employees: list[User] = []
        self.linked: list[User] = []
        self.stations: dict[str, ServiceStation] = {}
        self.spaces: dict[tuple[str, str], Space] = {}
        self.phone_n = 0
        self.credit_n = 0
        self.id_seq = 0
        self.pinyin: dict[int, str] = {}

    def upsert(self, model, lookup, values, on_create=None):
        return upsert(model, lookup, values, self.counter, on_create=on_create)

    def next_phone(self) -> str:
        self.phone_n += 1
        return make_phone(self.phone_n)

    # -- places -----------------------------------------------------------------

    def places(self) -> None:
        for code, name, streets, _roads, _weight in DISTRICTS:
            if code not in DEMO_DISTRICT_CODES:
                continue
            district = self.upsert(District, {"code": code}, {"name": name})
            self.districts[code] = district
            for street_name in streets:
                self.streets[(code, street_name)] = self.upsert(
                    Street, {"district": district, "name": street_name}, {}
                )
        rng = self.rng
        for spec in DEMO_BUILDINGS:
            company = PROPERTY_COMPANIES[sum(map(ord, spec.key)) % len(PROPERTY_COMPANIES)]
            self.buildings[spec.key] = self.upsert(
                Building,
                {"street": self.streets[(spec.district, spec.street)], "name": spec.name},
                {
                    "address": spec.address,
                    "floors": spec.floors,
                    "floor_area_m2": Decimal(spec.area),
                    "is_key_building": spec.is_key,
                    "property_company": company,
                },
                on_create={"employee_count": spec.employees},  # then its tenants' total, below
            )
        # Enterprises: the named ones, then made-up tenants so that each building has 4–8.
        named = defaultdict(list)
        for bkey, name, floor, employees, industry in DEMO_ENTERPRISES:
            named[bkey].append((name, floor, employees, industry))
        for spec in DEMO_BUILDINGS:
            building = self.buildings[spec.key]
            tenants = list(named[spec.key])
            taken = {t[0] for t in tenants}
            wanted = max(4, len(tenants)) + rng.randint(0, 3)
            while len(tenants) < wanted:
                name, industry = company_name(rng)
                if name in taken:
                    continue
                taken.add(name)
                tenants.append((name, rng.randint(2, spec.floors), rng.randint(20, 300), industry))
            for name, floor, employees, industry in tenants:
                self.credit_n += 1
                enterprise = self.upsert(
                    Enterprise,
                    {"credit_code": make_credit_code(self.credit_n, spec.district)},
                    {
                        "building": building,
                        "name": name,
                        "floor": floor,
                        "employee_count": employees,
                        "industry": industry,
                    },
                    on_create={"party_member_count": 0},  # set from the member records below
                )
                self.enterprises[spec.key].append(enterprise)
            # The building's head count is its tenants' (entered once, on the enterprises), so
            # the share of party members below is a share of people who are there.
            total = sum(e.employee_count for e in self.enterprises[spec.key])
            if building.employee_count != total:
                self.buildings[spec.key] = building = self.upsert(
                    Building, {"pk": building.pk}, {"employee_count": total}
                )

    # -- party organizations and members ----------------------------------------------

    def organizations(self) -> None:
        founded = datetime.date(2016, 7, 1)
        for (code, street_name), street in self.streets.items():
            if not any(b.district == code and b.street == street_name for b in DEMO_BUILDINGS):
                continue
            self.orgs[f"street:{street_name}"] = self.upsert(
                PartyOrganization,
                {"street": street, "name": f"{street_name}楼宇联合党委"},
                {
                    "kind": PartyOrganization.Kind.JOINT_COMMITTEE,
                    "parent": None,
                    "enterprise": None,
                    "founded_on": founded,
                    "term_ends_on": datetime.date(2026, 7, 1) if street_name != "陆家嘴街道" else None,
                },
            )
        for i, spec in enumerate(DEMO_BUILDINGS):
            if not spec.covered:
                continue
            building = self.buildings[spec.key]
            big = spec.employees >= 2000
            org = self.upsert(
                PartyOrganization,
                {"street": building.street, "name": f"{spec.name}联合党{'委' if big else '支部'}"},
                {
                    "kind": PartyOrganization.Kind.JOINT_COMMITTEE if big else PartyOrganization.Kind.BRANCH,
                    "parent": self.orgs[f"street:{spec.street}"],
                    "enterprise": None,
                    "founded_on": datetime.date(2017 + i % 6, 6, 28),
                    # one of them is due for re-election soon (换届提醒)
                    "term_ends_on": self.today + datetime.timedelta(days=45)
                    if spec.key == "whl"
                    else datetime.date(2027 + i % 3, 6, 28),
                },
            )
            if set(org.buildings.values_list("pk", flat=True)) != {building.pk}:
                org.buildings.set([building])
            self.orgs[spec.key] = org
        # a standalone branch in the tower's largest tenants
        for bkey, idx in (("njxl", 0), ("njxl", 4), ("ljz", 1)):
            enterprise = self.enterprises[bkey][idx]
            org = self.upsert(
                PartyOrganization,
                {"street": enterprise.building.street, "name": f"{enterprise.name}党支部"},
                {
                    "kind": PartyOrganization.Kind.BRANCH,
                    "parent": self.orgs[bkey],
                    "enterprise": enterprise,
                    "founded_on": datetime.date(2019, 7, 1),
                    "term_ends_on": datetime.date(2027, 7, 1),
                },
            )
            if set(org.buildings.values_list("pk", flat=True)) != {enterprise.building_id}:
                org.buildings.set([enterprise.building])
            self.orgs[f"ent:{enterprise.pk}"] = org

    def _org_for(self, spec: DemoBuilding, enterprise: Enterprise) -> PartyOrganization:
        return (
            self.orgs.get(f"ent:{enterprise.pk}")
            or self.orgs.get(spec.key)
            or self.orgs[f"street:{spec.street}"]
        )

    def member(
        self, *, spec, enterprise, name, pinyin, male, birth, area, education, joined, status, is_mobile=False
    ) -> PartyMember:
        self.id_seq += 1
        member = self.upsert(
            PartyMember,
            {"id_number": make_id_number(area, birth, self.id_seq, male)},
            {
                "name": name,
                "gender": PartyMember.Gender.MALE if male else PartyMember.Gender.FEMALE,
                "birth_date": birth,
                "phone": self.next_phone(),
                "education": education,
                "joined_on": joined,
                "status": status,
                "organization": self._org_for(spec, enterprise),
                "enterprise": enterprise,
                "is_mobile": is_mobile,
            },
        )
        self.pinyin[member.pk] = pinyin
        return member

    def people(self) -> None:
        rng = self.rng
        educations = [
            PartyMember.Education.BACHELOR,
            PartyMember.Education.BACHELOR,
            PartyMember.Education.MASTER,
            PartyMember.Education.MASTER,
            PartyMember.Education.JUNIOR_COLLEGE,
            PartyMember.Education.DOCTOR,
        ]
        # zhangwei first: a party member at 上海启明信息科技有限公司 in the Nanjing West Road tower
        njxl = next(s for s in DEMO_BUILDINGS if s.key == "njxl")
        zw = self.member(
            spec=njxl,
            enterprise=self.enterprises["njxl"][0],
            name="张伟",
            pinyin="zhangwei",
            male=True,
            birth=datetime.date(1991, 3, 15),
            area="310106",
            education=PartyMember.Education.MASTER,
            joined=datetime.date(2014, 6, 20),
            status=PartyMember.Status.FULL,
        )
        self.members["njxl"].append(zw)
        self.zhangwei_member = zw
        for spec in DEMO_BUILDINGS:
            # Party members are about 6 % of the employees, as in the city (DESIGN.md).
            tenants = self.enterprises[spec.key]
            count = max(3, round(sum(e.employee_count for e in tenants) * PARTY_MEMBER_SHARE))
            taken: dict[int, int] = defaultdict(int)
            for _ in range(count):
                # By size, and never more members than a quarter of an employer's staff.
                room = [e for e in tenants if taken[e.pk] < max(1, e.employee_count // 4)] or tenants
                employer = rng.choices(room, weights=[max(e.employee_count, 1) for e in room])[0]
                taken[employer.pk] += 1
                male = rng.random() < 0.5
                _s, _g, name, pinyin = person_name(rng, male)
                age = int(rng.triangular(23, 58, 31))
                birth = datetime.date(self.today.year - age, rng.randint(1, 12), rng.randint(1, 28))
                joined = birth + datetime.timedelta(
                    days=rng.randint(18 * 365 + 5, max(18 * 365 + 6, (age - 1) * 365))
                )
                status = PartyMember.Status.FULL
                if rng.random() < 0.08:  # joined within the last year: probationary
                    joined = self.today - datetime.timedelta(days=rng.randint(30, 330))
                    status = PartyMember.Status.PROBATIONARY
                member = self.member(
                    spec=spec,
                    enterprise=employer,
                    name=name,
                    pinyin=pinyin,
                    male=male,
                    birth=birth,
                    area=rng.choice(ID_AREA_CODES),
                    education=rng.choice(educations),
                    joined=joined,
                    status=status,
                    is_mobile=rng.random() < 0.1,
                )
                self.members[spec.key].append(member)
        # secretaries and the enterprises' member counts follow the records
        # (only the demo's own members: a city-scale run may add members to the street organizations)
        ours = [m for members in self.members.values() for m in members]
        for org in self.orgs.values():
            first = min(
                (m for m in ours if m.organization_id == org.pk), key=lambda m: m.id_number, default=None
            )
            if first and org.secretary_id != first.pk:
                self.upsert(PartyOrganization, {"pk": org.pk}, {"secretary": first})
        counts = dict(
            PartyMember.objects.filter(enterprise__in=[e for es in self.enterprises.values() for e in es])
            .values_list("enterprise")
            .annotate(n=Count("id"))
        )
        for enterprises in self.enterprises.values():
            for enterprise in enterprises:
                self.upsert(
                    Enterprise,
                    {"pk": enterprise.pk},
                    {"party_member_count": counts.get(enterprise.pk, 0)},
                )

    # -- committees ---------------------------------------------------------------------

    def committees(self) -> None:
        rng = self.rng
        for i, spec in enumerate(DEMO_BUILDINGS):
            if not (spec.covered and spec.is_key):
                continue
            building = self.buildings[spec.key]
            founded = datetime.date(2019 + i % 4, 5, 20)
            term_start = datetime.date(2024, 6, 1)
            committee = self.upsert(
                BuildingCommittee,
                {"building": building},
                {
                    "founded_on": founded,
                    "term_starts_on": term_start,
                    "term_ends_on": datetime.date(2027, 5, 31),
                },
            )
            members = self.members[spec.key]
            tenants = self.enterprises[spec.key]
            street = spec.street
            seats = [
                (Role.BUILDING_CHIEF, None, members[0].name, members[0], tenants[0].name, None),
                (Role.FIRST_SECRETARY, None, person_name(rng, True)[2], None, f"{street}党工委", None),
                (Role.DIRECTOR, None, members[1].name, members[1], building.property_company, None),
                (
                    Role.PROPERTY_MANAGER,
                    None,
                    person_name(rng, False)[2],
                    None,
                    building.property_company,
                    None,
                ),
                (
                    Role.OWNER_REPRESENTATIVE,
                    None,
                    person_name(rng, True)[2],
                    None,
                    f"{spec.name}业主单位",
                    None,
                ),
                (
                    Role.EMPLOYEE_REPRESENTATIVE,
                    None,
                    members[2].name,
                    members[2],
                    members[2].enterprise.name,
                    None,
                ),
                (
                    Role.SOCIAL_WORKER,
                    None,
                    person_name(rng, False)[2],
                    None,
                    f"{street}社区党群服务中心",
                    None,
                ),
                (
                    Role.ECONOMIC_COMMISSIONER,
                    None,
                    person_name(rng, True)[2],
                    None,
                    f"{street}经济服务办公室",
                    None,
                ),
                (Role.FLOOR_REPRESENTATIVE, 8, person_name(rng, False)[2], None, tenants[1].name, None),
                (
                    Role.FLOOR_REPRESENTATIVE,
                    min(18, spec.floors),
                    person_name(rng, True)[2],
                    None,
                    tenants[2].name,
                    None,
                ),
                (Role.MEMBER, None, person_name(rng, False)[2], None, tenants[3].name, None),
                # the previous first secretary, for the seat's history
                (
                    Role.FIRST_SECRETARY,
                    None,
                    person_name(rng, False)[2],
                    None,
                    f"{street}党工委",
                    (datetime.date(2021, 6, 1), term_start),
                ),
            ]
            for role, floor, person, member, affiliation, past in seats:
                starts, ends = past or (term_start, None)
                # A seat holder who is a member keeps the phone of their record; others their own.
                phone = member.phone if member is not None else self.next_phone()
                self.upsert(
                    CommitteeSeat,
                    {"committee": committee, "role": role, "person_name": person},
                    {
                        "floor": floor,
                        "phone": phone,
                        "affiliation": affiliation[:150],
                        "member": member,
                        "starts_on": starts,
                        "ends_on": ends,
                    },
                )

    # -- stations ----------------------------------------------------------------------

    def service_stations(self) -> None:
        for bkey, floor, area, hours, phone in DEMO_STATIONS:
            building = self.buildings[bkey]
            station = self.upsert(
                ServiceStation,
                {"building": building, "name": f"{building.name}党群服务站"},
                {
                    "floor": floor,
                    "area_m2": Decimal(area),
                    "opening_hours": hours,
                    "phone": phone,
                    "description": (
                        f"位于{building.name}{floor}楼，面积{area}平方米，设接待窗口、事务办理、驻点办公、"
                        "党员活动室和心理咨询室，为楼宇企业和白领提供党群服务。"
                    ),
                    "is_active": True,
                },
            )
            self.stations[bkey] = station
            for name, function, capacity in STATION_SPACES:
                self.spaces[(bkey, name)] = self.upsert(
                    Space, {"station": station, "name": name}, {"function": function, "capacity": capacity}
                )

    # -- accounts ----------------------------------------------------------------------

    def user(self, username: str, values: dict, *, groups: Sequence[str] = (), streets=()) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            if self.password_hash is None:
                self.password_hash = make_password(PASSWORD)
            user = User(username=username, password=self.password_hash, **values)
            user.full_clean()
            user.save()
            self.counter["created"] += 1
        else:
            user = self.upsert(User, {"pk": user.pk}, values)
        if streets and set(user.streets.values_list("pk", flat=True)) != {s.pk for s in streets}:
            user.streets.set(streets)
        if groups:
            from django.contrib.auth.models import Group

            wanted = list(Group.objects.filter(name__in=groups))
            if set(user.groups.values_list("pk", flat=True)) != {g.pk for g in wanted}:
                user.groups.set(wanted)
        return user

    def accounts(self) -> list[tuple[str, str, str]]:
        ensure_groups()
        rng = self.rng
        self.user(
            "admin",
            {
                "email": "admin@example.com",
                "first_name": "管理员",
                "real_name": "管理员",
                "is_staff": True,
                "is_superuser": True,
                "phone": "",
            },
        )
        self.user(
            "shegong",
            {
                "email": "shegong@example.com",
                "last_name": "李",
                "first_name": "敏",
                "real_name": "李敏",
                "is_staff": True,
                "phone": self.next_phone(),
            },
            groups=[SOCIAL_WORKER],
            streets=[self.streets[("310106", "南京西路街道")]],
        )
        self.user(
            "jingan",
            {
                "email": "jingan@example.com",
                "last_name": "王",
                "first_name": "磊",
                "real_name": "王磊",
                "is_staff": True,
                "district": self.districts["310106"],
                "phone": self.next_phone(),
            },
            groups=[DISTRICT_STAFF],
        )
        zw = self.zhangwei_member
        zhangwei = self.user(
            "zhangwei",
            {
                "email": "zhangwei@example.com",
                "last_name": "张",
                "first_name": "伟",
                "real_name": "张伟",
                "phone": zw.phone,
                "building": self.buildings["njxl"],
                "enterprise": zw.enterprise,
                "party_member": zw,
            },
        )
        self.employees = [zhangwei]
        self.linked = [zhangwei]
        # More employees: half of them party members linked to their records.
        weights = [("njxl", 22), ("ljz", 8), ("csl", 6), ("jas", 4), ("whl", 3), ("sjdd", 3)]
        n = 0
        for bkey, count in weights:
            members = [m for m in self.members[bkey] if m.pk != zw.pk]
            for i in range(count):
                n += 1
                if i < len(members) and i % 2 == 0:
                    member = members[i]
                    surname, given = member.name[0], member.name[1:]
                    username = f"{self.pinyin[member.pk]}{n}"
                    values = {
                        "phone": member.phone,
                        "enterprise": member.enterprise,
                        "party_member": member,
                    }
                else:
                    male = rng.random() < 0.5
                    surname, given, _name, pinyin = person_name(rng, male)
                    username = f"{pinyin}{n}"
                    values = {
                        "phone": self.next_phone(),
                        "enterprise": rng.choice(self.enterprises[bkey]),
                        "party_member": None,
                    }
                user = self.user(
                    username,
                    {
                        **values,
                        "email": f"{username}@example.com",
                        "last_name": surname,
                        "first_name": given,
                        "real_name": surname + given,
                        "building": self.buildings[bkey],
                    },
                )
                self.employees.append(user)
                if user.party_member_id:
                    self.linked.append(user)
        return [
            ("admin", PASSWORD, "超级管理员"),
            ("shegong", PASSWORD, "街道社工（南京西路街道）"),
            ("jingan", PASSWORD, "区级工作人员（静安区）"),
            ("zhangwei", PASSWORD, "楼宇白领（南京西路国际大厦，党员）"),
        ]

    # -- events and bookings ------------------------------------------------------------

    def events(self) -> None:
        rng = self.rng
        wanted: dict[int, list[tuple[DemoEvent, dict]]] = defaultdict(list)
        for spec in DEMO_EVENTS:
            starts = _at(workday(self.today, spec.day), spec.start)
            ends = starts + datetime.timedelta(minutes=spec.minutes)
            space = self.spaces[(spec.station, spec.space)]
            values = {
                "kind": spec.kind,
                "description": EVENT_DESCRIPTIONS[spec.kind],
                "speaker": "心理咨询师" if spec.kind == Kind.COUNSELLING else rng.choice(SPEAKERS),
                "organizer": self.orgs.get(spec.station),
                "starts_at": starts,
                "ends_at": ends,
                "capacity": spec.capacity,
                "waitlist_limit": 3 if spec.kind == Kind.COUNSELLING else 10,
                "audience": spec.audience,
                "booking_opens_at": starts - datetime.timedelta(days=14),
                "booking_closes_at": starts - datetime.timedelta(hours=1),
                "cancel_deadline": starts
                - datetime.timedelta(hours=24 if spec.kind == Kind.YOUTH_SOCIAL else 12),
                "status": spec.status,
            }
            wanted[space.pk].append((spec, values))
        self.event_objs: list[tuple[DemoEvent, Event]] = []
        for space_pk, items in wanted.items():
            existing = {
                e.title: e
                for e in Event.objects.filter(space_id=space_pk, title__in=[s.title for s, _ in items])
            }
            # When today moved on, every demo event of the space moves by the same amount:
            # move the last first (or the first first) so no two ever overlap on the way.
            forward = any(
                existing[s.title].starts_at < v["starts_at"] for s, v in items if s.title in existing
            )
            items.sort(key=lambda item: item[1]["starts_at"], reverse=forward)
            for spec, values in items:
                event = self.upsert(Event, {"space_id": space_pk, "title": spec.title}, values)
                self.event_objs.append((spec, event))

    def bookings(self) -> None:
        """Bookings in the order people made them; every time is relative to the event, not to now."""
        rng = self.rng
        zhangwei = self.employees[0]
        self.event_objs.sort(key=lambda item: (item[0].day, item[0].start, item[0].title))
        for spec, event in self.event_objs:
            pool = self.linked if spec.audience == MEMBERS else self.employees
            others = [u for u in pool if u.pk != zhangwei.pk]
            demand = spec.demand - (1 if spec.with_zhangwei else 0)
            people: list[tuple[User, str | None]] = [
                (u, None) for u in rng.sample(others, min(demand, len(others)))
            ]
            if spec.with_zhangwei == BStatus.WAITLISTED:
                people.append((zhangwei, None))  # last in line: the event is full by then
            elif spec.with_zhangwei:
                people.insert(0, (zhangwei, spec.with_zhangwei))
            past = spec.day < 0
            seats = event.capacity
            for order, (person, forced) in enumerate(people):
                if forced:
                    status = forced
                elif past:
                    status = BStatus.ATTENDED if rng.random() < 0.8 else BStatus.NO_SHOW
                    if rng.random() < 0.1:
                        status = BStatus.CANCELLED
                else:
                    status = BStatus.CANCELLED if rng.random() < 0.06 else BStatus.CONFIRMED
                if status in (BStatus.CONFIRMED, BStatus.ATTENDED, BStatus.NO_SHOW):
                    if seats > 0:
                        seats -= 1
                    elif past:
                        status = BStatus.CANCELLED
                    else:
                        status = BStatus.WAITLISTED
                booked_at = event.booking_opens_at + datetime.timedelta(hours=2, minutes=order * 7)
                values = {
                    "status": status,
                    "confirmed_at": None if status == BStatus.WAITLISTED else booked_at,
                    "cancelled_at": booked_at + datetime.timedelta(days=1)
                    if status == BStatus.CANCELLED
                    else None,
                    "checked_in_at": event.starts_at - datetime.timedelta(minutes=8 + order % 10)
                    if status == BStatus.ATTENDED
                    else None,
                }
                booking = self.upsert(Booking, {"event": event, "user": person}, values)
                # Made when the person booked (before the event), not when the demo was seeded;
                # the seed's own correction of its insert is no change anyone made (no history).
                if booking.created_at != booked_at:
                    with pgtrigger.ignore("services.Booking:update_update"):
                        Booking.objects.filter(pk=booking.pk).update(created_at=booked_at)

    def counters(self) -> None:
        """confirmed_count / waitlist_count equal the bookings (seats held, waitlist)."""
        ids = [event.pk for _spec, event in self.event_objs]
        rows = Event.objects.filter(pk__in=ids).annotate(
            seats=Count(
                "bookings",
                filter=Q(bookings__status__in=[BStatus.CONFIRMED, BStatus.ATTENDED, BStatus.NO_SHOW]),
            ),
            waiting=Count("bookings", filter=Q(bookings__status=BStatus.WAITLISTED)),
        )
        for event in rows:
            if (event.confirmed_count, event.waitlist_count) != (event.seats, event.waiting):
                Event.objects.filter(pk=event.pk).update(
                    confirmed_count=event.seats, waitlist_count=event.waiting
                )
                self.counter["updated"] += 1

    # -- transfers --------------------------------------------------------------------

    def transfers(self) -> None:
        """One completed transfer within the system and one pending transfer in, for the admin."""
        moved = self.members["whl"][-1]
        self.upsert(
            MemberTransfer,
            {"member": moved, "direction": MemberTransfer.Direction.INTERNAL},
            {
                "requested_on": datetime.date(2025, 3, 3),
                "from_organization": self.orgs["street:南京西路街道"],
                "to_organization": moved.organization,
                "status": MemberTransfer.Status.COMPLETED,
                "completed_on": datetime.date(2025, 3, 10),
                "note": "随单位迁入本楼宇。",
            },
        )
        newcomer = self.members["ljz"][-1]
        self.upsert(
            MemberTransfer,
            {"member": newcomer, "direction": MemberTransfer.Direction.IN},
            {
                "requested_on": self.today - datetime.timedelta(days=5),
                "to_organization": newcomer.organization,
                "external_organization": "江苏省苏州市工业园区某科技公司党支部",
                "status": MemberTransfer.Status.PENDING,
                "completed_on": None,
            },
        )

    def run(self) -> list[tuple[str, str, str]]:
        self.out("演示数据：区、街道、楼宇和企业……")
        self.places()
        self.out("演示数据：党组织、党员和楼委会……")
        self.organizations()
        self.people()
        self.committees()
        self.out("演示数据：服务站、账号、活动和预约……")
        self.service_stations()
        logins = self.accounts()
        self.events()
        self.bookings()
        self.out("演示数据：楼宇与社区共建（“1℃”）……")
        from demo.community import seed_community

        seed_community(self)
        self.counters()
        self.transfers()
        self.out("演示数据：企业诉求和走访……")
        from demo.demands import seed_demands

        seed_demands(today=self.today, upsert=self.upsert, counter=self.counter)
        return logins


def demo_counts() -> dict[str, int]:
    return {
        "districts": District.objects.count(),
        "streets": Street.objects.count(),
        "buildings": Building.objects.count(),
        "key_buildings": Building.objects.filter(is_key_building=True).count(),
        "enterprises": Enterprise.objects.count(),
        "party_organizations": PartyOrganization.objects.count(),
        "party_members": PartyMember.objects.count(),
        "committees": BuildingCommittee.objects.count(),
        "committee_seats": CommitteeSeat.objects.count(),
        "stations": ServiceStation.objects.count(),
        "spaces": Space.objects.count(),
        "users": User.objects.count(),
        "events": Event.objects.count(),
        "bookings": Booking.objects.count(),
        "transfers": MemberTransfer.objects.count(),
        "demands": Demand.objects.count(),
        "visits": Visit.objects.count(),
    }


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")


def seed_demo(*, today: datetime.date | None = None, out: Callable[[str], None] = _stdout) -> DemoResult:
    """Write (or bring up to date) the small demo data set; see the module docstring."""
    seeder = _DemoSeeder(today or timezone.localdate(), out)
    with pghistory.context(action="seed_demo"), transaction.atomic():
        logins = seeder.run()
    return DemoResult(demo_counts(), seeder.counter["created"], seeder.counter["updated"], logins)
