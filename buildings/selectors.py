"""Read side of buildings: the territory's buildings and enterprises (scoped by ``core.scoping``)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.scoping import scope_queryset

from .models import Building, Enterprise


def building_list(*, user) -> QuerySet[Building]:
    return scope_queryset(Building.objects.select_related("street__district"), user)


def enterprise_list(*, user) -> QuerySet[Enterprise]:
    return scope_queryset(Enterprise.objects.select_related("building__street__district"), user)
