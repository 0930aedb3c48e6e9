"""django-filter FilterSets for building committees (API and pages)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import MultipleChoiceFilter

from core.filters import (
    BooleanFilter,
    FilterSet,
    IdFilter,
    IdInFilter,
    IdListField,
    date_range,
    district_filter,
    street_filter,
)

from .models import Agreement, BuildingCommittee, CommitteeMeeting, CommitteeSeat, Demand, Visit


def _current_seat(role: str) -> Exists:
    today = timezone.localdate()
    return Exists(
        CommitteeSeat.objects.filter(committee=OuterRef("pk"), role=role, starts_on__lte=today).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gt=today)
        )
    )


class BuildingCommitteeFilterSet(FilterSet):
    district = district_filter(BuildingCommittee)
    street = street_filter(BuildingCommittee)
    building = IdInFilter(field_name="building", label=_("楼宇（编号，可多个）"))
    is_key_building = BooleanFilter(field_name="building__is_key_building", label=_("重点楼宇"))
    founded_from, founded_to = date_range("founded_on", label_from=_("成立日期从"), label_to=_("成立日期到"))
    term_ends_from, term_ends_to = date_range(
        "term_ends_on", label_from=_("本届结束日期从"), label_to=_("本届结束日期到")
    )
    has_building_chief = BooleanFilter(method="filter_has_building_chief", label=_("现有楼长"))
    has_first_secretary = BooleanFilter(method="filter_has_first_secretary", label=_("现有第一书记"))

    class Meta:
        model = BuildingCommittee
        fields = [
            "district",
            "street",
            "building",
            "is_key_building",
            "founded_from",
            "founded_to",
            "term_ends_from",
            "term_ends_to",
            "has_building_chief",
            "has_first_secretary",
        ]

    def _has_current(self, queryset, role, value):
        if value is None:
            return queryset
        condition = _current_seat(role)
        return queryset.filter(condition if value else ~condition)

    def filter_has_building_chief(self, queryset, name, value):
        return self._has_current(queryset, CommitteeSeat.Role.BUILDING_CHIEF, value)

    def filter_has_first_secretary(self, queryset, name, value):
        return self._has_current(queryset, CommitteeSeat.Role.FIRST_SECRETARY, value)


class CategoryIdInFilter(django_filters.BaseInFilter, IdFilter):
    """Demand categories are the city's list, not territorial records: any id may be asked for."""

    base_field_class = IdListField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "in")
        kwargs.setdefault("help_text", kwargs.get("label"))
        super().__init__(*args, **kwargs)


class DemandFilterSet(FilterSet):
    """Demands: the admin's figures, the API list (and its CSV) filter alike."""

    district = district_filter(Demand)
    street = street_filter(Demand)
    building = IdInFilter(field_name="building", label=_("楼宇（编号，可多个）"))
    enterprise = IdInFilter(field_name="enterprise", label=_("企业（编号，可多个）"))
    category = CategoryIdInFilter(field_name="category", label=_("类别（编号，可多个）"))
    state = MultipleChoiceFilter(choices=Demand.State.choices, label=_("状态（可重复）"))
    overdue = BooleanFilter(method="filter_overdue", label=_("已超期（未办结且已过办理时限）"))
    submitted_from, submitted_to = date_range(
        "submitted_at", label_from=_("提交日期从"), label_to=_("提交日期到"), datetime_field=True
    )
    deadline_from, deadline_to = date_range("deadline", label_from=_("办理时限从"), label_to=_("办理时限到"))

    class Meta:
        model = Demand
        fields = [
            "district",
            "street",
            "building",
            "enterprise",
            "category",
            "state",
            "overdue",
            "submitted_from",
            "submitted_to",
            "deadline_from",
            "deadline_to",
        ]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(state__in=Demand.OPEN_STATES, deadline__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class VisitFilterSet(FilterSet):
    district = district_filter(Visit)
    street = street_filter(Visit)
    enterprise = IdInFilter(field_name="enterprise", label=_("企业（编号，可多个）"))
    building = IdInFilter(field_name="enterprise__building", label=_("楼宇（编号，可多个）"))
    visited_from, visited_to = date_range("visited_on", label_from=_("走访日期从"), label_to=_("走访日期到"))

    class Meta:
        model = Visit
        fields = ["district", "street", "enterprise", "building", "visited_from", "visited_to"]


class AgreementFilterSet(FilterSet):
    district = district_filter(Agreement)
    street = street_filter(Agreement)
    partner = IdInFilter(field_name="partner", label=_("共建单位（编号，可多个）"))
    status = django_filters.MultipleChoiceFilter(choices=Agreement.Status.choices, label=_("状态"))
    ends_from, ends_to = date_range("ends_on", label_from=_("结束日期从"), label_to=_("结束日期到"))

    class Meta:
        model = Agreement
        fields = ["district", "street", "partner", "status"]


class CommitteeMeetingFilterSet(FilterSet):
    district = district_filter(CommitteeMeeting)
    street = street_filter(CommitteeMeeting)
    committee = IdInFilter(field_name="committee", label=_("楼委会（编号，可多个）"))
    building = IdInFilter(field_name="committee__building", label=_("楼宇（编号，可多个）"))
    held_from, held_to = date_range("held_on", label_from=_("会议日期从"), label_to=_("会议日期到"))

    class Meta:
        model = CommitteeMeeting
        fields = ["district", "street", "committee", "building", "held_from", "held_to"]
