"""API views for building committees and their seats: read-only, inside the reader's territory."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from committees.filtersets import BuildingCommitteeFilterSet
from committees.models import BuildingCommittee
from committees.selectors import committee_list
from core.api import ApiViewSetMixin

from .serializers import BuildingCommitteeSerializer


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
