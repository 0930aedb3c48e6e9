"""API views for stations, spaces, events, bookings, space reservations and the statistics.

Who sees what:

* people with a territory (superuser, district staff, street social workers):
  every record of these kinds inside their territory;
* everyone else who is logged in (employees): published (and cancelled)
  events everywhere, the open stations and their spaces — what the portal
  shows — and their own bookings; space reservations and statistics are not
  theirs (403);
* bookings: one's own, plus for people with a territory the bookings of events
  in it, except counselling bookings (confidential) unless they hold
  ``services.view_confidential``.

Booking and cancelling call services/booking.py; a refused rule is a 409 with
``{"code", "detail"}``.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ApiViewSetMixin, ErrorSerializer, HasTerritory, csv_attachment, without_blanks
from core.api import examples as ex
from core.prepared import PreparedQuery
from core.scoping import has_staff_scope, scope_queryset
from services import community, stats
from services.booking import book_event, cancel_booking
from services.filtersets import (
    BookingFilterSet,
    EventApiFilterSet,
    ServiceStationFilterSet,
    SpaceFilterSet,
    SpaceReservationFilterSet,
)
from services.models import Booking, Event, ServiceStation, Space, SpaceReservation
from services.reservations import cancel_reservation
from services.selectors import booking_list, reservation_list, waitlist_position

from .serializers import (
    ActivityQuerySerializer,
    ActivitySerializer,
    BookingSerializer,
    CoverageQuerySerializer,
    CoverageSerializer,
    EventSerializer,
    ServiceStationSerializer,
    SpaceReservationSerializer,
    SpaceSerializer,
)

PLACE = ("space__station__street__district", "space__station__building", "space__station__partner")
PUBLIC_EVENT_STATUSES = [Event.Status.PUBLISHED, Event.Status.CANCELLED]
_PUBLIC_EVENT = PreparedQuery(
    lambda pk: Event.objects.select_related(*PLACE, "organizer__street").filter(
        status__in=PUBLIC_EVENT_STATUSES, pk=pk
    )[:2]
)


def _territory_or(qs, user, public: Q):
    """Rows in the user's territory; for people without one, the public rows."""
    if has_staff_scope(user):
        return scope_queryset(qs, user)
    return qs.filter(public)


@extend_schema_view(
    list=extend_schema(
        summary=_("党群服务站列表"),
        description=_("员工看到开放中的服务站；工作人员看到本人管辖范围内的全部服务站。"),
    ),
    retrieve=extend_schema(summary=_("党群服务站详情")),
)
class ServiceStationViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ServiceStation.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = ServiceStationSerializer
    filterset_class = ServiceStationFilterSet
    permission_classes = [permissions.IsAuthenticated]
    search_fields = ["name", "building__name", "building__address", "partner__name", "partner__address"]
    ordering_fields = ["name", "id", "area_m2", "floor"]
    ordering = ["street_id", "building_id", "name"]

    def get_queryset(self):
        qs = ServiceStation.objects.select_related("street__district", "building", "partner").annotate(
            space_count=Count("spaces")
        )
        return _territory_or(qs, self.request.user, Q(is_active=True))


@extend_schema_view(
    list=extend_schema(summary=_("空间列表")),
    retrieve=extend_schema(summary=_("空间详情")),
)
class SpaceViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Space.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = SpaceSerializer
    filterset_class = SpaceFilterSet
    permission_classes = [permissions.IsAuthenticated]
    search_fields = ["name", "station__name"]
    ordering_fields = ["name", "id", "capacity"]
    ordering = ["station_id", "name"]

    def get_queryset(self):
        qs = Space.objects.select_related(
            "station__street__district", "station__building", "station__partner"
        )
        return _territory_or(qs, self.request.user, Q(station__is_active=True))


@extend_schema_view(
    list=extend_schema(
        summary=_("活动列表"),
        description=_("员工看到已发布（及已取消）的活动；工作人员看到本人管辖范围内的全部活动（含草稿）。"),
    ),
    retrieve=extend_schema(summary=_("活动详情")),
)
class EventViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Event.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = EventSerializer
    filterset_class = EventApiFilterSet
    permission_classes = [permissions.IsAuthenticated]
    search_fields = ["title", "speaker", "description"]
    ordering_fields = ["starts_at", "id", "title", "capacity", "confirmed_count"]
    ordering = ["starts_at", "id"]

    def get_queryset(self):
        qs = Event.objects.select_related(*PLACE, "organizer__street")
        return _territory_or(qs, self.request.user, Q(status__in=PUBLIC_EVENT_STATUSES))

    def _event_to_book(self) -> Event:
        """``get_object()``; for people without a territory (the employees of a rush) the same
        row through a query built once per process (core.prepared): their queryset is the
        public events, the same for all of them."""
        if has_staff_scope(self.request.user):
            return self.get_object()
        event = _PUBLIC_EVENT.first(int(self.kwargs[self.lookup_url_kwarg or self.lookup_field]))
        if event is None:
            raise Http404
        self.check_object_permissions(self.request, event)
        return event

    @extend_schema(
        summary=_("预约活动"),
        description=_(
            "为当前用户预约该活动：有空位则 confirmed，否则进入候补 waitlisted（waitlist_position 为排位），"
            "候补已满等规则不允许时返回 409，body 为 {code, detail}。不需要请求体。"
        ),
        request=None,
        responses={
            201: BookingSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description=_(
                    "规则不允许：booking_not_open、booking_closed、event_cancelled、event_draft、"
                    "event_past、members_only、already_booked、waitlist_full"
                ),
                examples=[
                    OpenApiExample(
                        "waitlist_full",
                        value={"code": "waitlist_full", "detail": "名额已满，候补人数也已达上限。"},
                        status_codes=["409"],
                    ),
                    OpenApiExample(
                        "already_booked",
                        value={"code": "already_booked", "detail": "您已预约过该活动。"},
                        status_codes=["409"],
                    ),
                ],
            ),
        },
        examples=[
            ex.response_example("confirmed", ex.BOOKING, status_codes=("201",)),
            ex.response_example("waitlisted", ex.WAITLISTED_BOOKING, status_codes=("201",)),
        ],
    )
    @action(detail=True, methods=["post"], url_path="bookings", filterset_class=None, pagination_class=None)
    def book(self, request, pk=None):
        event = self._event_to_book()
        booking = book_event(user=request.user, event=event)
        # The answer from what is at hand (no second read of the booking): the engine returns
        # the booking as inserted and has updated ``event``'s counters; the event's place came
        # with get_object(). Only a waitlisted booking's position is read (None otherwise).
        booking.event, booking.user = event, request.user
        booking.waitlist_position = waitlist_position(booking)
        data = BookingSerializer(booking, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary=_("预约列表"),
        description=_(
            "本人的预约；街道社工、区级工作人员还看到本人管辖范围内活动的预约（心理咨询预约保密，不显示）。"
            "用 mine=true 只看本人的。"
        ),
    ),
    retrieve=extend_schema(summary=_("预约详情")),
)
class BookingViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Booking.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = BookingSerializer
    filterset_class = BookingFilterSet
    permission_classes = [permissions.IsAuthenticated]
    search_fields = ["event__title"]
    ordering_fields = ["created_at", "id", "event__starts_at", "status"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return booking_list(user=self.request.user)

    @extend_schema(
        summary=_("取消预约"),
        description=_(
            "取消本人的预约；空出的名额在同一事务中给候补第一位。过了取消截止时间等返回 409。"
            "他人的预约返回 403（工作人员请在管理后台办理）。不需要请求体。"
        ),
        request=None,
        responses={
            200: BookingSerializer,
            403: OpenApiResponse(
                ErrorSerializer,
                description=_("不是本人的预约（code: not_owner）"),
                examples=[
                    OpenApiExample(
                        "not_owner",
                        value={"code": "not_owner", "detail": "只能取消本人的预约。"},
                        status_codes=["403"],
                    )
                ],
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description=_("规则不允许：cancel_deadline_passed、not_cancellable、event_past"),
                examples=[
                    OpenApiExample(
                        "cancel_deadline_passed",
                        value={
                            "code": "cancel_deadline_passed",
                            "detail": "已过取消截止时间（2026-12-01 08:00），不能取消。如确有困难，请联系服务站。",
                        },
                        status_codes=["409"],
                    )
                ],
            ),
        },
        examples=[ex.response_example("cancelled", ex.CANCELLED_BOOKING, status_codes=("200",))],
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def cancel(self, request, pk=None):
        booking = self.get_object()
        if booking.user_id != request.user.pk:
            raise exceptions.PermissionDenied(_("只能取消本人的预约。"), code="not_owner")
        cancel_booking(booking=booking, by=request.user)
        booking = self.get_queryset().get(pk=booking.pk)
        return Response(self.get_serializer(booking).data)


@extend_schema_view(
    list=extend_schema(summary=_("场地预约列表")),
    retrieve=extend_schema(summary=_("场地预约详情")),
)
class SpaceReservationViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = SpaceReservation.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = SpaceReservationSerializer
    filterset_class = SpaceReservationFilterSet
    # Staff see their territory's; a party organization's secretary (an employee) sees and
    # withdraws their organization's (services.selectors.reservation_list).
    permission_classes = [permissions.IsAuthenticated]
    search_fields = ["purpose", "organization__name"]
    ordering_fields = ["starts_at", "id", "created_at", "attendees"]
    ordering = ["starts_at", "id"]

    def get_queryset(self):
        return reservation_list(user=self.request.user)

    @extend_schema(
        summary=_("撤销场地预约"),
        description=_(
            "撤销申请或退回已批准的时段（场地随即空出）。申请人、该党组织书记和负责该服务站的社工可以撤销；"
            "时段结束后不能撤销（409）。"
        ),
        request=None,
        responses={200: SpaceReservationSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def cancel(self, request, pk=None):
        reservation = cancel_reservation(reservation=self.get_object(), by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=reservation.pk)).data)


# --- Statistics ---------------------------------------------------------------------------------

ID_LIST = OpenApiTypes.STR
_COVERAGE_EXAMPLE = {
    "buildings": 8,
    "key_buildings": 5,
    "key_buildings_with_party_organization": 4,
    "coverage_percent": 80.0,
    "party_organizations": 12,
    "employees": 19720,
    "party_members": 54,
    "party_member_share_percent": 0.3,
    "committees": 4,
}
_ACTIVITY_EXAMPLE = {
    "events": 1,
    "capacity": 40,
    "bookings": 22,
    "waitlisted": 0,
    "cancelled": 2,
    "attended": 18,
    "no_show": 4,
    "attendance_rate": 81.8,
    "no_show_rate": 18.2,
}
STATS_TERRITORY_PARAMETERS = [
    OpenApiParameter(
        "district",
        ID_LIST,
        description=_("区编号，可多个，逗号分隔"),
        examples=[OpenApiExample("one", value="1")],
    ),
    OpenApiParameter("street", ID_LIST, description=_("街道编号，可多个，逗号分隔")),
]


def _csv_requested(request) -> bool:
    return getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv"


class CoverageView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasTerritory]

    @extend_schema(
        summary=_("党建覆盖统计"),
        description=_(
            "本人管辖范围内（市级为全市）的合计、各区、各街道：楼宇、重点楼宇、已建党组织的重点楼宇及覆盖率、"
            "楼宇党组织、从业人员、党员及其占比、已成立楼委会。“已建党组织”指有党组织覆盖该楼宇，"
            "或楼内企业单独组建了党组织。?format=csv 输出每个区、街道一行。"
        ),
        parameters=STATS_TERRITORY_PARAMETERS,
        responses={200: CoverageSerializer},
        examples=[
            OpenApiExample(
                "区级密钥",
                response_only=True,
                value={
                    "scope": "静安区",
                    "total": _COVERAGE_EXAMPLE,
                    "districts": [{"id": 1, "name": "静安区", "code": "310106", **_COVERAGE_EXAMPLE}],
                    "streets": [
                        {
                            "id": 4,
                            "name": "南京西路街道",
                            "district": {"id": 1, "name": "静安区"},
                            **_COVERAGE_EXAMPLE,
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request):
        query = CoverageQuerySerializer(data=without_blanks(request.query_params))
        query.is_valid(raise_exception=True)
        data = stats.coverage(
            user=request.user,
            district_ids=query.validated_data.get("district"),
            street_ids=query.validated_data.get("street"),
        )
        if _csv_requested(request):
            rows = [{"level": "total", "name": data["scope"], **data["total"]}]
            rows += [{"level": "district", **row} for row in data["districts"]]
            rows += [{"level": "street", **row} for row in data["streets"]]
            return csv_attachment(rows, "coverage")
        return Response(data)


class ActivityView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasTerritory]

    @extend_schema(
        summary=_("活动统计"),
        description=_(
            "本人管辖范围内已发布活动按月份（上海时间）和类型统计：活动数、名额、预约、候补、取消、签到、未到场，"
            "到场率 = 已签到 ÷（已签到 + 未到场），缺席率 = 未到场 ÷（已签到 + 未到场）。"
            "按活动开始日期筛选。?format=csv 输出每月每类一行。"
        ),
        parameters=[
            *STATS_TERRITORY_PARAMETERS,
            OpenApiParameter("date_from", OpenApiTypes.DATE, description=_("活动开始日期从（含）")),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description=_("活动开始日期到（含）")),
            OpenApiParameter(
                "kind",
                {"type": "array", "items": {"type": "string", "enum": list(Event.Kind.values)}},
                description=_("活动类型，可重复"),
                explode=True,
            ),
        ],
        responses={200: ActivitySerializer},
        examples=[
            OpenApiExample(
                "按月按类型",
                response_only=True,
                value={
                    "scope": "静安区",
                    "total": _ACTIVITY_EXAMPLE,
                    "by_month": [{"month": "2026-11", **_ACTIVITY_EXAMPLE}],
                    "by_kind": [{"kind": "party_class", "kind_label": "党课", **_ACTIVITY_EXAMPLE}],
                    "rows": [
                        {"month": "2026-11", "kind": "party_class", "kind_label": "党课", **_ACTIVITY_EXAMPLE}
                    ],
                },
            )
        ],
    )
    def get(self, request):
        query = ActivityQuerySerializer(data=without_blanks(request.query_params))
        query.is_valid(raise_exception=True)
        params = query.validated_data
        data = stats.activity(
            user=request.user,
            district_ids=params.get("district"),
            street_ids=params.get("street"),
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
            kinds=params.get("kind"),
        )
        if _csv_requested(request):
            return csv_attachment(data["rows"], "activity")
        return Response(data)


class VolunteerHoursQuerySerializer(serializers.Serializer):
    by = serializers.ChoiceField(
        choices=list(community.HOURS_GROUPINGS),
        default="street",
        help_text=_("按街道、楼宇、共建单位或月份汇总"),
    )
    date_from = serializers.DateField(required=False, help_text=_("记入日期从（含，上海时间）"))
    date_to = serializers.DateField(required=False, help_text=_("记入日期到（含，上海时间）"))


class VolunteerHoursRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("街道、楼宇、共建单位的编号，或月份 YYYY-MM"))
    label = serializers.CharField()
    hours = serializers.DecimalField(max_digits=12, decimal_places=1)
    attendances = serializers.IntegerField(help_text=_("记入时长的到场人次"))
    volunteers = serializers.IntegerField(help_text=_("志愿者人数（只计数，不列名单）"))


class VolunteerHoursView(APIView):
    """Volunteer hours in aggregate only: the API never lists people's hours (no rankings)."""

    permission_classes = [permissions.IsAuthenticated, HasTerritory]

    @extend_schema(
        summary=_("志愿服务时长统计"),
        description=_(
            "本人管辖范围内记入的志愿服务时长，按街道、楼宇、共建单位或月份（上海时间）汇总；"
            "只给汇总数，不列个人名单，也不排名。"
        ),
        parameters=[VolunteerHoursQuerySerializer],
        responses={200: VolunteerHoursRowSerializer(many=True)},
        examples=[OpenApiExample("按月", response_only=True, value=ex.VOLUNTEER_HOURS[0])],
    )
    def get(self, request):
        query = VolunteerHoursQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = community.volunteer_hours(user=request.user, **query.validated_data)
        return Response(VolunteerHoursRowSerializer(rows, many=True).data)


class CommunitySerializer(serializers.Serializer):
    active_agreements = serializers.IntegerField(help_text=_("履行中的共建协议"))
    community_places_open_to_buildings = serializers.IntegerField(help_text=_("向楼宇开放的社区场所"))
    building_stations_open_to_community = serializers.IntegerField(help_text=_("向社区开放活动的楼宇服务站"))
    volunteer_hours = serializers.DecimalField(max_digits=14, decimal_places=1)
    volunteer_attendances = serializers.IntegerField()
    residents_served = serializers.IntegerField(help_text=_("结对服务的社区居民"))
    members_reported = serializers.IntegerField(help_text=_("双报到党员（报到中）"))


class CommunityView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasTerritory]

    @extend_schema(
        summary=_("楼宇与社区共建统计"),
        description=_(
            "本人管辖范围内：履行中的共建协议、双向开放的场所、志愿服务时长、结对服务的居民、双报到党员。"
        ),
        responses={200: CommunitySerializer},
        examples=[OpenApiExample("区级密钥", response_only=True, value=ex.COMMUNITY)],
    )
    def get(self, request):
        return Response(CommunitySerializer(community.community_stats(user=request.user)).data)
