"""django-filter FilterSets for districts, streets, buildings and enterprises (API and pages).

Related records are filtered by id (``?district=3``, ``?street=4,5``), not by a
choice among all rows. For staff, ids are taken among the related records inside
their territory only: an id outside it matches nothing, exactly like an id that
does not exist, so a filter cannot be used to find out what exists elsewhere —
also where a record in the territory points outside it (a member's employer in
another district, an organization covering a building of another street).
Every value is bounded (ids, counts) so that a malformed or absurd parameter is a
400, never a database error, and a NUL character in any parameter is a field
error (``FilterSet``, the base of every filterset).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.fields import BaseCSVField

from members.forms import RefuseNulCharacters

from .models import Building, District, Enterprise, Street
from .selectors import has_full_scope, has_staff_scope, scope_queryset

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

    (Its form refuses the value before a field reads it: see ``members.forms.RefuseNulCharacters``.)
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
    has_committee = BooleanFilter(
        field_name="committee", lookup_expr="isnull", exclude=True, label=_("已成立楼委会")
    )
    employee_count_min = CountFilter(
        field_name="employee_count", lookup_expr="gte", label=_("从业人员数不少于")
    )
    employee_count_max = CountFilter(
        field_name="employee_count", lookup_expr="lte", label=_("从业人员数不多于")
    )
    updated_from = django_filters.DateFilter(
        field_name="updated_at", lookup_expr="date__gte", label=_("更新日期从")
    )
    updated_to = django_filters.DateFilter(
        field_name="updated_at", lookup_expr="date__lte", label=_("更新日期到")
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
        from services.stats import building_has_party_organization

        if value is None:
            return queryset
        condition = building_has_party_organization()
        return queryset.filter(condition if value else ~condition)


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
        from django.db.models import Exists, OuterRef

        from members.models import PartyOrganization

        if value is None:
            return queryset
        exists = Exists(PartyOrganization.objects.filter(enterprise=OuterRef("pk")))
        return queryset.filter(exists if value else ~exists)

    def filter_has_party_members(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(Q(party_member_count__gt=0) if value else Q(party_member_count=0))
