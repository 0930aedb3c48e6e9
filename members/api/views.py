"""API views for party organizations and party members: read-only, inside the reader's territory."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from core.api import ApiViewSetMixin
from members.filtersets import PartyMemberFilterSet, PartyOrganizationFilterSet
from members.models import PartyMember, PartyOrganization
from members.selectors import member_list, organization_list

from .serializers import PartyMemberSerializer, PartyOrganizationSerializer


@extend_schema_view(
    list=extend_schema(summary=_("党组织列表")),
    retrieve=extend_schema(summary=_("党组织详情")),
)
class PartyOrganizationViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = PartyOrganization.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = PartyOrganizationSerializer
    filterset_class = PartyOrganizationFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "id", "founded_on", "term_ends_on", "member_count"]
    ordering = ["street_id", "name"]

    def get_queryset(self):
        return organization_list(user=self.request.user)


@extend_schema_view(
    # The example (masked phone and ID number) is the serializer's: core/api/examples.py.
    list=extend_schema(
        summary=_("党员列表"),
        description=_("手机号码和身份证号默认打码；持有“可查看完整手机号和身份证号”权限的用户看到完整号码。"),
    ),
    retrieve=extend_schema(summary=_("党员详情")),
)
class PartyMemberViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = PartyMember.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = PartyMemberSerializer
    filterset_class = PartyMemberFilterSet
    # Not by phone or ID number: masked data must not be searchable either.
    search_fields = ["name"]
    ordering_fields = ["name", "id", "joined_on", "birth_date", "updated_at"]
    ordering = ["organization_id", "name"]

    def get_queryset(self):
        return member_list(user=self.request.user)
