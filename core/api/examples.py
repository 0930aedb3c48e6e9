"""Example answers of the REST API, for the OpenAPI schema (Swagger UI, ReDoc).

One small, coherent world — a building on Nanjing West Road in Jing'an district,
its enterprise, party branch, committee, service station and a party class — so
that the examples of different endpoints agree with each other. Serializers
attach them with ``@extend_schema_serializer(examples=[response_example(...)])``;
drf-spectacular wraps them in the page envelope (``count``, ``next``,
``previous``, ``results``) for the lists. tests/test_api_schema.py checks that
every operation has an example and that every example matches its schema.
Phones and ID numbers are shown masked, as most readers get them.
"""

from __future__ import annotations

import copy

from drf_spectacular.utils import OpenApiExample


def response_example(name: str, value: dict, *, status_codes: tuple[str, ...] = ("200", "201")):
    """An example of an answer (never offered as a request body)."""
    return OpenApiExample(name, value=value, response_only=True, status_codes=list(status_codes))


def variant(value: dict, **changes) -> dict:
    """A copy of ``value`` with some fields changed (for a second example of the same kind)."""
    result = copy.deepcopy(value)
    result.update(changes)
    return result


DISTRICT_REF = {"id": 1, "name": "静安区"}
STREET_REF = {"id": 4, "name": "南京西路街道"}
BUILDING_REF = {"id": 21, "name": "静安国际中心", "address": "南京西路1515号"}

DISTRICT = {"id": 1, "name": "静安区", "code": "310106"}

STREET = {
    "id": 4,
    "name": "南京西路街道",
    "code": "310106013",
    "district": DISTRICT_REF,
    "building_count": 12,
}

BUILDING = {
    "id": 21,
    "name": "静安国际中心",
    "address": "南京西路1515号",
    "street": 4,
    "street_name": "南京西路街道",
    "district": DISTRICT_REF,
    "floors": 45,
    "floor_area_m2": "120000.00",
    "is_key_building": True,
    "property_company": "仲量联行",
    "employee_count": 6000,
    "has_party_organization": True,
    "has_committee": True,
    "enterprise_count": 38,
    "created_at": "2026-03-02T09:15:00+08:00",
    "updated_at": "2026-11-18T16:40:12+08:00",
}

ENTERPRISE = {
    "id": 305,
    "name": "上海静云信息科技有限公司",
    "credit_code": "91310106MA1FL1234L",
    "building": 21,
    "building_name": "静安国际中心",
    "street": STREET_REF,
    "district": DISTRICT_REF,
    "floor": 12,
    "employee_count": 120,
    "party_member_count": 9,
    "industry": "信息技术",
    "has_party_organization": False,
    "created_at": "2026-03-05T10:02:00+08:00",
    "updated_at": "2026-10-09T11:20:45+08:00",
}

PARTY_ORGANIZATION = {
    "id": 3,
    "name": "静安国际中心联合党支部",
    "kind": "branch",
    "kind_label": "党支部",
    "street": STREET_REF,
    "district": DISTRICT_REF,
    "parent": {"id": 1, "name": "南京西路街道楼宇联合党委"},
    "enterprise": None,
    "secretary": {"id": 7, "name": "王芳"},
    "buildings": [{"id": 21, "name": "静安国际中心"}],
    "founded_on": "2019-07-01",
    "term_ends_on": "2027-06-30",
    "member_count": 54,
    "is_standalone": False,
    "created_at": "2026-03-02T09:30:00+08:00",
    "updated_at": "2026-09-14T15:05:31+08:00",
}

PARTY_MEMBER = {
    "id": 7,
    "name": "王芳",
    "gender": "F",
    "gender_label": "女",
    "birth_date": "1991-04-12",
    "phone": "138****5678",
    "id_number": "310***********1234",
    "education": "master",
    "education_label": "硕士研究生",
    "joined_on": "2013-06-20",
    "status": "full",
    "status_label": "正式党员",
    "organization": {"id": 3, "name": "静安国际中心联合党支部"},
    "street": STREET_REF,
    "district": DISTRICT_REF,
    "enterprise": {"id": 305, "name": "上海静云信息科技有限公司"},
    "is_mobile": False,
    "created_at": "2026-03-02T09:41:00+08:00",
    "updated_at": "2026-11-02T08:55:10+08:00",
}

COMMITTEE = {
    "id": 9,
    "building": {"id": 21, "name": "静安国际中心"},
    "street": STREET_REF,
    "district": DISTRICT_REF,
    "is_key_building": True,
    "founded_on": "2024-05-20",
    "term_starts_on": "2024-05-20",
    "term_ends_on": "2027-05-19",
    "seats": [
        {
            "id": 31,
            "role": "building_chief",
            "role_label": "楼长",
            "person_name": "李建国",
            "phone": "139****2468",
            "affiliation": "南京西路街道",
            "floor": None,
            "member": None,
            "starts_on": "2024-05-20",
            "ends_on": None,
            "is_current": True,
        },
        {
            "id": 32,
            "role": "floor_representative",
            "role_label": "层长",
            "person_name": "王芳",
            "phone": "138****5678",
            "affiliation": "上海静云信息科技有限公司",
            "floor": 12,
            "member": {"id": 7, "name": "王芳"},
            "starts_on": "2024-05-20",
            "ends_on": None,
            "is_current": True,
        },
    ],
    "created_at": "2024-05-20T14:00:00+08:00",
    "updated_at": "2026-08-30T10:12:00+08:00",
}

STATION = {
    "id": 2,
    "name": "静安国际中心党群服务站",
    "building": BUILDING_REF,
    "partner": None,
    "street": STREET_REF,
    "district": DISTRICT_REF,
    "floor": 6,
    "area_m2": "300.00",
    "opening_hours": "工作日 9:00–18:00",
    "phone": "021-6288****",
    "description": "接待窗口、事务办理、驻点办公和活动室。",
    "is_active": True,
    "space_count": 4,
}

SPACE = {
    "id": 11,
    "name": "活动室",
    "function": "activity_room",
    "function_label": "活动室",
    "capacity": 40,
    "station": {"id": 2, "name": "静安国际中心党群服务站"},
    "building": BUILDING_REF,
    "partner": None,
    "street": STREET_REF,
    "district": DISTRICT_REF,
}

PLACE = {
    "space": {"id": 11, "name": "活动室"},
    "station": {"id": 2, "name": "静安国际中心党群服务站"},
    "building": BUILDING_REF,
    "partner": None,
    "street": STREET_REF,
    "district": DISTRICT_REF,
}

EVENT = {
    "id": 118,
    "title": "新时代青年与党的创新理论",
    "kind": "party_class",
    "kind_label": "党课",
    "description": "面向楼宇白领的专题党课，课后交流。",
    "speaker": "陈教授（市委党校）",
    "organizer": {"id": 3, "name": "静安国际中心联合党支部"},
    "place": PLACE,
    "starts_at": "2026-12-10T12:30:00+08:00",
    "ends_at": "2026-12-10T13:30:00+08:00",
    "capacity": 40,
    "waitlist_limit": 10,
    "audience": "everyone",
    "audience_label": "所有人",
    "booking_opens_at": "2026-11-26T09:00:00+08:00",
    "booking_closes_at": "2026-12-10T11:30:00+08:00",
    "cancel_deadline": "2026-12-10T00:30:00+08:00",
    "status": "published",
    "status_label": "已发布",
    "confirmed_count": 36,
    "waitlist_count": 0,
    "seats_left": 4,
}

EVENT_BRIEF = {
    key: EVENT[key]
    for key in (
        "id",
        "title",
        "kind",
        "kind_label",
        "status",
        "status_label",
        "starts_at",
        "ends_at",
        "cancel_deadline",
        "place",
    )
}

BOOKING = {
    "id": 42,
    "status": "confirmed",
    "status_label": "已确认",
    "waitlist_position": None,
    "is_mine": True,
    "event": EVENT_BRIEF,
    "user": {"id": 1024, "name": "张伟"},
    "created_at": "2026-11-27T08:12:40+08:00",
    "confirmed_at": "2026-11-27T08:12:40+08:00",
    "cancelled_at": None,
    "checked_in_at": None,
}

WAITLISTED_BOOKING = variant(
    BOOKING, id=43, status="waitlisted", status_label="候补中", waitlist_position=3, confirmed_at=None
)

CANCELLED_BOOKING = variant(
    BOOKING, status="cancelled", status_label="已取消", cancelled_at="2026-12-01T19:05:00+08:00"
)

SPACE_RESERVATION = {
    "id": 57,
    "place": PLACE,
    "organization": {"id": 3, "name": "静安国际中心联合党支部"},
    "purpose": "支部主题党日",
    "attendees": 25,
    "starts_at": "2026-12-15T18:30:00+08:00",
    "ends_at": "2026-12-15T20:00:00+08:00",
    "status": "approved",
    "status_label": "已批准",
    "decided_at": "2026-12-02T10:00:00+08:00",
    "decision_note": "",
    "created_at": "2026-12-01T16:20:00+08:00",
}

PARTNER = {
    "id": 3,
    "name": "中环居委会",
    "kind": "neighbourhood_committee",
    "kind_label": "居委会",
    "street": {"id": 31, "name": "长寿路街道"},
    "district": {"id": 3, "name": "普陀区"},
    "address": "长寿路999弄1号",
    "contact_name": "周书记",
    "phone": "139****5678",
}

AGREEMENT = {
    "id": 1,
    "title": "“1℃”空间共建协议",
    "partner": {"id": 3, "name": "中环居委会"},
    "street": {"id": 31, "name": "长寿路街道"},
    "buildings": [{"id": 40, "name": "长寿路中环广场"}],
    "starts_on": "2026-05-21",
    "ends_on": "2027-05-20",
    "status": "active",
    "status_label": "履行中",
    "commitments": [
        {"id": 1, "side": "community", "side_label": "社区方", "text": "社区长者食堂向外卖骑手开放"},
        {"id": 2, "side": "building", "side_label": "楼宇方", "text": "骑手与社区老人结对陪伴"},
    ],
}

COMMUNITY = {
    "active_agreements": 12,
    "community_places_open_to_buildings": 20,
    "building_stations_open_to_community": 7,
    "volunteer_hours": "1520.5",
    "volunteer_attendances": 760,
    "residents_served": 85,
    "members_reported": 240,
}

VOLUNTEER_HOURS = [
    {"key": "2026-11", "label": "2026-11", "hours": "128.0", "attendances": 64, "volunteers": 21},
    {"key": "2026-12", "label": "2026-12", "hours": "36.5", "attendances": 18, "volunteers": 9},
]
