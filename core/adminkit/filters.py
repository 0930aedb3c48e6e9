"""List filters offering only the streets and districts of the user's territory."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.forms import parse_id
from core.scoping import (
    scope_queryset,
)


def related_model_at(model, path: str):
    """The model at the end of ``path`` ("building__street") from ``model``, read from its fields."""
    for part in path.split("__"):
        model = model._meta.get_field(part).related_model
    return model


class StreetListFilter(admin.SimpleListFilter):
    """Filter by street; offers only the streets of the user's territory."""

    title = _("街道")
    parameter_name = "street"

    def lookups(self, request, model_admin):
        street_model = related_model_at(model_admin.model, model_admin.model.street_path)
        streets = scope_queryset(street_model.objects.select_related("district"), request.user)
        return [(str(s.pk), str(s)) for s in streets]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        pk = parse_id(value)
        if pk is None:
            return queryset.none()
        return queryset.filter(**{queryset.model.street_path: pk})


class DistrictListFilter(admin.SimpleListFilter):
    """Filter by district; offers only the districts of the user's territory."""

    title = _("区")
    parameter_name = "district"

    def lookups(self, request, model_admin):
        district_model = related_model_at(model_admin.model, model_admin.model.district_path)
        districts = scope_queryset(district_model.objects.all(), request.user)
        return [(str(d.pk), str(d)) for d in districts]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        pk = parse_id(value)
        if pk is None:
            return queryset.none()
        return queryset.filter(**{queryset.model.district_path: pk})
