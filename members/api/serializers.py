"""Serializers for party organizations and party members (read-only through the API).

A related record that lies outside the reader's territory (a parent
organization in another street, an employer in another district) is shown as
``null``, not named. Phones and ID numbers are masked (138****5678) unless the
reader holds ``members.view_personal_data``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api import ChoiceLabelField, FastRepresentationMixin, MaskedField, RefSerializer, street_in_scope
from core.api import examples as ex
from members.models import PartyMember, PartyOrganization


def visible_ref(context, obj, street) -> dict | None:
    """``{"id", "name"}`` of ``obj`` if ``street`` (its street) is in the reader's territory."""
    if obj is None:
        return None
    request = context.get("request")
    if not street_in_scope(getattr(request, "user", None), street):
        return None
    return {"id": obj.pk, "name": str(obj.name)}


@extend_schema_serializer(examples=[ex.response_example("党组织", ex.PARTY_ORGANIZATION)])
class PartyOrganizationSerializer(serializers.ModelSerializer):
    kind_label = ChoiceLabelField("kind")
    street = RefSerializer(read_only=True)
    district = RefSerializer(source="street.district", read_only=True)
    parent = serializers.SerializerMethodField(help_text=_("上级党组织；不在本人管辖范围内时为 null"))
    enterprise = serializers.SerializerMethodField(help_text=_("单独组建时所属企业"))
    secretary = serializers.SerializerMethodField(help_text=_("书记"))
    buildings = serializers.SerializerMethodField(help_text=_("覆盖的楼宇（本人管辖范围内的）"))
    member_count = serializers.IntegerField(read_only=True, help_text=_("党员人数"))
    is_standalone = serializers.BooleanField(read_only=True, help_text=_("单独组建（属于一家企业）"))

    class Meta:
        model = PartyOrganization
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "street",
            "district",
            "parent",
            "enterprise",
            "secretary",
            "buildings",
            "founded_on",
            "term_ends_on",
            "member_count",
            "is_standalone",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_parent(self, obj) -> dict | None:
        return visible_ref(self.context, obj.parent, obj.parent.street if obj.parent_id else None)

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_enterprise(self, obj) -> dict | None:
        return visible_ref(
            self.context, obj.enterprise, obj.enterprise.building.street if obj.enterprise_id else None
        )

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_secretary(self, obj) -> dict | None:
        return visible_ref(
            self.context, obj.secretary, obj.secretary.organization.street if obj.secretary_id else None
        )

    @extend_schema_field(RefSerializer(many=True))
    def get_buildings(self, obj) -> list[dict]:
        # Prefetched by the view, already narrowed to the reader's territory.
        return [{"id": b.pk, "name": b.name} for b in getattr(obj, "visible_buildings", [])]


@extend_schema_serializer(examples=[ex.response_example("党员（打码）", ex.PARTY_MEMBER)])
class PartyMemberSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    gender_label = ChoiceLabelField("gender")
    education_label = ChoiceLabelField("education")
    status_label = ChoiceLabelField("status")
    phone = MaskedField(help_text=_("手机号码；无完整查看权限时为 138****5678 形式"))
    id_number = MaskedField(help_text=_("身份证号；无完整查看权限时为 310***********1234 形式"))
    organization = RefSerializer(read_only=True)
    street = RefSerializer(source="organization.street", read_only=True)
    district = RefSerializer(source="organization.street.district", read_only=True)
    enterprise = serializers.SerializerMethodField(help_text=_("工作单位；不在本人管辖范围内时为 null"))

    class Meta:
        model = PartyMember
        fields = [
            "id",
            "name",
            "gender",
            "gender_label",
            "birth_date",
            "phone",
            "id_number",
            "education",
            "education_label",
            "joined_on",
            "status",
            "status_label",
            "organization",
            "street",
            "district",
            "enterprise",
            "is_mobile",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_enterprise(self, obj) -> dict | None:
        return visible_ref(
            self.context, obj.enterprise, obj.enterprise.building.street if obj.enterprise_id else None
        )
