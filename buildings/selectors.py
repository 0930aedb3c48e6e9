"""Read side of buildings, and the one scoping rule every edge uses.

Every scoped model names the path from itself to its street (``street_path``)
and its district (``district_path``). ``scope_queryset`` narrows any queryset of
such a model to what a user may see: everything for a superuser, their
district for district staff, their streets for a street social worker, and
nothing for anyone else. The admin, the API and the exports all call it.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Building, District, Enterprise, Street


def user_street_ids(user) -> frozenset[int]:
    """The streets a social worker is assigned, cached on the user object for the request."""
    cached = getattr(user, "_scope_street_ids", None)
    if cached is None:
        cached = frozenset(user.streets.values_list("id", flat=True)) if user.pk else frozenset()
        user._scope_street_ids = cached
    return cached


def has_full_scope(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def has_staff_scope(user) -> bool:
    """A user with a territory: a superuser, district staff or a street social worker."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or bool(user.district_id) or bool(user_street_ids(user))


def scope_q(model, user) -> Q:
    """The filter that keeps the rows of ``model`` inside ``user``'s territory."""
    nothing = Q(pk__in=[])
    if not (user and user.is_authenticated and user.is_active):
        return nothing
    if user.is_superuser:
        return Q()
    q = nothing
    if user.district_id:
        q |= Q(**{model.district_path: user.district_id})
    streets = user_street_ids(user)
    if streets:
        if model is District:
            q |= Q(pk__in=Street.objects.filter(pk__in=streets).values("district_id"))
        else:
            q |= Q(**{f"{model.street_path}__in": streets})
    return q


def scope_queryset(qs: QuerySet, user) -> QuerySet:
    return qs.filter(scope_q(qs.model, user))


def building_list(*, user) -> QuerySet[Building]:
    return scope_queryset(Building.objects.select_related("street__district"), user)


def enterprise_list(*, user) -> QuerySet[Enterprise]:
    return scope_queryset(Enterprise.objects.select_related("building__street__district"), user)
