"""API views for districts, streets, buildings and enterprises.

Reads for anyone with a territory, inside it. Buildings and enterprises may
also be created and updated by people who keep them (the model's add/change
permission: district staff and street social workers), inside their territory;
nothing is deleted through the API.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from buildings import figures
from buildings.filtersets import (
    BuildingFilterSet,
    DistrictFilterSet,
    EnterpriseFilterSet,
    PartnerFilterSet,
    StreetFilterSet,
)
from buildings.models import Building, District, Enterprise, Partner, Street
from buildings.selectors import building_list, enterprise_list
from core.api import ApiViewSetMixin, ScopedModelWritePermission
from core.api import examples as ex
from core.scoping import scope_queryset

from .serializers import (
    BuildingSerializer,
    DistrictSerializer,
    EnterpriseSerializer,
    PartnerSerializer,
    StreetSerializer,
)

WRITE_METHODS = ["get", "post", "put", "patch", "head", "options"]


class SaveMixin:
    """Saves in a transaction; a race that breaks a constraint after validation is a 400, not a 500."""

    def _save(self, serializer):
        try:
            with transaction.atomic():
                instance = serializer.save()
        except IntegrityError as exc:
            raise serializers.ValidationError(
                {"non_field_errors": [_("与已有记录冲突（可能刚被他人修改），请刷新后重试。")]}
            ) from exc
        # Answer with the same annotated row a GET returns.
        serializer.instance = self.get_queryset().get(pk=instance.pk)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer)


@extend_schema_view(
    list=extend_schema(summary=_("区列表"), description=_("本人管辖范围内的区。")),
    retrieve=extend_schema(summary=_("区详情")),
)
class DistrictViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = District.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = DistrictSerializer
    filterset_class = DistrictFilterSet
    search_fields = ["name", "code"]
    ordering_fields = ["code", "name", "id"]
    ordering = ["code"]

    def get_queryset(self):
        return scope_queryset(District.objects.all(), self.request.user)


@extend_schema_view(
    list=extend_schema(summary=_("街道列表"), description=_("本人管辖范围内的街道/镇，带楼宇数。")),
    retrieve=extend_schema(summary=_("街道详情")),
)
class StreetViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Street.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = StreetSerializer
    filterset_class = StreetFilterSet
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code", "id", "building_count"]
    ordering = ["district__code", "name"]

    def get_queryset(self):
        # A street is wholly inside or outside a territory, so its building count leaks nothing.
        qs = Street.objects.select_related("district").annotate(building_count=Count("buildings"))
        return scope_queryset(qs, self.request.user)


@extend_schema_view(
    list=extend_schema(summary=_("楼宇列表")),
    retrieve=extend_schema(summary=_("楼宇详情")),
    create=extend_schema(
        summary=_("新增楼宇"),
        description=_("须有新增楼宇权限，街道须在本人管辖范围内。同一街道内楼宇名称不能重复。"),
        examples=[
            OpenApiExample(
                "新增楼宇",
                request_only=True,
                value={
                    "name": "静安国际中心",
                    "address": "南京西路1515号",
                    "street": 1,
                    "floors": 45,
                    "floor_area_m2": "120000.00",
                    "is_key_building": True,
                    "property_company": "仲量联行",
                    "employee_count": 6000,
                },
            ),
            ex.response_example("新增的楼宇", ex.BUILDING, status_codes=("201",)),
            OpenApiExample(
                "字段错误",
                response_only=True,
                status_codes=["400"],
                value={"street": ["无效主键 “99” - 对象不存在。"], "floors": ["楼层数应在1到200之间。"]},
            ),
        ],
    ),
    update=extend_schema(summary=_("修改楼宇")),
    partial_update=extend_schema(summary=_("修改楼宇（部分字段）")),
)
class BuildingViewSet(SaveMixin, ApiViewSetMixin, viewsets.ModelViewSet):
    queryset = Building.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = BuildingSerializer
    filterset_class = BuildingFilterSet
    permission_classes = [ScopedModelWritePermission]
    http_method_names = WRITE_METHODS
    search_fields = ["name", "address", "property_company"]
    ordering_fields = ["name", "id", "employee_count", "floors", "floor_area_m2", "updated_at", "created_at"]
    ordering = ["street_id", "name"]

    def get_queryset(self):
        # Correlated subqueries, not a join with GROUP BY: a page then computes its figures
        # for its 50 rows only (along the (street, name) index), and the paginator's COUNT
        # drops them altogether. A GROUP BY made both aggregate every building of the city.
        enterprises = (
            Enterprise.objects.filter(building=OuterRef("pk"))
            .order_by()
            .values("building")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return building_list(user=self.request.user).annotate(
            has_party_organization=figures.flag(figures.BUILDING_HAS_PARTY_ORGANIZATION),
            has_committee=figures.flag(figures.BUILDING_HAS_COMMITTEE),
            enterprise_count=Coalesce(Subquery(enterprises, output_field=IntegerField()), 0),
        )


@extend_schema_view(
    list=extend_schema(summary=_("企业列表")),
    retrieve=extend_schema(summary=_("企业详情")),
    create=extend_schema(
        summary=_("新增企业"),
        description=_("须有新增企业权限，楼宇须在本人管辖范围内。统一社会信用代码按 GB 32100 校验。"),
        examples=[
            OpenApiExample(
                "新增企业",
                request_only=True,
                value={
                    "name": "上海某某信息科技有限公司",
                    "credit_code": "91310000000000001X",
                    "building": 1,
                    "floor": 12,
                    "employee_count": 120,
                    "party_member_count": 9,
                    "industry": "信息技术",
                },
            ),
            ex.response_example("新增的企业", ex.ENTERPRISE, status_codes=("201",)),
            OpenApiExample(
                "信用代码错误",
                response_only=True,
                status_codes=["400"],
                value={"credit_code": ["统一社会信用代码校验位不正确，请核对后重新输入。"]},
            ),
        ],
    ),
    update=extend_schema(summary=_("修改企业")),
    partial_update=extend_schema(summary=_("修改企业（部分字段）")),
)
class EnterpriseViewSet(SaveMixin, ApiViewSetMixin, viewsets.ModelViewSet):
    queryset = Enterprise.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilterSet
    permission_classes = [ScopedModelWritePermission]
    http_method_names = WRITE_METHODS
    search_fields = ["name", "credit_code", "industry"]
    ordering_fields = ["name", "id", "employee_count", "party_member_count", "floor", "updated_at"]
    ordering = ["building_id", "name"]

    def get_queryset(self):
        return enterprise_list(user=self.request.user).annotate(
            has_party_organization=figures.flag(figures.ENTERPRISE_HAS_PARTY_ORGANIZATION)
        )


@extend_schema_view(
    list=extend_schema(summary=_("共建单位列表"), description=_("本人管辖范围内的共建单位；联系电话打码。")),
    retrieve=extend_schema(summary=_("共建单位详情")),
)
class PartnerViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Partner.objects.none()  # for the schema; rows: get_queryset()
    serializer_class = PartnerSerializer
    filterset_class = PartnerFilterSet
    search_fields = ["name", "address"]
    ordering_fields = ["name", "id"]
    ordering = ["street_id", "name"]

    def get_queryset(self):
        return scope_queryset(Partner.objects.select_related("street__district"), self.request.user)
