"""django-filter FilterSets shared by the portal pages and the API.

``EventFilterSet`` filters the upcoming-event list by street, building, kind,
date range, free seats and a title keyword. Bad parameters become form errors
(the page shows them, the API answers 400) and never reach the database.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from buildings.models import Building, Street
from core.filters import (
    BooleanFilter,
    CountFilter,
    FilterSet,
    IdInFilter,
    date_range,
    district_filter,
    street_filter,
)
from core.forms import AutocompleteModelChoiceField, NoLabelSuffix
from core.scoping import has_full_scope, has_staff_scope, scope_queryset
from members.forms import building_label

from .models import Booking, Event, ServiceStation, Space, SpaceReservation


class EventFilterForm(NoLabelSuffix, forms.Form):
    """The portal's filter form: labels without ":"."""


class BuildingAutocompleteFilter(django_filters.ModelChoiceFilter):
    """A building chosen by autocomplete on the page, by id (or exact name) in the API."""

    field_class = AutocompleteModelChoiceField

    def __init__(self, *args, **kwargs):
        from django.urls import reverse_lazy

        kwargs.setdefault("url", reverse_lazy("autocomplete_buildings"))
        kwargs.setdefault("label_from_instance", building_label)
        kwargs.setdefault("placeholder", _("输入楼宇名称或地址"))
        super().__init__(*args, **kwargs)


def _template_attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html`` in Python: in order, True bare, False left out."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
        for name, value in attrs.items()
        if value is not False
    )


class StreetChoiceIterator(forms.models.ModelChoiceIterator):
    """The street options as (id, "区 · 街道") read with one ``values_list``: no model instances.

    Choosing still goes through the field's queryset (``ModelChoiceField.to_python``); only
    the 200+ options the page shows on every request are read this way.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for pk, district, name in self.queryset.values_list("pk", "district__name", "name"):
            yield (pk, f"{district} · {name}")

    def __len__(self):
        return self.queryset.count() + (self.field.empty_label is not None)


class StreetChoiceField(forms.ModelChoiceField):
    iterator = StreetChoiceIterator


class StreetChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = StreetChoiceField


class PlainSelect(forms.Select):
    """Django's ``<select>``, byte for byte, written in Python instead of a template per option.

    The event list offers every street of the city (200+): rendering each option
    through ``select_option.html`` took a third of the page's time.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _template_attrs(widget["attrs"]), ">"]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                # conditional_escape, as format_html would, without parsing a format per piece
                parts.append(
                    f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                    f"{_template_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # every value above went through format_html


class EventFilterSet(FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("关键词"), max_length=50)
    street = StreetChoiceFilter(
        field_name="space__station__street",
        queryset=Street.objects.order_by("district__code", "name"),
        label=_("街道"),
        empty_label=_("全部街道"),
        widget=PlainSelect,
    )
    building = BuildingAutocompleteFilter(
        field_name="space__station__building", queryset=Building.objects.all(), label=_("楼宇")
    )
    kind = django_filters.ChoiceFilter(
        choices=Event.Kind.choices, label=_("类型"), empty_label=_("全部类型"), widget=PlainSelect
    )
    date_from, date_to = date_range(
        "starts_at",
        label_from=_("从"),
        label_to=_("到"),
        datetime_field=True,
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

    def filter_has_seats(self, queryset, name, value):
        if value:
            return queryset.filter(confirmed_count__lt=F("capacity"))
        return queryset


# --- REST API (services/api/views.py): events with territory filters, stations, spaces, ---------
# --- bookings and space reservations. Related records by id (core/filters.py). ------------------


def _start_date_range(field: str):
    """``date_from`` / ``date_to``: local calendar days (Asia/Shanghai) of the start, both inclusive."""
    return date_range(
        field, label_from=_("开始日期从（含）"), label_to=_("开始日期到（含）"), datetime_field=True
    )


class EventApiFilterSet(EventFilterSet):
    """The portal's event filters, plus district, status, audience and organizer, for the API.

    The street and building choices are narrowed to the user's territory for staff
    (an event list of another district is not theirs to probe); people without a
    territory browse published events everywhere, so their choices are not narrowed.
    """

    district = district_filter(Event)
    status = django_filters.MultipleChoiceFilter(choices=Event.Status.choices, label=_("状态"))
    audience = django_filters.ChoiceFilter(choices=Event.Audience.choices, label=_("面向对象"))
    organizer = IdInFilter(field_name="organizer", label=_("主办党组织（编号，可多个）"))
    # In the API a value other than true/false is an error, not "on" (the page's checkbox).
    has_seats = BooleanFilter(method="filter_has_seats", label=_("只看有余位"))

    class Meta(EventFilterSet.Meta):
        fields = [*EventFilterSet.Meta.fields, "district", "status", "audience", "organizer"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if has_staff_scope(user) and not has_full_scope(user):
            for name in ("street", "building"):
                self.filters[name].queryset = scope_queryset(self.filters[name].queryset, user)


class ServiceStationFilterSet(FilterSet):
    district = district_filter(ServiceStation)
    street = street_filter(ServiceStation)
    building = IdInFilter(field_name="building", label=_("楼宇（编号，可多个）"))
    is_active = BooleanFilter(label=_("开放中"))

    class Meta:
        model = ServiceStation
        fields = ["district", "street", "building", "is_active"]


class SpaceFilterSet(FilterSet):
    district = district_filter(Space)
    street = street_filter(Space)
    building = IdInFilter(field_name="station__building", label=_("楼宇（编号，可多个）"))
    station = IdInFilter(field_name="station", label=_("服务站（编号，可多个）"))
    function = django_filters.MultipleChoiceFilter(choices=Space.Function.choices, label=_("功能"))
    capacity_min = CountFilter(field_name="capacity", lookup_expr="gte", label=_("容纳人数不少于"))

    class Meta:
        model = Space
        fields = ["district", "street", "building", "station", "function", "capacity_min"]


class BookingFilterSet(FilterSet):
    district = district_filter(Booking)
    street = street_filter(Booking)
    event = IdInFilter(field_name="event", label=_("活动（编号，可多个）"))
    status = django_filters.MultipleChoiceFilter(choices=Booking.Status.choices, label=_("状态"))
    kind = django_filters.MultipleChoiceFilter(
        field_name="event__kind", choices=Event.Kind.choices, label=_("活动类型")
    )
    date_from, date_to = _start_date_range("event__starts_at")
    mine = BooleanFilter(method="filter_mine", label=_("只看本人的预约"))

    class Meta:
        model = Booking
        fields = ["district", "street", "event", "status", "kind", "date_from", "date_to", "mine"]

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value is None or user is None:
            return queryset
        return queryset.filter(user=user) if value else queryset.exclude(user=user)


class SpaceReservationFilterSet(FilterSet):
    district = district_filter(SpaceReservation)
    street = street_filter(SpaceReservation)
    space = IdInFilter(field_name="space", label=_("空间（编号，可多个）"))
    station = IdInFilter(field_name="space__station", label=_("服务站（编号，可多个）"))
    organization = IdInFilter(field_name="organization", label=_("党组织（编号，可多个）"))
    status = django_filters.MultipleChoiceFilter(choices=SpaceReservation.Status.choices, label=_("状态"))
    date_from, date_to = _start_date_range("starts_at")

    class Meta:
        model = SpaceReservation
        fields = ["district", "street", "space", "station", "organization", "status", "date_from", "date_to"]
