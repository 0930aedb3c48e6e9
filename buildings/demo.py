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

``seed_city()`` adds, in bulk (PostgreSQL COPY), the city of the design's
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
import io
import itertools
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import pghistory
import pgtrigger
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from buildings.demo_data import (
    BUILDING_SUFFIXES,
    BUILDING_WORDS,
    COMPANY_WORDS,
    DEMO_DISTRICT_CODES,
    DISTRICTS,
    EVENT_TITLES,
    GIVEN_FEMALE,
    GIVEN_MALE,
    ID_AREA_CODES,
    INDUSTRIES,
    MOBILE_PREFIXES,
    PROPERTY_COMPANIES,
    SPEAKERS,
    SURNAMES,
)
from buildings.models import Building, District, Enterprise, Street
from buildings.validators import CREDIT_CODE_CHARS, credit_code_check_char
from committees.models import BuildingCommittee, CommitteeSeat
from members.groups import DISTRICT_STAFF, SOCIAL_WORKER, ensure_groups
from members.models import MemberTransfer, PartyMember, PartyOrganization, User
from members.validators import id_number_check_char
from services.models import Booking, Event, ServiceStation, Space

SEED = 20240701
PASSWORD = "demo12345"
SHANGHAI = ZoneInfo("Asia/Shanghai")

Role = CommitteeSeat.Role
Kind = Event.Kind
BStatus = Booking.Status


# --- identifiers: valid by construction, unique by index ------------------------------------------


def _gb11714_check(code8: str) -> str:
    """The check character of a GB 11714 organization code (digits, and letters A=10 … Z=35)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(code8, weights, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_credit_code(n: int, area: str = "310000") -> str:
    """A valid unified social credit code, unique per ``n`` (< 31**5).

    91 (enterprise, registered with market regulation) + the 6-digit area code +
    a 9-character organization code ``MA1xxxxx`` with its GB 11714 check character +
    the GB 32100 check character.
    """
    digits = []
    for _ in range(5):
        n, rem = divmod(n, 31)
        digits.append(CREDIT_CODE_CHARS[rem])
    if n:
        raise ValueError("credit code index out of range")
    org8 = "MA1" + "".join(reversed(digits))
    first17 = "91" + area + org8 + _gb11714_check(org8)
    return first17 + credit_code_check_char(first17)


def make_id_number(area: str, birth: datetime.date, seq: int, male: bool) -> str:
    """A valid resident ID number; the sequence's last digit is odd for men, even for women."""
    seq = (seq % 500) * 2 + (1 if male else 0)
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def make_phone(n: int) -> str:
    """A mainland mobile number, unique per ``n`` (the 8-digit tail is a bijection of n)."""
    prefix = MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]
    tail = (n // len(MOBILE_PREFIXES) * 7919 + 1234567) % 100_000_000
    return f"{prefix}{tail:08d}"


def person_name(rng: random.Random, male: bool) -> tuple[str, str, str, str]:
    """(surname, given name, full name, pinyin) of a made-up person."""
    sur, sur_py = rng.choice(SURNAMES)
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    given, given_py = rng.choice(pool)
    if rng.random() < 0.55:
        second, second_py = rng.choice(pool)
        given, given_py = given + second, given_py + second_py
    return sur, given, sur + given, sur_py + given_py


def company_name(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(COMPANY_WORDS)
    business, industry = rng.choice(INDUSTRIES)
    return f"上海{word}{business}有限公司", industry


def workday(today: datetime.date, offset: int) -> datetime.date:
    """The ``offset``-th working day (Monday–Friday) after today, or before it when negative."""
    day, step = today, 1 if offset > 0 else -1
    for _ in range(abs(offset)):
        day += datetime.timedelta(days=step)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=step)
    return day


def _at(day: datetime.date, hhmm: str) -> datetime.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


# --- idempotent writes ----------------------------------------------------------------------------


def _differs(obj: models.Model, name: str, wanted) -> bool:
    field = obj._meta.get_field(name)
    if field.is_relation and field.concrete:  # compare ids: no query for the related row
        return getattr(obj, field.attname) != (wanted.pk if isinstance(wanted, models.Model) else wanted)
    current = getattr(obj, name)
    if isinstance(current, Decimal) or isinstance(wanted, Decimal):
        return Decimal(str(current)) != Decimal(str(wanted))
    return current != wanted  # aware datetimes compare as instants


def upsert(
    model: type[models.Model],
    lookup: dict,
    values: dict,
    counter: dict | None = None,
    *,
    on_create: dict | None = None,
):
    """Find ``model`` by its natural key ``lookup``; create it, or save only the fields that differ.

    ``on_create`` holds values written only when the row is new (e.g. a count
    that a later step derives from other rows).

    Saving nothing when nothing differs keeps a second run from touching
    ``updated_at`` or writing history. Fields and ``clean()`` are validated so
    the demo data passes the same rules as the admin; uniqueness and the other
    constraints are left to the database, which checks them anyway (asking
    first would triple the queries).
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values, **(on_create or {}))
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        if counter is not None:
            counter["created"] += 1
        return obj
    changed = [name for name, value in values.items() if _differs(obj, name, value)]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.full_clean(validate_unique=False, validate_constraints=False)
        fields = [model._meta.get_field(name).name for name in changed]
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            fields.append("updated_at")
        obj.save(update_fields=fields)
        if counter is not None:
            counter["updated"] += 1
    return obj


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
    DemoEvent("ljz", ROOM, 1, "18:30", 120, Kind.YOUTH_SOCIAL, "周五音乐分享夜", 30, 10),
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
                    "employee_count": spec.employees,
                },
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
            count = 3 + spec.employees // 600
            for _ in range(count):
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
                    enterprise=rng.choice(self.enterprises[spec.key]),
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
                self.upsert(
                    CommitteeSeat,
                    {"committee": committee, "role": role, "person_name": person},
                    {
                        "floor": floor,
                        "phone": self.next_phone(),
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
                self.upsert(Booking, {"event": event, "user": person}, values)

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
        self.counters()
        self.transfers()
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
    }


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")


def seed_demo(*, today: datetime.date | None = None, out: Callable[[str], None] = _stdout) -> DemoResult:
    """Write (or bring up to date) the small demo data set; see the module docstring."""
    seeder = _DemoSeeder(today or timezone.localdate(), out)
    with pghistory.context(action="seed_demo"), transaction.atomic():
        logins = seeder.run()
    return DemoResult(demo_counts(), seeder.counter["created"], seeder.counter["updated"], logins)


# --- city scale ------------------------------------------------------------------------------------

CITY_TARGETS = {
    "buildings": 1569,
    "party_organizations": 2800,
    "party_members": 66000,
    "employees": 200_000,
    "events": 50_000,
    "bookings": 1_000_000,
    "stations": 1000,
}
CITY_EMPLOYEES = 1_100_000  # people working in the buildings (the accounts are a part of them)
KEY_SHARE = 1 / 3
KEY_COVERED = 0.9
OTHER_COVERED = 0.4
LINKED_SHARE = 0.3  # party members who registered in the portal and were linked to their record
PAST_DAYS, FUTURE_DAYS = 270, 95  # the year of events: nine months held, three to come
BOOKING_OPENS_BEFORE = datetime.timedelta(days=14)
ACTIVITY_SLOTS = [("09:30", 120), ("12:00", 60), ("14:00", 120), ("18:30", 120)]
COUNSEL_SLOTS = [("10:00", 60), ("11:00", 60), ("13:30", 60), ("15:00", 60), ("16:30", 60)]
SEAT_STATUSES = (BStatus.CONFIRMED, BStatus.ATTENDED, BStatus.NO_SHOW)


def _history_trigger_uris() -> list[str]:
    """The pghistory triggers (not the occupancy triggers, which must keep running)."""
    from pghistory.trigger import Event as HistoryTrigger

    return [
        trigger.get_uri(model)
        for model, trigger in pgtrigger.registered()
        if isinstance(trigger, HistoryTrigger)
    ]


def _pg(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


@dataclasses.dataclass
class CityReport:
    factor: float
    seconds: float = 0.0
    skipped: bool = False
    steps: list[tuple[str, int, float]] = dataclasses.field(default_factory=list)
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    counter_mismatches: int = 0

    def lines(self) -> list[str]:
        if self.skipped:
            return ["全市规模数据已存在，未重复生成。"]
        lines = [f"全市规模数据（系数 {self.factor:g}）：用时 {self.seconds:.1f} 秒。"]
        lines += [f"  {rows:>10,} 行  {secs:6.1f} 秒  {name}" for name, rows, secs in self.steps]
        lines.append(
            "  活动计数与预约记录一致。"
            if not self.counter_mismatches
            else f"  计数不一致的活动：{self.counter_mismatches}"
        )
        return lines


class _Progress:
    """A text progress bar that prints a line at every tenth (fine in logs and terminals alike)."""

    def __init__(self, out: Callable[[str], None], label: str, total: int):
        self.out, self.label, self.total = out, label, max(total, 1)
        self.started = time.monotonic()
        self.shown = -1

    def update(self, done: int) -> None:
        tenth = min(10, done * 10 // self.total)
        if tenth > self.shown:
            self.shown = tenth
            bar = "█" * tenth + "░" * (10 - tenth)
            elapsed = time.monotonic() - self.started
            self.out(
                f"  [{bar}] {tenth * 10:3d}%  {done:>9,} / {self.total:<9,} {elapsed:6.1f}s  {self.label}"
            )


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), exactly."""
    weight_sum = sum(weights) or 1
    raw = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[: total - sum(parts)]:
        parts[i] += 1
    return parts


class _CityGenerator:
    def __init__(self, cursor, *, factor: float, today: datetime.date, now: datetime.datetime, out):
        self.cur = cursor
        self.factor = factor
        self.today = today
        self.now = now
        self.out = out
        self.rng = random.Random(SEED + 1)
        self.targets = {name: max(1, round(n * factor)) for name, n in CITY_TARGETS.items()}
        self.report = CityReport(factor=factor)
        self.phone_n = 1_000_000  # the demo uses small numbers
        self.credit_n = 100_000
        self.user_serial = 100_000
        self.password = make_password(
            PASSWORD
        )  # one hash for every account: hashing 200,000 would take hours

    # -- plumbing ---------------------------------------------------------------------------

    def ids(self, model: type[models.Model], n: int) -> list[int]:
        if n <= 0:
            return []
        self.cur.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, n],
        )
        return [row[0] for row in self.cur.fetchall()]

    def copy(self, table: str, columns: str, rows: Iterable[Sequence], *, label: str, total: int) -> int:
        """COPY ``rows`` (tuples in the order of the comma-separated ``columns``) into ``table``."""
        progress = _Progress(self.out, label, total)
        sql = f"COPY {table} ({columns}) FROM STDIN"
        buf, n = io.StringIO(), 0
        for row in rows:
            buf.write("\t".join(map(_pg, row)))
            buf.write("\n")
            n += 1
            if n % 50_000 == 0:
                buf.seek(0)
                self.cur.copy_expert(sql, buf)
                buf = io.StringIO()
                progress.update(n)
        buf.seek(0)
        self.cur.copy_expert(sql, buf)
        progress.update(n)
        # Statistics now, inside the transaction: PostgreSQL keeps each foreign-key check's plan
        # for the whole session, and the one planned while the referenced table was small (the
        # small demo seeded just before) is a sequential scan. Each later row checked against
        # this table would then read it from the start: the million bookings against the 50,000
        # events took over 20 minutes instead of about one. ANALYZE invalidates those plans.
        self.cur.execute(f"ANALYZE {table}")
        return n

    def step(self, name: str, fn: Callable[[], int]) -> None:
        started = time.monotonic()
        rows = fn()
        self.report.steps.append((name, rows, time.monotonic() - started))

    def next_phone(self) -> str:
        self.phone_n += 1
        return make_phone(self.phone_n)

    # -- places -----------------------------------------------------------------------------

    def places(self) -> int:
        before = District.objects.count() + Street.objects.count()
        for code, name, streets, _roads, _weight in DISTRICTS:
            district, _created = District.objects.get_or_create(code=code, defaults={"name": name})
            Street.objects.bulk_create(
                [Street(district=district, name=s) for s in streets], ignore_conflicts=True
            )
        self.district_ids = dict(District.objects.values_list("code", "id"))
        self.street_ids = {
            (code, name): pk for pk, code, name in Street.objects.values_list("pk", "district__code", "name")
        }
        return District.objects.count() + Street.objects.count() - before

    def buildings(self) -> int:
        rng = self.rng
        existing = Building.objects.count()
        needed = self.targets["buildings"] - existing
        key_total = round(self.targets["buildings"] * KEY_SHARE)
        key_needed = max(0, key_total - Building.objects.filter(is_key_building=True).count())
        covered_key_total = round(key_total * KEY_COVERED)
        covered_key_now = Building.objects.filter(
            is_key_building=True, party_organizations__isnull=False
        ).distinct()
        covered_key_needed = max(0, covered_key_total - covered_key_now.count())
        taken = defaultdict(set)
        for street_id, name in Building.objects.values_list("street_id", "name"):
            taken[street_id].add(name)
        per_district = _allocate(needed, [d[4] for d in DISTRICTS])
        self.new_buildings: list[dict] = []
        ids = self.ids(Building, needed)
        for (code, _dname, streets, roads, _w), count in zip(DISTRICTS, per_district, strict=True):
            street_weights = [1 / (1 + 0.25 * i) for i in range(len(streets))]
            for _ in range(count):
                street = rng.choices(streets, weights=street_weights)[0]
                street_id = self.street_ids[(code, street)]
                for attempt in range(200):
                    place = rng.choice(roads) if attempt % 2 == 0 else rng.choice(BUILDING_WORDS)
                    name = place + rng.choice(BUILDING_SUFFIXES)
                    if attempt > 50:
                        name += rng.choice("ABCDEFGH") + "座"
                    if name not in taken[street_id]:
                        break
                taken[street_id].add(name)
                self.new_buildings.append(
                    {
                        "id": ids[len(self.new_buildings)],
                        "district": code,
                        "street_id": street_id,
                        "name": name,
                        "address": f"{rng.choice(roads)}{rng.randint(1, 2000)}号",
                        "key": False,
                        "covered": False,
                    }
                )
        for b in rng.sample(self.new_buildings, min(key_needed, len(self.new_buildings))):
            b["key"] = True
        keys = [b for b in self.new_buildings if b["key"]]
        for b in rng.sample(keys, min(covered_key_needed, len(keys))):
            b["covered"] = True
        for b in self.new_buildings:
            if not b["key"] and rng.random() < OTHER_COVERED:
                b["covered"] = True
            b["floors"] = rng.randint(25, 72) if b["key"] else rng.randint(6, 30)
            b["area"] = Decimal(b["floors"] * rng.randint(1500, 3600))
            b["property"] = rng.choice(PROPERTY_COMPANIES)
        return needed

    def enterprises(self) -> None:
        """Plan tenants and head counts (written with the buildings, after members are allocated)."""
        rng = self.rng
        self.new_enterprises: list[dict] = []
        for b in self.new_buildings:
            names: set[str] = set()
            for _ in range(rng.randint(12, 32) if b["key"] else rng.randint(4, 12)):
                name, industry = company_name(rng)
                while name in names:
                    name, industry = company_name(rng)
                names.add(name)
                self.credit_n += 1
                self.new_enterprises.append(
                    {
                        "building": b,
                        "name": name,
                        "industry": industry,
                        "credit_code": make_credit_code(self.credit_n, b["district"]),
                        "floor": rng.randint(1, b["floors"]),
                        "employees": rng.lognormvariate(3.5, 1.0) * (1.6 if b["key"] else 1.0),
                        "members": 0,
                    }
                )
        existing_people = sum(Building.objects.values_list("employee_count", flat=True))
        people = max(round(CITY_EMPLOYEES * self.factor) - existing_people, len(self.new_enterprises) * 3)
        scale = people / sum(e["employees"] for e in self.new_enterprises)
        for e in self.new_enterprises:
            e["employees"] = max(3, round(e["employees"] * scale))
        ids = self.ids(Enterprise, len(self.new_enterprises))
        for e, pk in zip(self.new_enterprises, ids, strict=True):
            e["id"] = pk
        # Party members: 6% of employees on average, more in some firms than in others.
        needed = max(0, self.targets["party_members"] - PartyMember.objects.count())
        picks = rng.choices(
            range(len(self.new_enterprises)), weights=[e["employees"] for e in self.new_enterprises], k=needed
        )
        for i in picks:
            self.new_enterprises[i]["members"] += 1
        for e in self.new_enterprises:
            e["employees"] = max(e["employees"], e["members"] * 3)
        for b in self.new_buildings:
            b["employees"] = 0
        for e in self.new_enterprises:
            e["building"]["employees"] += e["employees"]

    def write_buildings(self) -> int:
        stamp = self.now
        n = self.copy(
            "buildings_building",
            "id, street_id, name, address, floors, floor_area_m2, is_key_building, property_company, employee_count, created_at, updated_at",
            (
                (
                    b["id"],
                    b["street_id"],
                    b["name"],
                    b["address"],
                    b["floors"],
                    b["area"],
                    b["key"],
                    b["property"],
                    b["employees"],
                    stamp,
                    stamp,
                )
                for b in self.new_buildings
            ),
            label="楼宇",
            total=len(self.new_buildings),
        )
        n += self.copy(
            "buildings_enterprise",
            "id, building_id, name, credit_code, floor, employee_count, party_member_count, industry, created_at, updated_at",
            (
                (
                    e["id"],
                    e["building"]["id"],
                    e["name"],
                    e["credit_code"],
                    e["floor"],
                    e["employees"],
                    e["members"],
                    e["industry"],
                    stamp,
                    stamp,
                )
                for e in self.new_enterprises
            ),
            label="企业",
            total=len(self.new_enterprises),
        )
        return n

    # -- party organizations, members, accounts -----------------------------------------------

    def _term_end(self, founded: datetime.date, years: int) -> datetime.date:
        end = founded
        # the next election after ~3 months ago: a few are overdue, which the portal reminds of
        while end <= self.today - datetime.timedelta(days=90):
            end = end.replace(year=end.year + years)
        return end

    def organizations(self) -> int:
        rng = self.rng
        names = defaultdict(set)
        for street_id, name in PartyOrganization.objects.values_list("street_id", "name"):
            names[street_id].add(name)
        existing = PartyOrganization.objects.filter(name__endswith="楼宇联合党委", parent__isnull=True)
        street_org = {street_id: {"id": pk} for street_id, pk in existing.values_list("street_id", "id")}
        street_names = {pk: name for (_code, name), pk in self.street_ids.items()}
        orgs: list[dict] = []

        def add(**org) -> dict:
            founded = datetime.date(rng.randint(2008, 2022), rng.randint(1, 12), rng.randint(1, 28))
            years = (
                5
                if org["kind"] in (PartyOrganization.Kind.JOINT_COMMITTEE, PartyOrganization.Kind.COMMITTEE)
                else 3
            )
            org.update(
                founded=founded, term_ends=self._term_end(founded, years), buildings=org.get("buildings", [])
            )
            names[org["street_id"]].add(org["name"])
            orgs.append(org)
            return org

        for b in self.new_buildings:
            if b["street_id"] not in street_org:
                org = add(
                    name=f"{street_names[b['street_id']]}楼宇联合党委",
                    kind=PartyOrganization.Kind.JOINT_COMMITTEE,
                    street_id=b["street_id"],
                    parent=None,
                    enterprise_id=None,
                )
                street_org[b["street_id"]] = org
        for b in self.new_buildings:
            if b["covered"]:
                big = b["employees"] >= 2000
                parent = street_org[b["street_id"]]
                b["org"] = add(
                    name=f"{b['name']}联合党{'委' if big else '支部'}",
                    kind=PartyOrganization.Kind.JOINT_COMMITTEE if big else PartyOrganization.Kind.BRANCH,
                    street_id=b["street_id"],
                    parent=parent,
                    enterprise_id=None,
                    buildings=[b["id"]],
                )
        wanted = self.targets["party_organizations"] - PartyOrganization.objects.count() - len(orgs)
        candidates = [e for e in self.new_enterprises if e["building"]["covered"] and e["members"] >= 3]
        candidates.sort(key=lambda e: (-e["members"], e["id"]))
        for e in candidates[: max(0, wanted)]:
            kind = (
                PartyOrganization.Kind.COMMITTEE
                if e["members"] >= 100
                else PartyOrganization.Kind.GENERAL_BRANCH
                if e["members"] >= 50
                else PartyOrganization.Kind.BRANCH
            )
            suffix = {"committee": "党委", "general_branch": "党总支", "branch": "党支部"}[kind]
            name = f"{e['name']}{suffix}"
            if name in names[e["building"]["street_id"]]:
                continue
            e["org"] = add(
                name=name,
                kind=kind,
                street_id=e["building"]["street_id"],
                parent=e["building"]["org"],
                enterprise_id=e["id"],
                buildings=[e["building"]["id"]],
            )
        for org, pk in zip(orgs, self.ids(PartyOrganization, len(orgs)), strict=True):
            org["id"] = pk
        self.street_org = street_org
        self.new_orgs = orgs
        stamp = self.now
        n = self.copy(
            "members_partyorganization",
            "id, name, kind, parent_id, street_id, enterprise_id, founded_on, term_ends_on, secretary_id, created_at, updated_at",
            (
                (
                    o["id"],
                    o["name"],
                    o["kind"],
                    o["parent"]["id"] if o["parent"] else None,
                    o["street_id"],
                    o["enterprise_id"],
                    o["founded"],
                    o["term_ends"],
                    None,
                    stamp,
                    stamp,
                )
                for o in orgs  # parents come before their children in this list
            ),
            label="党组织",
            total=len(orgs),
        )
        through = PartyOrganization.buildings.through._meta.db_table
        self.copy(
            through,
            "partyorganization_id, building_id",
            ((o["id"], b) for o in orgs for b in o["buildings"]),
            label="覆盖楼宇",
            total=sum(len(o["buildings"]) for o in orgs),
        )
        return n

    def members(self) -> int:
        rng = self.rng
        taken = set(PartyMember.objects.values_list("id_number", flat=True))
        educations = list(PartyMember.Education.values)
        edu_weights = [2, 6, 14, 55, 20, 3]
        total = sum(e["members"] for e in self.new_enterprises)
        ids = iter(self.ids(PartyMember, total))
        self.new_members: list[tuple] = []  # (id, enterprise, name, pinyin, phone, male)
        secretary: dict[int, tuple[int, datetime.date]] = {}
        stamp = self.now

        def rows():
            for e in self.new_enterprises:
                b = e["building"]
                org = e.get("org") or b.get("org") or self.street_org[b["street_id"]]
                for _ in range(e["members"]):
                    male = rng.random() < 0.52
                    _s, _g, name, pinyin = person_name(rng, male)
                    age = int(rng.triangular(22, 60, 30))
                    birth = datetime.date(self.today.year - age, rng.randint(1, 12), rng.randint(1, 28))
                    while True:
                        number = make_id_number(rng.choice(ID_AREA_CODES), birth, rng.randrange(500), male)
                        if number not in taken:
                            taken.add(number)
                            break
                    joined = birth + datetime.timedelta(
                        days=rng.randint(18 * 365 + 10, max(18 * 365 + 11, (age - 1) * 365))
                    )
                    status = PartyMember.Status.FULL
                    if rng.random() < 0.07:
                        joined = self.today - datetime.timedelta(days=rng.randint(20, 350))
                        status = PartyMember.Status.PROBATIONARY
                    pk = next(ids)
                    phone = self.next_phone()
                    street_level = org is self.street_org.get(b["street_id"])
                    is_mobile = rng.random() < (0.25 if street_level else 0.05)
                    self.new_members.append((pk, e, name, pinyin, phone, male))
                    if status == PartyMember.Status.FULL and (
                        org["id"] not in secretary or birth < secretary[org["id"]][1]
                    ):
                        secretary[org["id"]] = (pk, birth)
                    yield (
                        pk,
                        name,
                        "M" if male else "F",
                        birth,
                        phone,
                        number,
                        rng.choices(educations, weights=edu_weights)[0],
                        joined,
                        status,
                        org["id"],
                        e["id"],
                        is_mobile,
                        stamp,
                        stamp,
                    )

        n = self.copy(
            "members_partymember",
            "id, name, gender, birth_date, phone, id_number, education, joined_on, status, organization_id, enterprise_id, is_mobile, created_at, updated_at",
            rows(),
            label="党员",
            total=total,
        )
        if secretary:
            from psycopg2.extras import execute_values

            execute_values(
                self.cur.cursor,
                "UPDATE members_partyorganization o SET secretary_id = v.m FROM (VALUES %s) AS v(o, m) WHERE o.id = v.o",
                # only the organizations made here; the demo's keep their secretaries
                [(org["id"], secretary[org["id"]][0]) for org in self.new_orgs if org["id"] in secretary],
                page_size=5000,
            )
        return n

    def accounts(self) -> int:
        rng = self.rng
        existing = User.objects.filter(is_staff=False, is_superuser=False).count()
        needed = max(0, self.targets["employees"] - existing)
        linked = rng.sample(self.new_members, min(needed, round(len(self.new_members) * LINKED_SHARE)))
        linked.sort(key=lambda m: m[0])
        ids = iter(self.ids(User, needed))
        self.users_by_street: dict[int, list[int]] = defaultdict(list)
        self.linked_by_street: dict[int, list[int]] = defaultdict(list)
        self.users_by_district: dict[str, list[int]] = defaultdict(list)
        self.linked_by_district: dict[str, list[int]] = defaultdict(list)
        # cum_weights: choices() would otherwise re-add all weights on every call
        cum_weights = list(itertools.accumulate(e["employees"] for e in self.new_enterprises))
        days = 700

        def account(pk, e, name, pinyin, phone, member_id):
            self.user_serial += 1
            username = f"{pinyin}{self.user_serial}"
            b = e["building"]
            self.users_by_street[b["street_id"]].append(pk)
            self.users_by_district[b["district"]].append(pk)
            if member_id:
                self.linked_by_street[b["street_id"]].append(pk)
                self.linked_by_district[b["district"]].append(pk)
            joined = self.now - datetime.timedelta(days=rng.random() * days)
            return (
                pk,
                self.password,
                None,
                False,
                username,
                name[1:],
                name[0],
                f"{username}@example.com",
                False,
                True,
                joined,
                phone,
                b["id"],
                e["id"],
                member_id,
                None,
                "zh-hans",
                None,
                True,
                True,
            )

        def rows():
            for member_id, e, name, pinyin, phone, _male in linked:
                yield account(next(ids), e, name, pinyin, phone, member_id)
            for e in rng.choices(self.new_enterprises, cum_weights=cum_weights, k=needed - len(linked)):
                male = rng.random() < 0.5
                _s, _g, name, pinyin = person_name(rng, male)
                yield account(next(ids), e, name, pinyin, self.next_phone(), None)

        return self.copy(
            "members_user",
            "id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, phone, building_id, enterprise_id, party_member_id, district_id, language, calendar_token, notify_by_email, notify_in_portal",
            rows(),
            label="员工账号",
            total=needed,
        )

    # -- committees --------------------------------------------------------------------------

    def committees(self) -> int:
        rng = self.rng
        members_by_building: dict[int, list[tuple]] = defaultdict(list)
        for m in self.new_members:
            members_by_building[m[1]["building"]["id"]].append(m)
        tenants: dict[int, list[dict]] = defaultdict(list)
        for e in self.new_enterprises:
            tenants[e["building"]["id"]].append(e)
        street_names = {pk: name for (_code, name), pk in self.street_ids.items()}
        chosen = [b for b in self.new_buildings if b["covered"] and rng.random() < 0.75]
        ids = self.ids(BuildingCommittee, len(chosen))
        committees, seats = [], []
        for b, pk in zip(chosen, ids, strict=True):
            founded = datetime.date(rng.randint(2018, 2023), rng.randint(1, 12), rng.randint(1, 28))
            start = self._term_end(founded, 3) - datetime.timedelta(days=3 * 365)
            start = max(start, founded)
            committees.append(
                (pk, b["id"], founded, start, start + datetime.timedelta(days=3 * 365), self.now, self.now)
            )
            street = street_names[b["street_id"]]
            people = members_by_building[b["id"]]
            rep = rng.choice(people) if people else None
            firms = tenants[b["id"]]

            def seat(role, affiliation, member=None, floor=None, starts=start, ends=None, male=None, pk=pk):
                name = (
                    member[2] if member else person_name(rng, rng.random() < 0.5 if male is None else male)[2]
                )
                seats.append(
                    (
                        pk,
                        role,
                        floor,
                        name,
                        self.next_phone(),
                        affiliation[:150],
                        member[0] if member else None,
                        starts,
                        ends,
                    )
                )

            seat(Role.BUILDING_CHIEF, rng.choice(firms)["name"], rep)
            if rng.random() < 0.8:
                seat(Role.FIRST_SECRETARY, f"{street}党工委")
            seat(Role.DIRECTOR, b["property"])
            seat(Role.PROPERTY_MANAGER, b["property"])
            seat(Role.OWNER_REPRESENTATIVE, f"{b['name']}业主单位")
            for _ in range(2):
                seat(Role.EMPLOYEE_REPRESENTATIVE, rng.choice(firms)["name"])
            seat(Role.SOCIAL_WORKER, f"{street}社区党群服务中心")
            seat(Role.ECONOMIC_COMMISSIONER, f"{street}经济服务办公室")
            for floor in sorted(rng.sample(range(1, b["floors"] + 1), 2)):
                seat(Role.FLOOR_REPRESENTATIVE, rng.choice(firms)["name"], floor=floor)
            seat(Role.MEMBER, rng.choice(firms)["name"])
        n = self.copy(
            "committees_buildingcommittee",
            "id, building_id, founded_on, term_starts_on, term_ends_on, created_at, updated_at",
            committees,
            label="楼委会",
            total=len(committees),
        )
        return n + self.copy(
            "committees_committeeseat",
            "committee_id, role, floor, person_name, phone, affiliation, member_id, starts_on, ends_on",
            seats,
            label="楼委会成员",
            total=len(seats),
        )

    # -- stations, events, bookings ------------------------------------------------------------

    def stations(self) -> int:
        rng = self.rng
        wanted = max(0, self.targets["stations"] - ServiceStation.objects.count())
        pool = [b for b in self.new_buildings if b["covered"] and b["key"]]
        pool += [b for b in self.new_buildings if b["covered"] and not b["key"]]
        chosen = pool[:wanted]
        station_ids = self.ids(ServiceStation, len(chosen))
        space_ids = iter(self.ids(Space, len(chosen) * len(STATION_SPACES)))
        stations, spaces = [], []
        self.new_spaces: list[dict] = []
        for b, pk in zip(chosen, station_ids, strict=True):
            floor = rng.randint(1, min(6, b["floors"]))
            area = rng.choice([120, 150, 180, 200, 260, 300, 400])
            stations.append(
                (
                    pk,
                    b["id"],
                    f"{b['name']}党群服务站",
                    floor,
                    area,
                    "工作日 9:00–18:00",
                    f"021-{rng.randint(50000000, 69999999)}",
                    f"位于{b['name']}{floor}楼，面积{area}平方米。",
                    True,
                )
            )
            for name, function, capacity in STATION_SPACES:
                if function == Space.Function.ACTIVITY_ROOM:
                    capacity = rng.choice([60, 80, 100, 120, 150, 200])
                space = {"id": next(space_ids), "name": name, "capacity": capacity, "building": b}
                spaces.append((space["id"], pk, name, function, capacity))
                if name in (ROOM, COUNSEL):
                    self.new_spaces.append(space)
        n = self.copy(
            "services_servicestation",
            "id, building_id, name, floor, area_m2, opening_hours, phone, description, is_active",
            stations,
            label="服务站",
            total=len(stations),
        )
        return n + self.copy(
            "services_space",
            "id, station_id, name, function, capacity",
            spaces,
            label="空间",
            total=len(spaces),
        )

    def plan_events(self) -> None:
        """Each space has a time grid (weekdays × slots); events take distinct cells, so none overlap."""
        rng = self.rng
        needed = max(0, self.targets["events"] - Event.objects.count())
        days = [
            self.today + datetime.timedelta(days=d)
            for d in range(-PAST_DAYS, FUTURE_DAYS + 1)
            if (self.today + datetime.timedelta(days=d)).weekday() < 5
        ]
        rooms = [s for s in self.new_spaces if s["name"] == ROOM]
        counsel = [s for s in self.new_spaces if s["name"] == COUNSEL]
        per_room = _allocate(round(needed * 0.72), [1] * len(rooms)) if rooms else []
        per_counsel = _allocate(needed - sum(per_room), [1] * len(counsel)) if counsel else []
        kinds = [Kind.PARTY_CLASS, Kind.SAFETY_LECTURE, Kind.YOUTH_SOCIAL, Kind.OTHER]
        kind_weights = [35, 20, 25, 20]
        self.events: list[dict] = []
        for spaces, counts, slots in (
            (rooms, per_room, ACTIVITY_SLOTS),
            (counsel, per_counsel, COUNSEL_SLOTS),
        ):
            grid = len(days) * len(slots)
            for space, k in zip(spaces, counts, strict=True):
                for cell in rng.sample(range(grid), min(k, grid)):
                    day, (start, minutes) = days[cell // len(slots)], slots[cell % len(slots)]
                    if slots is COUNSEL_SLOTS:
                        kind = Kind.COUNSELLING
                    elif start == "18:30":
                        kind = rng.choices([Kind.YOUTH_SOCIAL, Kind.OTHER], weights=[3, 1])[0]
                    else:
                        kind = rng.choices(kinds, weights=kind_weights)[0]
                    self.events.append(self._event(space, kind, _at(day, start), minutes))
        self.events.sort(key=lambda e: (e["starts_at"], e["space"]["id"]))
        for event, pk in zip(self.events, self.ids(Event, len(self.events)), strict=True):
            event["id"] = pk

    def _event(self, space: dict, kind: str, starts: datetime.datetime, minutes: int) -> dict:
        rng = self.rng
        ends = starts + datetime.timedelta(minutes=minutes)
        counselling = kind == Kind.COUNSELLING
        capacity = (
            1 if counselling else min(space["capacity"], rng.choice([20, 30, 40, 50, 60, 80, 100, 120]))
        )
        opens = starts - BOOKING_OPENS_BEFORE
        past = ends <= self.now
        if past:
            status = Event.Status.CANCELLED if rng.random() < 0.03 else Event.Status.PUBLISHED
        elif opens <= self.now:
            roll = rng.random()
            status = (
                Event.Status.CANCELLED
                if roll < 0.04
                else Event.Status.DRAFT
                if roll < 0.08
                else Event.Status.PUBLISHED
            )
        else:
            status = Event.Status.DRAFT if rng.random() < 0.3 else Event.Status.PUBLISHED
        return {
            "space": space,
            "title": rng.choice(EVENT_TITLES[kind]),
            "kind": kind,
            "speaker": "心理咨询师" if counselling else rng.choice(SPEAKERS),
            "organizer": (space["building"].get("org") or self.street_org[space["building"]["street_id"]])[
                "id"
            ],
            "starts_at": starts,
            "ends_at": ends,
            "capacity": capacity,
            "waitlist_limit": 3 if counselling else rng.choice([10, 20, 30, 50]),
            "audience": Event.Audience.PARTY_MEMBERS
            if kind == Kind.PARTY_CLASS and rng.random() < 0.3
            else Event.Audience.EVERYONE,
            "opens": opens,
            "closes": starts - datetime.timedelta(hours=1),
            "cancel_deadline": starts - datetime.timedelta(hours=24 if kind == Kind.YOUTH_SOCIAL else 12),
            "status": status,
            "past": past,
            "open": not past and opens <= self.now,
        }

    def _pool(self, event: dict) -> list[int]:
        b = event["space"]["building"]
        members_only = event["audience"] == Event.Audience.PARTY_MEMBERS
        by_street = self.linked_by_street if members_only else self.users_by_street
        by_district = self.linked_by_district if members_only else self.users_by_district
        pool = by_street.get(b["street_id"], [])
        if len(pool) < 150:
            pool = by_district.get(b["district"], []) or pool
        return pool

    def plan_bookings(self) -> None:
        """How many bookings of each status each event gets; the counters follow from the plan."""
        rng = self.rng
        target = max(0, self.targets["bookings"] - Booking.objects.count())
        bookable = []
        for e in self.events:
            e.update(n=0, attended=0, no_show=0, confirmed=0, waitlisted=0, cancelled=0)
            if e["status"] == Event.Status.DRAFT or not (e["past"] or e["open"]):
                continue
            cap = e["capacity"]
            if e["status"] == Event.Status.CANCELLED:
                room = max(1, cap // 3)
            elif e["past"]:
                room = 2 if cap == 1 else int(cap / 0.85)
            else:
                room = cap + e["waitlist_limit"] + max(1, cap // 10)
            room = min(room, len(self._pool(e)))
            if room > 0:
                bookable.append((e, room, room * rng.uniform(0.3, 1.0)))
        parts = _allocate(target, [w for _e, _r, w in bookable])
        spare = 0
        for (e, room, _w), n in zip(bookable, parts, strict=True):
            e["n"] = min(n, room)
            spare += n - e["n"]
        while spare > 0:  # hand what did not fit to events with room left
            open_rooms = [(e, room) for e, room, _w in bookable if e["n"] < room]
            if not open_rooms:
                break
            for e, room in open_rooms:
                give = min(spare, room - e["n"], max(1, spare // len(open_rooms)))
                e["n"] += give
                spare -= give
                if spare == 0:
                    break
        for e, _room, _w in bookable:
            n, cap = e["n"], e["capacity"]
            if e["status"] == Event.Status.CANCELLED:
                e["cancelled"] = n
            elif e["past"]:
                cancelled = round(n * rng.uniform(0.05, 0.15))
                active = n - cancelled
                if active > cap:
                    cancelled, active = cancelled + active - cap, cap
                e["attended"] = round(active * rng.uniform(0.72, 0.93))
                e["no_show"] = active - e["attended"]
                e["cancelled"] = cancelled
            else:
                cancelled = round(n * rng.uniform(0.02, 0.1))
                active = n - cancelled
                confirmed = min(active, cap)
                waitlisted = active - confirmed
                if waitlisted > e["waitlist_limit"]:
                    cancelled += waitlisted - e["waitlist_limit"]
                    waitlisted = e["waitlist_limit"]
                e.update(confirmed=confirmed, waitlisted=waitlisted, cancelled=cancelled)
            e["confirmed_count"] = e["attended"] + e["no_show"] + e["confirmed"]
            e["waitlist_count"] = e["waitlisted"]

    def write_events(self) -> int:
        stamp = self.now
        # Each event's row in the occupancy table (a trigger) checks its foreign key against
        # the events table this very COPY is filling: a plan kept from when it was small reads
        # it from the start for every row (50,000 events took 160 s instead of 7 s). Here, and
        # only here, each check is planned anew; elsewhere (a million bookings) that would cost
        # more than it saves, and ANALYZE between the tables is enough (``copy``).
        self.cur.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        written = self._copy_events(stamp)
        self.cur.execute("SET LOCAL plan_cache_mode = DEFAULT")
        return written

    def _copy_events(self, stamp: datetime.datetime) -> int:
        return self.copy(
            "services_event",
            "id, space_id, title, kind, description, speaker, organizer_id, starts_at, ends_at, capacity, waitlist_limit, audience, booking_opens_at, booking_closes_at, cancel_deadline, status, confirmed_count, waitlist_count, created_at, updated_at",
            (
                (
                    e["id"],
                    e["space"]["id"],
                    e["title"],
                    e["kind"],
                    EVENT_DESCRIPTIONS[e["kind"]],
                    e["speaker"],
                    e["organizer"],
                    e["starts_at"],
                    e["ends_at"],
                    e["capacity"],
                    e["waitlist_limit"],
                    e["audience"],
                    e["opens"],
                    e["closes"],
                    e["cancel_deadline"],
                    e["status"],
                    e.get("confirmed_count", 0),
                    e.get("waitlist_count", 0),
                    min(stamp, e["opens"] - datetime.timedelta(days=3)),
                    stamp,
                )
                for e in self.events
            ),
            label="活动",
            total=len(self.events),
        )

    def write_bookings(self) -> int:
        """Stream the planned bookings: seat holders first, then the waitlist, cancellations among them."""
        rng = self.rng
        total = sum(e["n"] for e in self.events)
        now = self.now

        def rows():
            for e in self.events:
                n = e["n"]
                if not n:
                    continue
                users = rng.sample(self._pool(e), n)
                seated = (
                    [BStatus.ATTENDED] * e["attended"]
                    + [BStatus.NO_SHOW] * e["no_show"]
                    + [BStatus.CONFIRMED] * e["confirmed"]
                )
                rng.shuffle(seated)
                line = seated + [BStatus.WAITLISTED] * e["waitlisted"]
                for _ in range(e["cancelled"]):
                    line.insert(rng.randint(0, len(line)), BStatus.CANCELLED)
                start, end = e["opens"], min(e["closes"], now)
                span = (end - start).total_seconds()
                times = sorted(rng.random() for _ in range(n))
                for user, status, share in zip(users, line, times, strict=True):
                    created = start + datetime.timedelta(seconds=span * share)
                    confirmed_at = cancelled_at = checked_in_at = None
                    if status in SEAT_STATUSES:
                        confirmed_at = created
                        if status == BStatus.ATTENDED:
                            checked_in_at = e["starts_at"] - datetime.timedelta(minutes=rng.randint(0, 25))
                    elif status == BStatus.CANCELLED:
                        last = min(e["cancel_deadline"], now)
                        cancelled_at = (
                            created + (last - created) * rng.random() if last > created else created
                        )
                        if rng.random() < 0.7:
                            confirmed_at = created
                    yield (e["id"], user, status, created, confirmed_at, cancelled_at, checked_in_at)

        return self.copy(
            "services_booking",
            "event_id, user_id, status, created_at, confirmed_at, cancelled_at, checked_in_at",
            rows(),
            label="预约",
            total=total,
        )

    def check_counters(self) -> int:
        """Events whose counters differ from their bookings (must be none)."""
        self.cur.execute(
            """
            SELECT count(*) FROM services_event e
            LEFT JOIN (
                SELECT event_id,
                       count(*) FILTER (WHERE status IN ('confirmed', 'attended', 'no_show')) AS seats,
                       count(*) FILTER (WHERE status = 'waitlisted') AS waiting
                FROM services_booking GROUP BY event_id
            ) b ON b.event_id = e.id
            WHERE e.confirmed_count <> coalesce(b.seats, 0) OR e.waitlist_count <> coalesce(b.waiting, 0)
               OR e.confirmed_count > e.capacity
            """
        )
        return self.cur.fetchone()[0]

    def run(self) -> CityReport:
        started = time.monotonic()
        self.step("区和街道", self.places)
        if self.targets["buildings"] <= Building.objects.count():
            self.report.skipped = True
            return self.report
        self.out(f"生成全市规模数据（系数 {self.factor:g}）……")
        self.step("规划楼宇", self.buildings)
        self.step("规划企业", lambda: self.enterprises() or len(self.new_enterprises))
        self.step("写入楼宇和企业", self.write_buildings)
        self.step("党组织", self.organizations)
        self.step("党员", self.members)
        self.step("员工账号", self.accounts)
        self.step("楼委会及成员", self.committees)
        self.step("服务站和空间", self.stations)
        self.step("规划活动", lambda: self.plan_events() or len(self.events))
        self.step("规划预约", lambda: self.plan_bookings() or sum(e["n"] for e in self.events))
        self.step("活动", self.write_events)
        self.step("预约", self.write_bookings)
        self.report.counter_mismatches = self.check_counters()
        self.report.seconds = time.monotonic() - started
        return self.report


def seed_city(
    *, factor: float = 1.0, today: datetime.date | None = None, out: Callable[[str], None] = _stdout
) -> CityReport:
    """Top the data up to the city's figures × ``factor`` in one transaction; see the module docstring.

    Safe to run again: when the buildings are already there it does nothing.
    """
    started = time.monotonic()
    with transaction.atomic(), pgtrigger.ignore(*_history_trigger_uris()), connection.cursor() as cursor:
        # Check foreign keys statement by statement instead of queueing a million checks for COMMIT;
        # this statement also carries pgtrigger's "ignore the history triggers" setting into the
        # transaction, where the COPY statements (which bypass Django's cursor wrappers) see it.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        generator = _CityGenerator(
            cursor, factor=factor, today=today or timezone.localdate(), now=timezone.now(), out=out
        )
        report = generator.run()
    report.seconds = time.monotonic() - started
    report.counts = demo_counts()
    return report
