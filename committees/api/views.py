"""API views for building committees and their seats: read-only, inside the reader's territory."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from committees.filtersets import AgreementFilterSet, BuildingCommitteeFilterSet
from committees.models import Agreement, BuildingCommittee
from committees.selectors import agreement_list, committee_list
from core.api import ApiViewSetMixin

from .serializers import AgreementSerializer, BuildingCommitteeSerializer


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
