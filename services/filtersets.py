"""django-filter FilterSets shared by the portal pages and the API.

``EventFilterSet`` filters the upcoming-event list by street, building, kind,
date range, free seats and a title keyword. Bad parameters become form errors
(the page shows them, the API answers 400) and never reach the database.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from buildings.models import Building, Street
from members.forms import AutocompleteModelChoiceField, NoLabelSuffix, building_label

from .models import Event


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the portal's time zone (Asia/Shanghai), as an aware datetime."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


class EventFilterForm(NoLabelSuffix, forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return cleaned


class BuildingAutocompleteFilter(django_filters.ModelChoiceFilter):
    """A building chosen by autocomplete on the page, by id (or exact name) in the API."""

    field_class = AutocompleteModelChoiceField

    def __init__(self, *args, **kwargs):
        from django.urls import reverse_lazy

        kwargs.setdefault("url", reverse_lazy("autocomplete_buildings"))
        kwargs.setdefault("label_from_instance", building_label)
        kwargs.setdefault("placeholder", _("输入楼宇名称或地址"))
        super().__init__(*args, **kwargs)


class EventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("关键词"), max_length=50)
    street = django_filters.ModelChoiceFilter(
        field_name="space__station__building__street",
        queryset=Street.objects.select_related("district").order_by("district__code", "name"),
        label=_("街道"),
        empty_label=_("全部街道"),
    )
    building = BuildingAutocompleteFilter(
        field_name="space__station__building", queryset=Building.objects.all(), label=_("楼宇")
    )
    kind = django_filters.ChoiceFilter(choices=Event.Kind.choices, label=_("类型"), empty_label=_("全部类型"))
    date_from = django_filters.DateFilter(
        method="filter_date_from",
        label=_("从"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to",
        label=_("到"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    has_seats = django_filters.BooleanFilter(
        method="filter_has_seats", label=_("只看有余位"), widget=forms.CheckboxInput
    )

    class Meta:
        model = Event
        fields = ["q", "street", "building", "kind", "date_from", "date_to", "has_seats"]
        form = EventFilterForm

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(speaker__icontains=value))

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(starts_at__gte=_day_start(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(starts_at__lt=_day_start(value + datetime.timedelta(days=1)))

    def filter_has_seats(self, queryset, name, value):
        if value:
            return queryset.filter(confirmed_count__lt=F("capacity"))
        return queryset
