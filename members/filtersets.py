"""django-filter FilterSets for party organizations and party members (API and pages).

Like buildings/filtersets.py: related records by id, bounded values, dates as
``YYYY-MM-DD``. There is no filter or search on phones and ID numbers: people
who may only see them masked must not be able to probe them either.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import BooleanFilter, FilterSet, IdInFilter, date_range, district_filter, street_filter

from .models import PartyMember, PartyOrganization


class PartyOrganizationFilterSet(FilterSet):
    district = district_filter(PartyOrganization)
    street = street_filter(PartyOrganization)
    building = IdInFilter(field_name="buildings", distinct=True, label=_("覆盖楼宇（编号，可多个）"))
    kind = django_filters.MultipleChoiceFilter(choices=PartyOrganization.Kind.choices, label=_("类型"))
    parent = IdInFilter(field_name="parent", label=_("上级党组织（编号）"))
    is_standalone = BooleanFilter(
        field_name="enterprise", lookup_expr="isnull", exclude=True, label=_("单独组建")
    )
    founded_from, founded_to = date_range("founded_on", label_from=_("成立日期从"), label_to=_("成立日期到"))
    term_ends_from, term_ends_to = date_range(
        "term_ends_on", label_from=_("换届日期从"), label_to=_("换届日期到")
    )

    class Meta:
        model = PartyOrganization
        fields = [
            "district",
            "street",
            "building",
            "kind",
            "parent",
            "is_standalone",
            "founded_from",
            "founded_to",
            "term_ends_from",
            "term_ends_to",
        ]


class PartyMemberFilterSet(FilterSet):
    district = district_filter(PartyMember)
    street = street_filter(PartyMember)
    organization = IdInFilter(field_name="organization", label=_("所在党组织（编号，可多个）"))
    enterprise = IdInFilter(field_name="enterprise", label=_("工作单位（编号，可多个）"))
    building = IdInFilter(field_name="enterprise__building", label=_("工作单位所在楼宇（编号，可多个）"))
    status = django_filters.ChoiceFilter(choices=PartyMember.Status.choices, label=_("党员类别"))
    gender = django_filters.ChoiceFilter(choices=PartyMember.Gender.choices, label=_("性别"))
    education = django_filters.MultipleChoiceFilter(choices=PartyMember.Education.choices, label=_("学历"))
    is_mobile = BooleanFilter(label=_("流动党员"))
    joined_from, joined_to = date_range("joined_on", label_from=_("入党日期从"), label_to=_("入党日期到"))
    born_from, born_to = date_range("birth_date", label_from=_("出生日期从"), label_to=_("出生日期到"))

    class Meta:
        model = PartyMember
        fields = [
            "district",
            "street",
            "organization",
            "enterprise",
            "building",
            "status",
            "gender",
            "education",
            "is_mobile",
            "joined_from",
            "joined_to",
            "born_from",
            "born_to",
        ]
