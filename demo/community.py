"""Demo data for building and community together: the Putuo "1 °C" partnership.

The Putuo plaza (长寿路中环广场) committee and its neighbourhood committee partner with the
"1 °C" agreement; the community canteen and party-group service site as the partner's
places; riders with accounts and pairings; a weekly "company for elderly residents" project
with past shifts (attended, hours earned) and coming ones; registered party members; the
partner's staff account. Idempotent like the rest of ``seed_demo``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pgtrigger

from buildings.models import Partner
from committees.models import Agreement, AgreementCommitment, BuildingCommittee
from demo.identifiers import _at, workday
from members.groups import PARTNER_STAFF
from members.models import HomeRegistration
from services.models import Booking, Event, Pairing, ServiceStation, Space, VolunteerHours, VolunteerProject

PLAZA = "csl"
RIDERS = [
    ("xiaoge", "王", "小哥", "饿了么·长寿路站"),
    ("liming", "李", "明", "美团·曹杨站"),
    ("zhaoqiang", "赵", "强", "饿了么·长寿路站"),
]
RESIDENTS = [
    ("张阿婆", "长寿路街道中环居委会辖区长寿路999弄3号"),
    ("陈老伯", "长寿路街道中环居委会辖区昌化路12号"),
]


def seed_community(seeder) -> None:
    building = seeder.buildings[PLAZA]
    street = building.street
    today = seeder.today
    partner = seeder.upsert(
        Partner,
        {"street": street, "name": "中环居委会"},
        {
            "kind": Partner.Kind.NEIGHBOURHOOD_COMMITTEE,
            "address": "长寿路999弄1号",
            "contact_name": "周书记",
            "phone": seeder.next_phone(),
        },
    )
    canteen = seeder.upsert(
        ServiceStation,
        {"partner": partner, "name": "社区长者食堂"},
        {
            "floor": 1,
            "area_m2": Decimal(180),
            "opening_hours": "每天 10:30–13:30，17:00–19:00",
            "is_active": True,
            "description": "向外卖骑手开放的歇脚、用餐和阅读场所。",
        },
    )
    site = seeder.upsert(
        ServiceStation,
        {"partner": partner, "name": "党群服务点"},
        {"floor": 1, "area_m2": Decimal(120), "opening_hours": "工作日 9:00–17:00", "is_active": True},
    )
    rest = seeder.upsert(
        Space,
        {"station": canteen, "name": "骑手歇脚用餐区"},
        {"function": Space.Function.ACTIVITY_ROOM, "capacity": 20},
    )
    room = seeder.upsert(
        Space, {"station": site, "name": "活动室"}, {"function": Space.Function.ACTIVITY_ROOM, "capacity": 30}
    )

    committee = BuildingCommittee.objects.filter(building=building).first()
    agreement = seeder.upsert(
        Agreement,
        {"partner": partner, "title": "“1℃”空间共建协议"},
        {
            "starts_on": today - datetime.timedelta(days=200),
            "ends_on": today + datetime.timedelta(days=25),
            "status": Agreement.Status.ACTIVE,
        },
    )
    if committee is not None and not agreement.committees.filter(pk=committee.pk).exists():
        agreement.committees.add(committee)
    for side, text in [
        (AgreementCommitment.Side.COMMUNITY, "社区长者食堂和党群服务点向外卖骑手开放，提供歇脚、用餐、阅读"),
        (AgreementCommitment.Side.BUILDING, "楼宇骑手和白领与社区老人结对，每周陪伴"),
        (AgreementCommitment.Side.BUILDING, "楼宇党群服务站的活动向社区居民开放"),
    ]:
        seeder.upsert(AgreementCommitment, {"agreement": agreement, "text": text}, {"side": side})

    riders = [
        seeder.user(
            username,
            {
                "email": f"{username}@example.com",
                "last_name": surname,
                "first_name": given,
                "person_type": "rider",
                "platform": platform,
                "building": None,
            },
        )
        for username, surname, given, platform in RIDERS
    ]
    seeder.user(
        "juweihui",
        {
            "email": "juweihui@example.com",
            "last_name": "周",
            "first_name": "书记",
            "is_staff": True,
            "partner": partner,
        },
        groups=[PARTNER_STAFF],
    )
    for (name, address), rider in zip(RESIDENTS, riders, strict=False):
        seeder.upsert(
            Pairing,
            {"partner": partner, "volunteer": rider, "resident_name": name},
            {"resident_address": address, "started_on": today - datetime.timedelta(days=120)},
        )

    project = seeder.upsert(
        VolunteerProject,
        {"street": street, "name": "陪伴社区老人（每周二）"},
        {
            "partner": partner,
            "description": "骑手和白领利用空闲时间陪伴结对老人聊天、读报。",
            "is_active": True,
        },
    )
    # Weekly shifts on Tuesdays: eight past (attended, hours earned), two coming. Found by title,
    # so that a later day moves them (latest first: a moved shift never lands on one not yet moved).
    tuesday = today - datetime.timedelta(days=(today.weekday() - 1) % 7)
    for week in [2, 1, *range(-1, -9, -1)]:
        starts = _at(tuesday + datetime.timedelta(weeks=week), "14:00")
        n = week + 9 if week < 0 else week + 8
        shift = seeder.upsert(
            Event,
            {"space": room, "title": f"陪伴社区老人 · 第{n}次"},
            {
                "kind": Event.Kind.VOLUNTEER,
                "project": project,
                "description": "到结对老人家中或党群服务点陪伴聊天。",
                "starts_at": starts,
                "ends_at": starts + datetime.timedelta(hours=2),
                "capacity": 10,
                "audience": Event.Audience.EVERYONE,
                "status": Event.Status.PUBLISHED,
                "booking_opens_at": starts - datetime.timedelta(days=14),
                "booking_closes_at": starts - datetime.timedelta(hours=2),
                "cancel_deadline": starts - datetime.timedelta(hours=12),
                # The seats its bookings below hold: the engine's counter, kept equal to them.
                "confirmed_count": len(riders) if week < 0 else 0,
            },
        )
        if week < 0:
            for order, rider in enumerate(riders):
                checked = starts - datetime.timedelta(minutes=5 + order)
                booked_at = starts - datetime.timedelta(days=3)
                booking = seeder.upsert(
                    Booking,
                    {"event": shift, "user": rider},
                    {"status": Booking.Status.ATTENDED, "confirmed_at": booked_at, "checked_in_at": checked},
                )
                # Booked before the shift, not when the demo was seeded (as demo/small.py does:
                # the seed's correction of its own insert is no change anyone made, no history).
                if booking.created_at != booked_at:
                    with pgtrigger.ignore("services.Booking:update_update"):
                        Booking.objects.filter(pk=booking.pk).update(created_at=booked_at)
                seeder.upsert(
                    VolunteerHours,
                    {"booking": booking},
                    {"user": rider, "event": shift, "hours": shift.credited_hours, "earned_at": checked},
                )
    # Rest-and-meal slots at the canteen, the next five working days.
    for i in range(5, 0, -1):
        starts = _at(workday(today, i), "11:00")
        seeder.upsert(
            Event,
            {"space": rest, "title": f"骑手歇脚用餐时段 · 第{i}场"},
            {
                "kind": Event.Kind.OTHER,
                "starts_at": starts,
                "ends_at": starts + datetime.timedelta(hours=2),
                "capacity": 20,
                "audience": Event.Audience.EVERYONE,
                "status": Event.Status.PUBLISHED,
                "description": "社区长者食堂为骑手预留的歇脚、用餐时段。",
                "booking_opens_at": starts - datetime.timedelta(days=7),
                "booking_closes_at": starts + datetime.timedelta(hours=1),
                "cancel_deadline": starts - datetime.timedelta(hours=1),
            },
        )
    # 双报到: the linked party members of the plaza register with the neighbourhood committee.
    for user in [u for u in seeder.linked if u.building_id == building.pk][:3]:
        if not HomeRegistration.objects.filter(
            member_id=user.party_member_id, ended_on__isnull=True
        ).exists():
            HomeRegistration.objects.create(
                member_id=user.party_member_id,
                partner=partner,
                registered_on=today - datetime.timedelta(days=90),
            )
