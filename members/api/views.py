"""API views for party organizations and party members: read-only, inside the reader's territory."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from buildings.models import Building
from buildings.selectors import scope_queryset
from config.api import ApiViewSetMixin
from members.filtersets import PartyMemberFilterSet, PartyOrganizationFilterSet
from members.models import PartyMember, PartyOrganization

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
        user = self.request.user
        qs = (
            PartyOrganization.objects.select_related(
                "street__district",
                "parent__street",
                "enterprise__building__street",
                "secretary__organization__street",
            )
            .prefetch_related(
                Prefetch(
                    "buildings",
                    queryset=scope_queryset(Building.objects.only("id", "name", "street_id"), user),
                    to_attr="visible_buildings",
                )
            )
            .annotate(member_count=Count("members", distinct=True))
        )
        return scope_queryset(qs, user)


@extend_schema_view(
    # The example (masked phone and ID number) is the serializer's: config/api_examples.py.
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
        qs = PartyMember.objects.select_related(
            "organization__street__district", "enterprise__building__street"
        )
        return scope_queryset(qs, self.request.user)
