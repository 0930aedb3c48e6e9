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

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured
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
        return type(form_class.__name__, (RefuseNulCharacters, form_class), {})


def district_filter(model) -> IdInFilter:
    """``?district=`` for any model that names its path to the district."""
    return IdInFilter(field_name=model.district_path, label=_("区（编号，可多个，逗号分隔）"))


def street_filter(model) -> IdInFilter:
    """``?street=`` for any model that names its path to the street."""
    return IdInFilter(field_name=model.street_path, label=_("街道（编号，可多个，逗号分隔）"))
