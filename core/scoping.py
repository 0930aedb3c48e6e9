"""Who may see what: the one territory rule and the one confidentiality rule every edge uses.

Every territorial model names the path from itself to its street (``street_path``)
and its district (``district_path``). ``scope_queryset`` narrows any queryset of
such a model to what a user may see: everything for a superuser, their district
for district staff, their streets for a street social worker, and nothing for
anyone else; ``in_scope`` answers the same question for one object. The admin, the
API, the portal's staff pages, the write functions and the exports all call them.

Confidential records (who booked a counselling slot) are hidden from staff without
``CONFIDENTIAL_PERMISSION``: a model that holds such records says which of its rows
are confidential with a ``confidential_q()`` class method, and ``hide_confidential``
leaves them out. Full phones and ID numbers need ``PERSONAL_DATA_PERMISSION``.

A community partner's staff (``user.partner_id``) see the rows of models that name their path
to the partner (``partner_path``): the partner's places, their events and bookings, its
pairings and registrations; nothing of the street around it.

(The user's territory is read from ``user.district_id``, ``user.streets`` and ``user.partner_id``; the
permissions are named by string, so nothing here imports an app.)
"""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

PERSONAL_DATA_PERMISSION = "members.view_personal_data"
CONFIDENTIAL_PERMISSION = "services.view_confidential"


def user_street_ids(user) -> frozenset[int]:
    """The streets a social worker is assigned, cached on the user object for the request."""
    cached = getattr(user, "_scope_street_ids", None)
    if cached is None:
        cached = frozenset(user.streets.values_list("id", flat=True)) if user.pk else frozenset()
        user._scope_street_ids = cached
    return cached


def is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def has_full_scope(user) -> bool:
    return is_active_user(user) and user.is_superuser


def has_staff_scope(user) -> bool:
    """A user with a territory: a superuser, district staff or a street social worker."""
    if not is_active_user(user):
        return False
    return (
        user.is_superuser
        or bool(user.district_id)
        or bool(user_street_ids(user))
        or bool(getattr(user, "partner_id", None))
    )


def is_scoped_model(model) -> bool:
    return getattr(model, "district_path", None) is not None


def scope_q(model, user) -> Q:
    """The filter that keeps the rows of ``model`` inside ``user``'s territory.

    A model whose rows are not under one street (a district) answers for a set of
    streets itself, with a ``scope_q_for_streets(street_ids)`` class method.
    """
    nothing = Q(pk__in=[])
    if not is_active_user(user):
        return nothing
    if user.is_superuser:
        return Q()
    q = nothing
    if user.district_id:
        q |= Q(**{model.district_path: user.district_id})
    streets = user_street_ids(user)
    if streets:
        for_streets = getattr(model, "scope_q_for_streets", None)
        q |= for_streets(streets) if for_streets else Q(**{f"{model.street_path}__in": streets})
    partner_id = getattr(user, "partner_id", None)
    partner_path = getattr(model, "partner_path", None)
    if partner_id and partner_path:
        q |= Q(**{partner_path: partner_id})
    return q


def scope_queryset(qs: QuerySet, user) -> QuerySet:
    return qs.filter(scope_q(qs.model, user))


def street_in_scope(user, street) -> bool:
    """Whether ``street`` (with its ``district_id``) lies in ``user``'s territory, without a query.

    Used for related records shown inside a record: a party organization's parent,
    a member's employer, an event's organizer may lie in another territory, and then
    they are left out rather than leaked.
    """
    if street is None or not is_active_user(user):
        return False
    if user.is_superuser:
        return True
    return (user.district_id is not None and street.district_id == user.district_id) or (
        street.pk in user_street_ids(user)
    )


def in_scope(obj: Model, user, *, perm: str | None = None) -> bool:
    """Whether ``obj`` lies in ``user``'s territory (and ``user`` holds ``perm``, if given).

    The one check the write functions make before staff change a record: a superuser
    always; staff when the model permission (if any) is theirs and the object is among
    the rows ``scope_queryset`` lets them see. District staff, who only read, are
    refused by the permission.
    """
    if not is_active_user(user):
        return False
    if user.is_superuser:
        return True
    if not user.is_staff or (perm is not None and not user.has_perm(perm)):
        return False
    model = type(obj)
    return scope_queryset(model._default_manager.filter(pk=obj.pk), user).exists()


def can_view_personal_data(user) -> bool:
    """Full phones and ID numbers: superusers and holders of ``members.view_personal_data``."""
    return bool(user and user.is_active and user.has_perm(PERSONAL_DATA_PERMISSION))


def can_view_confidential(user) -> bool:
    """Confidential records (counselling bookers): superusers and holders of ``services.view_confidential``."""
    return bool(user and user.is_active and user.has_perm(CONFIDENTIAL_PERMISSION))


def hide_confidential(qs: QuerySet, user) -> QuerySet:
    """``qs`` without its confidential rows unless ``user`` may see them (``confidential_q()``)."""
    if can_view_confidential(user):
        return qs
    return qs.exclude(qs.model.confidential_q())
