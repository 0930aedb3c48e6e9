"""django-filter FilterSets for districts, streets, buildings and enterprises (API and pages).

Built on ``core.filters``: related records by id, inside the caller's territory;
every value bounded; a NUL character a field error.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import (
    BooleanFilter,
    CountFilter,
    FilterSet,
    IdInFilter,
    date_range,
    district_filter,
    street_filter,
)

from . import figures
from .models import Building, District, Enterprise, Partner, Street


def filter_by_condition(queryset, name: str, value: bool | None):
    """Rows where a registered condition (buildings/figures.py) holds, or does not; all for None."""
    if value is None:
        return queryset
    condition = figures.condition(name)
    return queryset.filter(condition if value else ~condition)


class DistrictFilterSet(FilterSet):
    code = django_filters.CharFilter(lookup_expr="exact", max_length=12, label=_("区划代码"))

    class Meta:
        model = District
        fields = ["code"]


class StreetFilterSet(FilterSet):
    district = IdInFilter(field_name="district", label=_("区（编号，可多个，逗号分隔）"))

    class Meta:
        model = Street
        fields = ["district"]


class BuildingFilterSet(FilterSet):
    district = district_filter(Building)
    street = street_filter(Building)
    is_key_building = BooleanFilter(label=_("重点楼宇"))
    has_party_organization = BooleanFilter(
        method="filter_has_party_organization", label=_("已建党组织（联合覆盖或单独组建）")
    )
    has_committee = BooleanFilter(method="filter_has_committee", label=_("已成立楼委会"))
    employee_count_min = CountFilter(
        field_name="employee_count", lookup_expr="gte", label=_("从业人员数不少于")
    )
    employee_count_max = CountFilter(
        field_name="employee_count", lookup_expr="lte", label=_("从业人员数不多于")
    )
    updated_from, updated_to = date_range(
        "updated_at", label_from=_("更新日期从"), label_to=_("更新日期到"), datetime_field=True
    )

    class Meta:
        model = Building
        fields = [
            "district",
            "street",
            "is_key_building",
            "has_party_organization",
            "has_committee",
            "employee_count_min",
            "employee_count_max",
            "updated_from",
            "updated_to",
        ]

    def filter_has_party_organization(self, queryset, name, value):
        return filter_by_condition(queryset, figures.BUILDING_HAS_PARTY_ORGANIZATION, value)

    def filter_has_committee(self, queryset, name, value):
        return filter_by_condition(queryset, figures.BUILDING_HAS_COMMITTEE, value)


class EnterpriseFilterSet(FilterSet):
    district = district_filter(Enterprise)
    street = street_filter(Enterprise)
    building = IdInFilter(field_name="building", label=_("楼宇（编号，可多个，逗号分隔）"))
    is_key_building = BooleanFilter(field_name="building__is_key_building", label=_("位于重点楼宇"))
    industry = django_filters.CharFilter(lookup_expr="icontains", max_length=50, label=_("行业（包含）"))
    has_party_organization = BooleanFilter(
        method="filter_has_party_organization", label=_("单独组建了党组织")
    )
    employee_count_min = CountFilter(field_name="employee_count", lookup_expr="gte", label=_("员工数不少于"))
    employee_count_max = CountFilter(field_name="employee_count", lookup_expr="lte", label=_("员工数不多于"))
    has_party_members = BooleanFilter(method="filter_has_party_members", label=_("有党员"))

    class Meta:
        model = Enterprise
        fields = [
            "district",
            "street",
            "building",
            "is_key_building",
            "industry",
            "has_party_organization",
            "employee_count_min",
            "employee_count_max",
            "has_party_members",
        ]

    def filter_has_party_organization(self, queryset, name, value):
        return filter_by_condition(queryset, figures.ENTERPRISE_HAS_PARTY_ORGANIZATION, value)

    def filter_has_party_members(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(Q(party_member_count__gt=0) if value else Q(party_member_count=0))


class PartnerFilterSet(FilterSet):
    district = district_filter(Partner)
    street = street_filter(Partner)
    kind = django_filters.MultipleChoiceFilter(choices=Partner.Kind.choices, label=_("类型"))

    class Meta:
        model = Partner
        fields = ["district", "street", "kind"]
