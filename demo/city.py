"""City scale: the design's figures in bulk (PostgreSQL COPY), for load tests and benchmarks (see demo/small.py)."""

from __future__ import annotations

import dataclasses
import datetime
import io
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import pgtrigger
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from buildings.models import Building, District, Enterprise, Partner, Street
from committees.models import BuildingCommittee, CommitteeSeat
from demo.city_work import CityWork
from demo.data import (
    BUILDING_SUFFIXES,
    BUILDING_WORDS,
    DISTRICTS,
    EVENT_TITLES,
    ID_AREA_CODES,
    PROPERTY_COMPANIES,
    SPEAKERS,
)
from demo.identifiers import (
    USER_COLUMNS,
    _at,
    company_name,
    make_credit_code,
    make_id_number,
    make_phone,
    person_name,
    user_row,
)
from demo.small import COUNSEL, EVENT_DESCRIPTIONS, ROOM, STATION_SPACES, _stdout, demo_counts
from members.models import PartyMember, PartyOrganization, User
from services.models import Booking, Event, ServiceStation, Space, VolunteerHours

SEED = 20240701
PASSWORD = "demo12345"
SHANGHAI = ZoneInfo("Asia/Shanghai")

Role = CommitteeSeat.Role
Kind = Event.Kind
BStatus = Booking.Status


# --- city scale ------------------------------------------------------------------------------------

CITY_TARGETS = {
    "buildings": 1569,
    "party_organizations": 2800,
    "party_members": 66000,
    "employees": 200_000,
    "events": 50_000,
    "bookings": 1_000_000,
    "stations": 1000,
    "volunteer_hours": 50_000,  # hours records: one per attended volunteer booking
    "visits": 30_000,  # the committees' year of work (demo/city_work.py)
    "demands": 20_000,
}
PARTNERS_PER_STREET = 3  # 共建单位 of each street: neighbourhood committees, a community centre, a school
PARTNER_KINDS = (
    (Partner.Kind.NEIGHBOURHOOD_COMMITTEE, "居民区居委会"),
    (Partner.Kind.COMMUNITY_CENTRE, "社区综合服务中心"),
    (Partner.Kind.SCHOOL, "街道社区学校"),
)
VOLUNTEER_TITLES = ("陪伴社区老人", "社区助餐送餐", "垃圾分类引导", "楼宇周边环境整治", "老年人智能手机教学")
VOLUNTEER_DESCRIPTION = "楼宇党员和白领、外卖骑手就近参加志愿服务，到场签到后记入志愿时长。"
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
            return user_row(
                pk,
                self.password,
                username,
                name,
                is_staff=False,
                joined=joined,
                phone=phone,
                building_id=b["id"],
                enterprise_id=e["id"],
                party_member_id=member_id,
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
            USER_COLUMNS,
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

    # -- community: partners and volunteer service ------------------------------------------

    def partners(self) -> int:
        """Every street topped up to ``PARTNERS_PER_STREET`` partners (共建单位)."""
        rng = self.rng
        have = dict(
            Partner.objects.values_list("street_id")
            .annotate(n=models.Count("id"))
            .values_list("street_id", "n")
        )
        names = {pk: name for (_code, name), pk in self.street_ids.items()}
        taken = set(Partner.objects.values_list("street_id", "name"))
        wanted = {pk: PARTNERS_PER_STREET - have.get(pk, 0) for pk in sorted(names)}
        wanted = {pk: n for pk, n in wanted.items() if n > 0}
        total = sum(wanted.values())
        ids = iter(self.ids(Partner, total))
        stamp = self.now

        def rows():
            for street, n in wanted.items():
                fresh = [(k, f"{names[street]}{label}") for k, label in PARTNER_KINDS]
                for i, (kind, name) in enumerate([f for f in fresh if (street, f[1]) not in taken][:n]):
                    yield (
                        next(ids),
                        street,
                        name,
                        kind,
                        f"{names[street]}{rng.randint(1, 999)}号",
                        person_name(rng, rng.random() < 0.5)[2] if i == 0 else "",
                        self.next_phone(),
                        stamp,
                        stamp,
                    )

        return self.copy(
            "buildings_partner",
            "id, street_id, name, kind, address, contact_name, phone, created_at, updated_at",
            rows(),
            label="共建单位",
            total=total,
        )

    def plan_volunteering(self) -> int:
        """Past events turn into volunteer shifts until their attended bookings reach the target.

        Each attended booking of a shift earns one hours record (``write_volunteer_hours``).
        """
        rng = self.rng
        target = max(0, self.targets["volunteer_hours"] - VolunteerHours.objects.count())
        held = [
            e
            for e in self.events
            if e["past"]
            and e["attended"]
            and e["status"] == Event.Status.PUBLISHED
            and e["kind"] != Kind.COUNSELLING
        ]
        rng.shuffle(held)
        self.volunteer_event_ids: list[int] = []
        credited = 0
        for e in held:
            if credited >= target:
                break
            e.update(
                kind=Kind.VOLUNTEER,
                title=rng.choice(VOLUNTEER_TITLES),
                speaker="",
                audience=Event.Audience.EVERYONE,
            )
            self.volunteer_event_ids.append(e["id"])
            credited += e["attended"]
        return credited

    def write_volunteer_hours(self) -> int:
        """One hours record per attended booking of a shift: its length, earned at check-in."""
        if not self.volunteer_event_ids:
            return 0
        self.cur.execute(
            """
            SELECT b.id, b.user_id, b.event_id,
                   round(extract(epoch FROM e.ends_at - e.starts_at) / 3600.0, 1), b.checked_in_at
            FROM services_booking b JOIN services_event e ON e.id = b.event_id
            WHERE b.event_id = ANY(%s) AND b.status = 'attended'
            ORDER BY b.id
            """,
            [self.volunteer_event_ids],
        )
        rows = self.cur.fetchall()
        return self.copy(
            "services_volunteerhours",
            "booking_id, user_id, event_id, hours, earned_at",
            rows,
            label="志愿时长",
            total=len(rows),
        )

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
                    EVENT_DESCRIPTIONS.get(e["kind"], VOLUNTEER_DESCRIPTION),
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
        self.step("规划志愿服务", self.plan_volunteering)
        self.step("共建单位", self.partners)
        self.step("活动", self.write_events)
        self.step("预约", self.write_bookings)
        self.step("志愿时长", self.write_volunteer_hours)
        work = CityWork(self)
        self.step("街道社工账号", work.social_workers)
        self.step("走访", work.visits)
        self.step("企业诉求和办理记录", work.demands)
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
