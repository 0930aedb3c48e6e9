"""Serializers for stations, spaces, events, bookings, space reservations and the statistics."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api import ChoiceLabelField, FastRepresentationMixin, IdListQueryField, RefSerializer
from core.api import examples as ex
from core.scoping import has_staff_scope
from members.api.serializers import visible_ref
from services.models import Booking, Event, ServiceStation, Space, SpaceReservation


class BuildingRefSerializer(RefSerializer):
    address = serializers.CharField(read_only=True)


@extend_schema_serializer(examples=[ex.response_example("党群服务站", ex.STATION)])
class ServiceStationSerializer(serializers.ModelSerializer):
    building = BuildingRefSerializer(read_only=True, allow_null=True)
    partner = BuildingRefSerializer(read_only=True, allow_null=True, help_text=_("共建单位（社区场所）"))
    street = RefSerializer(read_only=True)
    district = RefSerializer(source="street.district", read_only=True)
    space_count = serializers.IntegerField(read_only=True, help_text=_("空间数"))

    class Meta:
        model = ServiceStation
        fields = [
            "id",
            "name",
            "building",
            "partner",
            "street",
            "district",
            "floor",
            "area_m2",
            "opening_hours",
            "phone",
            "description",
            "is_active",
            "space_count",
        ]
        read_only_fields = fields


@extend_schema_serializer(examples=[ex.response_example("空间", ex.SPACE)])
class SpaceSerializer(serializers.ModelSerializer):
    function_label = ChoiceLabelField("function")
    station = RefSerializer(read_only=True)
    building = BuildingRefSerializer(source="station.building", read_only=True, allow_null=True)
    partner = BuildingRefSerializer(source="station.partner", read_only=True, allow_null=True)
    street = RefSerializer(source="station.street", read_only=True)
    district = RefSerializer(source="station.street.district", read_only=True)

    class Meta:
        model = Space
        fields = [
            "id",
            "name",
            "function",
            "function_label",
            "capacity",
            "station",
            "building",
            "partner",
            "street",
            "district",
        ]
        read_only_fields = fields


class PlaceSerializer(FastRepresentationMixin, serializers.Serializer):
    """Where an event or reservation takes place, from the space up to the district."""

    space = RefSerializer(read_only=True)
    station = RefSerializer(source="space.station", read_only=True)
    building = BuildingRefSerializer(source="space.station.building", read_only=True, allow_null=True)
    partner = BuildingRefSerializer(source="space.station.partner", read_only=True, allow_null=True)
    street = RefSerializer(source="space.station.street", read_only=True)
    district = RefSerializer(source="space.station.street.district", read_only=True)


@extend_schema_serializer(examples=[ex.response_example("活动", ex.EVENT)])
class EventSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    kind_label = ChoiceLabelField("kind")
    audience_label = ChoiceLabelField("audience")
    status_label = ChoiceLabelField("status")
    place = PlaceSerializer(source="*", read_only=True)
    organizer = serializers.SerializerMethodField(
        help_text=_("主办党组织；不在本人管辖范围内时为 null（员工看到的公开活动与网站活动页一样写明主办方）")
    )
    seats_left = serializers.IntegerField(read_only=True, help_text=_("剩余名额"))

    class Meta:
        model = Event
        fields = [
            "id",
            "title",
            "kind",
            "kind_label",
            "description",
            "speaker",
            "organizer",
            "place",
            "starts_at",
            "ends_at",
            "capacity",
            "waitlist_limit",
            "audience",
            "audience_label",
            "booking_opens_at",
            "booking_closes_at",
            "cancel_deadline",
            "status",
            "status_label",
            "confirmed_count",
            "waitlist_count",
            "seats_left",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_organizer(self, obj) -> dict | None:
        organizer = obj.organizer
        if organizer is None:
            return None
        request = self.context.get("request")
        if not has_staff_scope(getattr(request, "user", None)):
            # People without a territory are shown public events only, and the portal's
            # event page names their organizer to everyone.
            return {"id": organizer.pk, "name": str(organizer.name)}
        return visible_ref(self.context, organizer, organizer.street)


class EventBriefSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    kind_label = ChoiceLabelField("kind")
    status_label = ChoiceLabelField("status")
    place = PlaceSerializer(source="*", read_only=True)

    class Meta:
        model = Event
        fields = [
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
        ]
        read_only_fields = fields


class BookerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.display_name


@extend_schema_serializer(
    examples=[ex.response_example("已确认", ex.BOOKING), ex.response_example("候补中", ex.WAITLISTED_BOOKING)]
)
class BookingSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    status_label = ChoiceLabelField("status")
    waitlist_position = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("候补中时的排位（从 1 开始，先到先得）；否则为 null")
    )
    event = EventBriefSerializer(read_only=True)
    user = BookerSerializer(read_only=True)
    is_mine = serializers.SerializerMethodField(help_text=_("是本人的预约"))

    class Meta:
        model = Booking
        fields = [
            "id",
            "status",
            "status_label",
            "waitlist_position",
            "is_mine",
            "event",
            "user",
            "created_at",
            "confirmed_at",
            "cancelled_at",
            "checked_in_at",
        ]
        read_only_fields = fields

    def get_is_mine(self, obj) -> bool:
        request = self.context.get("request")
        return bool(request and obj.user_id == request.user.pk)


@extend_schema_serializer(examples=[ex.response_example("场地预约", ex.SPACE_RESERVATION)])
class SpaceReservationSerializer(serializers.ModelSerializer):
    status_label = ChoiceLabelField("status")
    place = PlaceSerializer(source="*", read_only=True)
    organization = serializers.SerializerMethodField(help_text=_("申请的党组织；不在本人管辖范围内时为 null"))

    class Meta:
        model = SpaceReservation
        fields = [
            "id",
            "place",
            "organization",
            "purpose",
            "attendees",
            "starts_at",
            "ends_at",
            "status",
            "status_label",
            "decided_at",
            "decision_note",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_organization(self, obj) -> dict | None:
        return visible_ref(self.context, obj.organization, obj.organization.street)


# --- Statistics (services/stats.py) -------------------------------------------------------------


class CoverageFiguresSerializer(serializers.Serializer):
    buildings = serializers.IntegerField(help_text=_("楼宇数"))
    key_buildings = serializers.IntegerField(help_text=_("重点楼宇数"))
    key_buildings_with_party_organization = serializers.IntegerField(help_text=_("已建党组织的重点楼宇数"))
    coverage_percent = serializers.FloatField(
        allow_null=True, help_text=_("重点楼宇党组织覆盖率（%），没有重点楼宇时为 null")
    )
    party_organizations = serializers.IntegerField(help_text=_("楼宇党组织数"))
    employees = serializers.IntegerField(help_text=_("从业人员数（各楼宇之和）"))
    party_members = serializers.IntegerField(help_text=_("党员数（在册）"))
    party_member_share_percent = serializers.FloatField(
        allow_null=True, help_text=_("党员占从业人员比例（%）")
    )
    committees = serializers.IntegerField(help_text=_("已成立楼委会数"))


class CoverageDistrictSerializer(CoverageFiguresSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()


class CoverageStreetSerializer(CoverageFiguresSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    district = RefSerializer()


class CoverageSerializer(serializers.Serializer):
    scope = serializers.CharField(help_text=_("统计范围：全市，或本人管辖的区/街道"))
    total = CoverageFiguresSerializer(help_text=_("统计范围内合计"))
    districts = CoverageDistrictSerializer(many=True)
    streets = CoverageStreetSerializer(many=True)


class ActivityFiguresSerializer(serializers.Serializer):
    events = serializers.IntegerField(help_text=_("举办的活动数（已发布）"))
    capacity = serializers.IntegerField(help_text=_("名额合计"))
    bookings = serializers.IntegerField(help_text=_("预约数（不含已取消，含候补）"))
    waitlisted = serializers.IntegerField(help_text=_("候补中"))
    cancelled = serializers.IntegerField(help_text=_("已取消"))
    attended = serializers.IntegerField(help_text=_("已签到"))
    no_show = serializers.IntegerField(help_text=_("未到场"))
    attendance_rate = serializers.FloatField(
        allow_null=True, help_text=_("到场率（%）= 已签到 ÷（已签到 + 未到场）")
    )
    no_show_rate = serializers.FloatField(
        allow_null=True, help_text=_("缺席率（%）= 未到场 ÷（已签到 + 未到场）")
    )


class ActivityMonthSerializer(ActivityFiguresSerializer):
    month = serializers.CharField(help_text=_("月份，YYYY-MM（上海时间）"))


class ActivityKindSerializer(ActivityFiguresSerializer):
    kind = serializers.ChoiceField(choices=Event.Kind.choices)
    kind_label = serializers.CharField()


class ActivityRowSerializer(ActivityFiguresSerializer):
    month = serializers.CharField()
    kind = serializers.ChoiceField(choices=Event.Kind.choices)
    kind_label = serializers.CharField()


class ActivitySerializer(serializers.Serializer):
    scope = serializers.CharField()
    total = ActivityFiguresSerializer()
    by_month = ActivityMonthSerializer(many=True)
    by_kind = ActivityKindSerializer(many=True)
    rows = ActivityRowSerializer(many=True, help_text=_("按月份和活动类型"))


class CoverageQuerySerializer(serializers.Serializer):
    district = IdListQueryField(required=False)
    street = IdListQueryField(required=False)


class ActivityQuerySerializer(CoverageQuerySerializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    kind = serializers.MultipleChoiceField(choices=Event.Kind.choices, required=False)

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and end < start:
            raise serializers.ValidationError({"date_to": [_("结束日期不能早于开始日期。")]})
        return attrs
