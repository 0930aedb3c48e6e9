"""Serializers for districts, streets, buildings and enterprises.

Related records are written by id (``"street": 4``) and read back with their
names; ids outside the writer's territory are refused like unknown ids.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from buildings.models import Building, District, Enterprise, Partner, Street
from core.api import (
    ChoiceLabelField,
    FastRepresentationMixin,
    FullCleanMixin,
    MaskedField,
    RefSerializer,
    ScopedPrimaryKeyRelatedField,
)
from core.api import examples as ex


@extend_schema_serializer(examples=[ex.response_example("区", ex.DISTRICT)])
class DistrictSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "name", "code"]


@extend_schema_serializer(examples=[ex.response_example("街道", ex.STREET)])
class StreetSerializer(serializers.ModelSerializer):
    district = RefSerializer(read_only=True)
    building_count = serializers.IntegerField(read_only=True, help_text=_("本街道楼宇数"))

    class Meta:
        model = Street
        fields = ["id", "name", "code", "district", "building_count"]


@extend_schema_serializer(examples=[ex.response_example("楼宇", ex.BUILDING)])
class BuildingSerializer(FastRepresentationMixin, FullCleanMixin, serializers.ModelSerializer):
    street = ScopedPrimaryKeyRelatedField(
        queryset=Street.objects.select_related("district"), help_text=_("所在街道编号（须在本人管辖范围内）")
    )
    street_name = serializers.CharField(source="street.name", read_only=True)
    district = RefSerializer(source="street.district", read_only=True)
    has_party_organization = serializers.BooleanField(
        read_only=True, help_text=_("有党组织覆盖本楼，或楼内企业单独组建了党组织")
    )
    has_committee = serializers.BooleanField(read_only=True, help_text=_("已成立楼委会"))
    enterprise_count = serializers.IntegerField(read_only=True, help_text=_("入驻企业数"))

    class Meta:
        model = Building
        fields = [
            "id",
            "name",
            "address",
            "street",
            "street_name",
            "district",
            "floors",
            "floor_area_m2",
            "is_key_building",
            "property_company",
            "employee_count",
            "has_party_organization",
            "has_committee",
            "enterprise_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness and constraints are checked by the model's full_clean() with its messages.
        validators: list = []


@extend_schema_serializer(examples=[ex.response_example("企业", ex.ENTERPRISE)])
class EnterpriseSerializer(FullCleanMixin, serializers.ModelSerializer):
    building = ScopedPrimaryKeyRelatedField(
        queryset=Building.objects.select_related("street__district"),
        help_text=_("所在楼宇编号（须在本人管辖范围内）"),
    )
    building_name = serializers.CharField(source="building.name", read_only=True)
    street = RefSerializer(source="building.street", read_only=True)
    district = RefSerializer(source="building.street.district", read_only=True)
    has_party_organization = serializers.BooleanField(read_only=True, help_text=_("单独组建了党组织"))

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "name",
            "credit_code",
            "building",
            "building_name",
            "street",
            "district",
            "floor",
            "employee_count",
            "party_member_count",
            "industry",
            "has_party_organization",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []
        extra_kwargs = {"credit_code": {"validators": []}}

    def validate_credit_code(self, value: str) -> str:
        return value.strip().upper()


@extend_schema_serializer(examples=[ex.response_example("共建单位", ex.PARTNER)])
class PartnerSerializer(serializers.ModelSerializer):
    """共建单位; the contact phone is masked without members.view_personal_data."""

    kind_label = ChoiceLabelField("kind")
    street = RefSerializer(read_only=True)
    district = RefSerializer(source="street.district", read_only=True)
    phone = MaskedField(help_text=_("联系电话；无完整查看权限时打码"))

    class Meta:
        model = Partner
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "street",
            "district",
            "address",
            "contact_name",
            "phone",
        ]
        read_only_fields = fields
