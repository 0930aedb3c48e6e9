"""django-filter building blocks every app's FilterSets use (API, admin and portal lists).

Related records are filtered by id (``?district=3``, ``?street=4,5``), not by a
choice among all rows. For staff, ids are taken among the related records inside
their territory only: an id outside it matches nothing, exactly like an id that
does not exist, so a filter cannot be used to find out what exists elsewhere —
also where a record in the territory points outside it (a member's employer in
another district, an organization covering a building of another street).
Every value is bounded (ids, counts) so that a malformed or absurd parameter is a
400, never a database error, and a NUL character in any parameter is a field
error (``FilterSet``, the base of every filterset). ``DateRangeFilter`` is the one
way to write a ``<name>_from`` / ``<name>_to`` pair of dates.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import BaseCSVField

from core.forms import RefuseNulCharacters
from core.scoping import has_full_scope, has_staff_scope, scope_queryset

MAX_ID = 2**63 - 1
MAX_COUNT = 2**31 - 1
MAX_IDS = 100  # ids in one filter: "?street=1,2,…"


class IdFilter(django_filters.NumberFilter):
    """One id (integer ≥ 1)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdListField(BaseCSVField):
    """The comma-separated list of ``IdInFilter``: at most ``MAX_IDS`` ids, a field error beyond."""

    def clean(self, value):
        if isinstance(value, list) and len(value) > MAX_IDS:
            raise forms.ValidationError(_("一次最多筛选 100 个编号。"), code="too_many")
        return super().clean(value)


class IdInFilter(django_filters.BaseInFilter, IdFilter):
    """One or more ids, comma-separated: ``?street=4,5``."""

    base_field_class = IdListField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "in")
        # The label is the documentation (django-filter would put a generic English help text).
        kwargs.setdefault("help_text", kwargs.get("label"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value:
            value = self.ids_in_scope(value)
        return super().filter(qs, value)

    def related_model(self):
        """The model the ids are of, found along ``field_name`` from the filterset's model."""
        model = self.model
        for part in self.field_name.split("__"):
            field = model._meta.get_field(part)
            if field.related_model is None:
                raise ImproperlyConfigured(f"{self.model.__name__}.{self.field_name} is not a relation")
            model = field.related_model
        return model

    def ids_in_scope(self, ids):
        """For staff with a territory: the ids among the related records inside it (a subquery).

        People without a territory see public records only (events, stations, their own
        bookings), whose links are public too; a superuser sees everything.
        """
        user = getattr(getattr(self.parent, "request", None), "user", None)
        if not has_staff_scope(user) or has_full_scope(user):
            return ids
        related = self.related_model()
        return scope_queryset(related._default_manager.filter(pk__in=ids), user).values("pk")


class CountFilter(django_filters.NumberFilter):
    """A bound on a count (0 … 2³¹−1)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_COUNT)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``); anything else is an error, not "no filter"."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes", "on"}:
            return True
        if text in {"false", "0", "no", "off"}:
            return False
        raise forms.ValidationError(_("请填写 true 或 false。"), code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterSet(django_filters.FilterSet):
    """The base of every filterset (API and pages): a NUL character in any parameter is refused.

    (Its form refuses the value before a field reads it: see ``core.forms.RefuseNulCharacters``.)
    """

    def get_form_class(self):
        form_class = super().get_form_class()
        pairs = tuple(
            (self._range_start_name(name), name)
            for name, filter_ in self.filters.items()
            if isinstance(filter_, _DayBound) and filter_.start_name is not None
        )
        return type(
            form_class.__name__,
            (RefuseNulCharacters, DateRangeOrderForm, form_class),
            {"date_range_pairs": pairs},
        )

    def _range_start_name(self, end_name: str) -> str:
        """The "from" filter of a ``date_range`` "to" filter: the same field, lookup gte."""
        end = self.filters[end_name]
        for name, filter_ in self.filters.items():
            if (
                isinstance(filter_, _DayBound)
                and filter_.field_name == end.field_name
                and filter_.start_name is None
            ):
                return name
        return end_name


def district_filter(model) -> IdInFilter:
    """``?district=`` for any model that names its path to the district."""
    return IdInFilter(field_name=model.district_path, label=_("区（编号，可多个，逗号分隔）"))


def street_filter(model) -> IdInFilter:
    """``?street=`` for any model that names its path to the street."""
    return IdInFilter(field_name=model.street_path, label=_("街道（编号，可多个，逗号分隔）"))


# --- date ranges: <name>_from / <name>_to ----------------------------------------------------------


def local_day_start(day: datetime.date) -> datetime.datetime | None:
    """Midnight of ``day`` in the portal's time zone (Asia/Shanghai), or None for "no bound".

    A range that starts on 0001-01-01 has no lower bound: its midnight in Shanghai is still
    year 0 in UTC, which Python cannot represent (any conversion would raise OverflowError).
    """
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())
    try:
        start.astimezone(datetime.UTC)
    except OverflowError:
        return None
    return start


def local_day_end(day: datetime.date) -> datetime.datetime | None:
    """The first instant after ``day`` (the next local midnight), or None for "no bound".

    A range that ends on 9999-12-31 has no upper bound: the day after it does not exist.
    """
    if day >= datetime.date.max:
        return None
    return local_day_start(day + datetime.timedelta(days=1))


class _DayBound(django_filters.DateFilter):
    """One end of a ``date_range``: an inclusive calendar day of a date or datetime field."""

    def __init__(self, *args, start_name: str | None = None, datetime_field: bool = False, **kwargs):
        self.start_name = start_name  # set ("") on the "to" end; None on the "from" end
        self.datetime_field = datetime_field
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if not self.datetime_field:
            return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": value})
        # A datetime: the local calendar day (Asia/Shanghai), both ends inclusive.
        if self.lookup_expr == "gte":
            bound = local_day_start(value)
            return qs if bound is None else qs.filter(**{f"{self.field_name}__gte": bound})
        bound = local_day_end(value)
        return qs if bound is None else qs.filter(**{f"{self.field_name}__lt": bound})


def date_range(field_name: str, *, label_from, label_to, datetime_field: bool = False, widget=None):
    """The one way to write a pair of date filters: ``(from_filter, to_filter)``, both days inclusive.

    Declare it as ``joined_from, joined_to = date_range("joined_on", ...)``. For a datetime
    field (``datetime_field=True``) the days are local days in
    Asia/Shanghai, and 0001-01-01 / 9999-12-31 are open bounds, never an overflow. A "to"
    before its "from" is a field error on the "to" parameter (``FilterSet``).
    """
    kwargs = {"widget": widget} if widget is not None else {}
    kwargs["datetime_field"] = datetime_field
    start = _DayBound(field_name=field_name, lookup_expr="gte", label=label_from, **kwargs)
    end = _DayBound(field_name=field_name, lookup_expr="lte", label=label_to, start_name="", **kwargs)
    return start, end


class DateRangeOrderForm(forms.Form):
    """The form of every FilterSet: a date range's end before its start is an error on the end."""

    date_range_pairs: tuple[tuple[str, str], ...] = ()

    def clean(self):
        cleaned = super().clean()
        for start, end in self.date_range_pairs:
            first, last = cleaned.get(start), cleaned.get(end)
            if first and last and last < first:
                self.add_error(end, _("结束日期不能早于开始日期。"))
        return cleaned
