"""Serializers for building committees with their seats (read-only through the API)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from committees.models import (
    Agreement,
    AgreementCommitment,
    BuildingCommittee,
    CommitteeMeeting,
    CommitteeSeat,
    Demand,
    EnterpriseRiskOverride,
    MeetingResolution,
    Visit,
)
from committees.risk import annotated_colour
from core.api import ChoiceLabelField, MaskedField, RefSerializer
from core.api import examples as ex
from members.api.serializers import visible_ref


class CommitteeSeatSerializer(serializers.ModelSerializer):
    role_label = ChoiceLabelField("role")
    phone = MaskedField(help_text=_("联系电话；无完整查看权限时打码"))
    member = serializers.SerializerMethodField(help_text=_("关联党员；不在本人管辖范围内时为 null"))
    is_current = serializers.SerializerMethodField(help_text=_("今天在任"))

    class Meta:
        model = CommitteeSeat
        fields = [
            "id",
            "role",
            "role_label",
            "person_name",
            "phone",
            "affiliation",
            "floor",
            "member",
            "starts_on",
            "ends_on",
            "is_current",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_member(self, obj) -> dict | None:
        return visible_ref(
            self.context, obj.member, obj.member.organization.street if obj.member_id else None
        )

    def get_is_current(self, obj) -> bool:
        today = self.context.setdefault("today", timezone.localdate())
        return obj.starts_on <= today and (obj.ends_on is None or obj.ends_on > today)


@extend_schema_serializer(examples=[ex.response_example("楼委会", ex.COMMITTEE)])
class BuildingCommitteeSerializer(serializers.ModelSerializer):
    building = RefSerializer(read_only=True)
    street = RefSerializer(source="building.street", read_only=True)
    district = RefSerializer(source="building.street.district", read_only=True)
    is_key_building = serializers.BooleanField(source="building.is_key_building", read_only=True)
    seats = CommitteeSeatSerializer(many=True, read_only=True)

    class Meta:
        model = BuildingCommittee
        fields = [
            "id",
            "building",
            "street",
            "district",
            "is_key_building",
            "founded_on",
            "term_starts_on",
            "term_ends_on",
            "seats",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


DEMAND_EXAMPLE = {
    "id": 301,
    "title": "3号电梯频繁停运",
    "description": "早高峰3号电梯每天停运，员工上班排队半小时。",
    "state": "in_progress",
    "state_label": "办理中",
    "building": {"id": 21, "name": "静安国际中心"},
    "street": ex.STREET_REF,
    "enterprise": {"id": 58, "name": "上海云启信息科技有限公司"},
    "category": {"id": 1, "name": "物业设施"},
    "handler_kind": "seat",
    "handler_kind_label": "楼委会成员",
    "handler": "物业负责人 王建国",
    "deadline": "2026-10-12",
    "is_overdue": False,
    "submitted_at": "2026-09-29T10:15:00+08:00",
    "resolution": "",
    "resolved_at": None,
    "decline_reason": "",
    "closed_at": None,
    "rating": None,
    "rating_comment": "",
    "raised_during_visit": False,
}
VISIT_EXAMPLE = {
    "id": 77,
    "enterprise": {"id": 58, "name": "上海云启信息科技有限公司"},
    "building": {"id": 21, "name": "静安国际中心"},
    "street": ex.STREET_REF,
    "visited_on": "2026-11-02",
    "visited_by": "李社工",
    "companions": "楼长 张明",
    "met_with": "人事经理",
    "topics": "了解人才落户和员工通勤需求",
    "demand_count": 1,
}
FIGURES_EXAMPLE = {
    "received": 12,
    "resolved": 9,
    "resolution_rate": 75.0,
    "median_days_to_resolve": 4.5,
    "overdue_now": 1,
    "average_rating": 4.6,
}
DEMAND_STATS_EXAMPLE = {
    "total": FIGURES_EXAMPLE,
    "streets": [{"id": 4, "name": "南京西路街道", **FIGURES_EXAMPLE}],
    "categories": [{"id": 1, "name": "物业设施", **FIGURES_EXAMPLE}],
}


@extend_schema_serializer(examples=[ex.response_example("企业诉求", DEMAND_EXAMPLE)])
class DemandSerializer(serializers.ModelSerializer):
    """A demand as the district reads it; the person who raised it is not named."""

    building = RefSerializer(read_only=True)
    street = RefSerializer(source="building.street", read_only=True)
    enterprise = RefSerializer(read_only=True)
    category = RefSerializer(read_only=True)
    state_label = ChoiceLabelField("state")
    handler_kind = serializers.ChoiceField(
        choices=Demand.HandlerKind.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("承办方类型；未交办时为空"),
    )
    handler_kind_label = ChoiceLabelField("handler_kind")
    handler = serializers.SerializerMethodField(help_text=_("承办方：楼委会成员的职务和姓名，或部门名称"))
    is_overdue = serializers.SerializerMethodField(help_text=_("未办结且已过办理时限"))
    raised_during_visit = serializers.SerializerMethodField(help_text=_("走访中代为提出"))

    class Meta:
        model = Demand
        fields = [
            "id",
            "title",
            "description",
            "state",
            "state_label",
            "building",
            "street",
            "enterprise",
            "category",
            "handler_kind",
            "handler_kind_label",
            "handler",
            "deadline",
            "is_overdue",
            "submitted_at",
            "resolution",
            "resolved_at",
            "decline_reason",
            "closed_at",
            "rating",
            "rating_comment",
            "raised_during_visit",
        ]
        read_only_fields = fields

    def get_handler(self, obj) -> str:
        if obj.handler_seat_id:
            return str(obj.handler_seat)
        return obj.handler_department

    def get_is_overdue(self, obj) -> bool:
        today = self.context.setdefault("today", timezone.localdate())
        return obj.state in Demand.OPEN_STATES and obj.deadline < today

    def get_raised_during_visit(self, obj) -> bool:
        return obj.visit_id is not None


@extend_schema_serializer(examples=[ex.response_example("企业走访", VISIT_EXAMPLE)])
class VisitSerializer(serializers.ModelSerializer):
    enterprise = RefSerializer(read_only=True)
    building = RefSerializer(source="enterprise.building", read_only=True)
    street = RefSerializer(source="enterprise.building.street", read_only=True)
    visited_by = serializers.SerializerMethodField(help_text=_("走访人姓名"))
    demand_count = serializers.IntegerField(
        source="_demand_count", read_only=True, help_text=_("走访中提出的诉求数")
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "enterprise",
            "building",
            "street",
            "visited_on",
            "visited_by",
            "companions",
            "met_with",
            "topics",
            "demand_count",
        ]
        read_only_fields = fields

    def get_visited_by(self, obj) -> str:
        return obj.visited_by.get_full_name() or obj.visited_by.username


class DemandFiguresSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    resolved = serializers.IntegerField()
    resolution_rate = serializers.FloatField(allow_null=True, help_text=_("已办结 ÷ 收到，百分比"))
    median_days_to_resolve = serializers.FloatField(allow_null=True, help_text=_("提交到办结的天数中位数"))
    overdue_now = serializers.IntegerField()
    average_rating = serializers.FloatField(allow_null=True)


class DemandFiguresRowSerializer(DemandFiguresSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_serializer(examples=[ex.response_example("诉求统计", DEMAND_STATS_EXAMPLE)])
class DemandStatsSerializer(serializers.Serializer):
    total = DemandFiguresSerializer()
    streets = DemandFiguresRowSerializer(many=True)
    categories = DemandFiguresRowSerializer(many=True)


class AgreementCommitmentSerializer(serializers.ModelSerializer):
    side_label = ChoiceLabelField("side")

    class Meta:
        model = AgreementCommitment
        fields = ["id", "side", "side_label", "text"]
        read_only_fields = fields


@extend_schema_serializer(examples=[ex.response_example("共建协议", ex.AGREEMENT)])
class AgreementSerializer(serializers.ModelSerializer):
    """共建协议 with its partner, building committees (by building) and each side's commitments."""

    status_label = ChoiceLabelField("status")
    partner = RefSerializer(read_only=True)
    street = RefSerializer(source="partner.street", read_only=True)
    buildings = serializers.SerializerMethodField(help_text=_("参与共建的楼委会所在楼宇"))
    commitments = AgreementCommitmentSerializer(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "title",
            "partner",
            "street",
            "buildings",
            "starts_on",
            "ends_on",
            "status",
            "status_label",
            "commitments",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(many=True))
    def get_buildings(self, obj) -> list[dict]:
        return [{"id": c.building.pk, "name": c.building.name} for c in obj.committees.all()]


ENTERPRISE_RISK_EXAMPLE = {
    "id": 42,
    "name": "上海示例科技有限公司",
    "building": {"id": 7, "name": "静安嘉里中心"},
    "colour": "orange",
    "colour_label": "橙",
    "computed_colour": "yellow",
    "override": {"colour": "orange", "reason": "企业拟迁出，已约谈。", "set_at": "2026-11-16T10:00:00+08:00"},
}


class RiskOverrideSerializer(serializers.Serializer):
    colour = serializers.CharField(help_text=_("调整后的风险色"))
    reason = serializers.CharField(help_text=_("调整理由"))
    set_at = serializers.DateTimeField(help_text=_("调整时间"))


@extend_schema_serializer(examples=[ex.response_example("企业风险色", ENTERPRISE_RISK_EXAMPLE)])
class EnterpriseRiskSerializer(serializers.Serializer):
    """An enterprise's risk colour: the one shown (override or computed), the computed one, the override."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    building = RefSerializer(read_only=True)
    colour = serializers.SerializerMethodField(help_text=_("显示的风险色：有人工调整时为调整后的颜色"))
    colour_label = serializers.SerializerMethodField(help_text=_("风险色名称"))
    computed_colour = serializers.SerializerMethodField(help_text=_("按未办结、超期和风险信号诉求算出的颜色"))
    override = serializers.SerializerMethodField(help_text=_("社工的人工调整；没有时为空"))

    def _computed(self, obj) -> str:
        return annotated_colour(obj)  # the view annotates the counts (committees/risk.py)

    def _override(self, obj):
        return getattr(obj, "risk_override", None)

    def get_colour(self, obj) -> str:
        override = self._override(obj)
        return override.colour if override else self._computed(obj)

    def get_colour_label(self, obj) -> str:
        return str(dict(EnterpriseRiskOverride.Colour.choices)[self.get_colour(obj)])

    def get_computed_colour(self, obj) -> str:
        return self._computed(obj)

    @extend_schema_field(RiskOverrideSerializer(allow_null=True))
    def get_override(self, obj):
        override = self._override(obj)
        if override is None:
            return None
        return RiskOverrideSerializer(override).data


class MeetingSeatSerializer(serializers.ModelSerializer):
    """A seat holder at a meeting (no phone: the committee endpoint has it, masked)."""

    role_label = ChoiceLabelField("role")

    class Meta:
        model = CommitteeSeat
        fields = ["id", "role", "role_label", "person_name"]
        read_only_fields = fields


class AgendaDemandSerializer(serializers.ModelSerializer):
    state_label = ChoiceLabelField("state")

    class Meta:
        model = Demand
        fields = ["id", "title", "state", "state_label"]
        read_only_fields = fields


class MeetingResolutionSerializer(serializers.ModelSerializer):
    owner = MeetingSeatSerializer(read_only=True, help_text=_("责任人（楼委会成员）"))
    demand = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("相关诉求编号；无则为 null")
    )

    class Meta:
        model = MeetingResolution
        fields = ["id", "text", "demand", "owner", "due_on", "done_on"]
        read_only_fields = fields


MEETING_EXAMPLE = {
    "id": 12,
    "committee": 5,
    "building": {"id": 21, "name": "静安国际中心"},
    "street": ex.STREET_REF,
    "held_on": "2026-11-10",
    "topic": "第四季度楼事会",
    "minutes": "研究3号电梯故障和停车位紧张问题。",
    "attendees": [
        {"id": 31, "role": "building_chief", "role_label": "楼长", "person_name": "张明"},
        {"id": 33, "role": "member", "role_label": "委员", "person_name": "李建国"},
    ],
    "agenda": [{"id": 140, "title": "3号电梯经常停运", "state": "assigned", "state_label": "已交办"}],
    "resolutions": [
        {
            "id": 7,
            "text": "物业一周内更换3号电梯控制板",
            "demand": 140,
            "owner": {"id": 33, "role": "member", "role_label": "委员", "person_name": "李建国"},
            "due_on": "2026-11-17",
            "done_on": None,
        }
    ],
}


@extend_schema_serializer(examples=[ex.response_example("楼事会", MEETING_EXAMPLE)])
class CommitteeMeetingSerializer(serializers.ModelSerializer):
    building = RefSerializer(source="committee.building", read_only=True)
    street = RefSerializer(source="committee.building.street", read_only=True)
    attendees = MeetingSeatSerializer(many=True, read_only=True, help_text=_("出席成员"))
    agenda = AgendaDemandSerializer(many=True, read_only=True, help_text=_("议程中的诉求"))
    resolutions = MeetingResolutionSerializer(many=True, read_only=True, help_text=_("决议"))

    class Meta:
        model = CommitteeMeeting
        fields = [
            "id",
            "committee",
            "building",
            "street",
            "held_on",
            "topic",
            "minutes",
            "attendees",
            "agenda",
            "resolutions",
        ]
        read_only_fields = fields
