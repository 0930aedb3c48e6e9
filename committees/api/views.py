"""API views for building committees and their seats: read-only, inside the reader's territory."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from buildings.filtersets import EnterpriseFilterSet
from buildings.models import Enterprise
from committees import risk
from committees.filtersets import (
    AgreementFilterSet,
    BuildingCommitteeFilterSet,
    CommitteeMeetingFilterSet,
    DemandFilterSet,
    VisitFilterSet,
)
from committees.models import Agreement, BuildingCommittee, CommitteeMeeting, Demand, Visit
from committees.selectors import agreement_list, committee_list, demand_api_list, meeting_list, visit_list
from committees.stats import demand_stats
from core.api import ApiViewSetMixin, HasTerritory, IdListQueryField, csv_attachment, without_blanks
from core.scoping import scope_queryset

from .serializers import (
    AgreementSerializer,
    BuildingCommitteeSerializer,
    CommitteeMeetingSerializer,
    DemandSerializer,
    DemandStatsSerializer,
    EnterpriseRiskSerializer,
    VisitSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary=_("楼委会列表"),
        description=_("每个楼委会带全部成员（含已卸任的，is_current 标明是否在任）。"),
    ),
    retrieve=extend_schema(summary=_("楼委会详情")),
)
class BuildingCommitteeViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = BuildingCommittee.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = BuildingCommitteeSerializer
    filterset_class = BuildingCommitteeFilterSet
    search_fields = ["building__name", "seats__person_name"]
    ordering_fields = ["id", "founded_on", "term_ends_on", "building__name"]
    ordering = ["building__name"]

    def get_queryset(self):
        return committee_list(user=self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary=_("企业诉求列表"),
        description=_("本人管辖范围内的企业诉求（不含提出人信息）。?format=csv 导出。"),
    ),
    retrieve=extend_schema(summary=_("企业诉求详情")),
)
class DemandViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Demand.objects.none()
    serializer_class = DemandSerializer
    filterset_class = DemandFilterSet
    search_fields = ["title", "enterprise__name", "building__name"]
    ordering_fields = ["id", "submitted_at", "deadline", "state"]
    ordering = ["-submitted_at", "-id"]

    def get_queryset(self):
        return demand_api_list(user=self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary=_("企业走访列表"), description=_("本人管辖范围内的企业走访。?format=csv 导出。")
    ),
    retrieve=extend_schema(summary=_("企业走访详情")),
)
class VisitViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Visit.objects.none()
    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet
    search_fields = ["enterprise__name", "topics"]
    ordering_fields = ["id", "visited_on"]
    ordering = ["-visited_on", "-id"]

    def get_queryset(self):
        return visit_list(user=self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary=_("楼事会列表"),
        description=_("本人管辖范围内楼委会召开的楼事会：出席成员、议程中的诉求、决议（责任人、完成期限）。"),
    ),
    retrieve=extend_schema(summary=_("楼事会详情")),
)
class CommitteeMeetingViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = CommitteeMeeting.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = CommitteeMeetingSerializer
    filterset_class = CommitteeMeetingFilterSet
    search_fields = ["topic", "committee__building__name"]
    ordering_fields = ["id", "held_on"]
    ordering = ["-held_on", "-id"]

    def get_queryset(self):
        return meeting_list(user=self.request.user)


class DemandStatsQuerySerializer(serializers.Serializer):
    district = IdListQueryField(required=False)
    street = IdListQueryField(required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": _("结束日期不能早于开始日期。")})
        return attrs


class DemandStatsView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasTerritory]

    @extend_schema(
        summary=_("企业诉求统计"),
        description=_(
            "本人管辖范围内（按提交日期筛选）的合计、各街道、各类别：收到、已办结（含已关闭）、办结率、"
            "办结天数中位数（自然日）、当前超期、平均评分。?format=csv 每个街道、类别一行。"
        ),
        parameters=[
            OpenApiParameter("district", str, description=_("区编号，可多个，逗号分隔")),
            OpenApiParameter("street", str, description=_("街道编号，可多个，逗号分隔")),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description=_("提交日期从（含）")),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description=_("提交日期到（含）")),
        ],
        responses={200: DemandStatsSerializer},
    )
    def get(self, request):
        query = DemandStatsQuerySerializer(data=without_blanks(request.query_params))
        query.is_valid(raise_exception=True)
        params = query.validated_data
        data = demand_stats(
            user=request.user,
            district_ids=params.get("district"),
            street_ids=params.get("street"),
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
        )
        if getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv":
            rows = [{"level": "total", "id": None, "name": "", **data["total"]}]
            rows += [{"level": "street", **row} for row in data["streets"]]
            rows += [{"level": "category", **row} for row in data["categories"]]
            return csv_attachment(rows, "demands")
        return Response(data)


@extend_schema_view(
    list=extend_schema(
        summary=_("共建协议列表"), description=_("本人管辖范围内共建单位的共建协议，带双方承诺。")
    ),
    retrieve=extend_schema(summary=_("共建协议详情")),
)
class AgreementViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Agreement.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilterSet
    search_fields = ["title", "partner__name"]
    ordering_fields = ["id", "starts_on", "ends_on"]
    ordering = ["-starts_on", "id"]

    def get_queryset(self):
        return agreement_list(user=self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary=_("企业风险色列表"),
        description=_(
            "本人管辖范围内各企业的风险色（红、橙、黄、蓝、绿）：按未办结、超期和风险信号诉求算出，"
            "社工人工调整（附理由）时以调整为准。"
        ),
    ),
    retrieve=extend_schema(summary=_("企业风险色详情")),
)
class EnterpriseRiskViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Enterprise.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = EnterpriseRiskSerializer
    filterset_class = EnterpriseFilterSet
    search_fields = ["name", "credit_code"]
    ordering_fields = ["name", "id"]
    ordering = ["building_id", "name"]

    def get_queryset(self):
        return scope_queryset(
            Enterprise.objects.select_related("building", "risk_override").annotate(
                **risk.count_annotations()
            ),
            self.request.user,
        )
