"""Serializers for building committees with their seats (read-only through the API)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from committees.models import Agreement, AgreementCommitment, BuildingCommittee, CommitteeSeat
from core.api import ChoiceLabelField, MaskedField, RefSerializer
from core.api import examples as ex
from members.api.serializers import visible_ref


class CommitteeSeatSerializer(serializers.ModelSerializer):
    role_label = ChoiceLabelField("role")
    phone = MaskedField(help_text=_("联系电话；无完整查看权限时打码"))
    member = serializers.SerializerMethodField(help_text=_("关联党员；不在本人管辖范围内时为 null"))
    is_current = serializers.SerializerMethodField(help_text=_("今天在任"))

    class Meta:
        model = CommitteeSeat
        fields = [
            "id",
            "role",
            "role_label",
            "person_name",
            "phone",
            "affiliation",
            "floor",
            "member",
            "starts_on",
            "ends_on",
            "is_current",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_member(self, obj) -> dict | None:
        return visible_ref(
            self.context, obj.member, obj.member.organization.street if obj.member_id else None
        )

    def get_is_current(self, obj) -> bool:
        today = self.context.setdefault("today", timezone.localdate())
        return obj.starts_on <= today and (obj.ends_on is None or obj.ends_on > today)


@extend_schema_serializer(examples=[ex.response_example("楼委会", ex.COMMITTEE)])
class BuildingCommitteeSerializer(serializers.ModelSerializer):
    building = RefSerializer(read_only=True)
    street = RefSerializer(source="building.street", read_only=True)
    district = RefSerializer(source="building.street.district", read_only=True)
    is_key_building = serializers.BooleanField(source="building.is_key_building", read_only=True)
    seats = CommitteeSeatSerializer(many=True, read_only=True)

    class Meta:
        model = BuildingCommittee
        fields = [
            "id",
            "building",
            "street",
            "district",
            "is_key_building",
            "founded_on",
            "term_starts_on",
            "term_ends_on",
            "seats",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AgreementCommitmentSerializer(serializers.ModelSerializer):
    side_label = ChoiceLabelField("side")

    class Meta:
        model = AgreementCommitment
        fields = ["id", "side", "side_label", "text"]
        read_only_fields = fields


@extend_schema_serializer(examples=[ex.response_example("共建协议", ex.AGREEMENT)])
class AgreementSerializer(serializers.ModelSerializer):
    """共建协议 with its partner, building committees (by building) and each side's commitments."""

    status_label = ChoiceLabelField("status")
    partner = RefSerializer(read_only=True)
    street = RefSerializer(source="partner.street", read_only=True)
    buildings = serializers.SerializerMethodField(help_text=_("参与共建的楼委会所在楼宇"))
    commitments = AgreementCommitmentSerializer(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "title",
            "partner",
            "street",
            "buildings",
            "starts_on",
            "ends_on",
            "status",
            "status_label",
            "commitments",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(many=True))
    def get_buildings(self, obj) -> list[dict]:
        return [{"id": c.building.pk, "name": c.building.name} for c in obj.committees.all()]
