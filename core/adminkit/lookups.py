"""Only the lookups an admin's own filters produce: no oracle in the changelist's query string.

Django's admin applies any lookup on a model's own fields that arrives in the list's query
string: ``?id__exact=1&id_number__startswith=3101061991`` answers with the row or without it,
so a masked ID number is read back a digit at a time (about 65 requests), a phone or a
calendar key the same way. Every admin of the portal (``LookupGuardMixin``, part of
``ScopedAdmin``; ``guard_registered_admins`` adds it to the third-party admins) refuses that:

* ``lookup_allowed`` refuses any lookup that reads a personal or secret field
  (``core.masking``), directly or through relations (``member__id_number__…``,
  ``user__phone__…``), whatever the admin's filters say: Django answers 400;
* the list applies only what its ``list_filter``s and ``date_hierarchy`` read, and the
  admin's own links (``link_lookups``); any other parameter is refused the way Django
  refuses an unknown filter: a redirect to ``?e=1``.

Search (``?q=``) and sorting (``?o=``) only reach what the admin declares, so the admin's
``check()`` (run by ``manage.py check`` and tests/test_admin_lookups.py) refuses an admin
that filters, sorts, lists, exports or searches a protected field — personal fields may be
searched by their whole value only (``"=phone"``).
"""

from __future__ import annotations

import functools

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from core.masking import SECRET, protected_in_path

#: Django's lookups that compare a whole value (the only searches allowed on personal fields).
WHOLE_VALUE_LOOKUPS = ("exact", "iexact")


class GuardedChangeListMixin:
    """A changelist that refuses every query-string parameter its admin does not produce."""

    def get_filters(self, request):
        given = set(self.get_filters_params())
        filters = super().get_filters(request)
        remaining = filters[2]
        # The date drill-down turns its year/month/day into these two; asked for directly, they
        # are parameters like any other.
        drilled = set()
        if self.date_hierarchy and f"{self.date_hierarchy}__year" in given:
            drilled = {f"{self.date_hierarchy}__gte", f"{self.date_hierarchy}__lt"}
        offered = self.model_admin.offered_lookups(request)
        refused = sorted(
            key for key in remaining if (key not in drilled or key in given) and key not in offered
        )
        if refused:
            raise IncorrectLookupParameters(f"Filtering by {', '.join(refused)} is not offered")
        return filters


@functools.cache
def guarded_changelist(base: type) -> type:
    """``base`` (Django's ChangeList or an admin's own) with the guard."""
    if issubclass(base, GuardedChangeListMixin):
        return base
    return type(f"Guarded{base.__name__}", (GuardedChangeListMixin, base), {"__module__": __name__})


class LookupGuardMixin:
    """For a ModelAdmin: no lookup on protected fields, no lookup its list does not offer."""

    #: query-string parameters of the admin's own links to this list that no list filter
    #: reads (e.g. ``"event__id__exact"`` for a link from an event's page); none so far.
    link_lookups: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        if protected_in_path(self.model, lookup) is not None:
            return False
        return super().lookup_allowed(lookup, value, request)

    def offered_lookups(self, request) -> set[str]:
        """Parameters the list applies besides its filters' and drill-down's: links, raw-id popups."""
        offered = set(self.link_lookups)
        # The raw-id popup of a foreign key with ``limit_choices_to`` opens the list filtered
        # by it (Django's own lookup_allowed allows those too).
        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            offered |= set(widgets.url_params_from_lookup_dict(fk_lookup))
        return {key for key in offered if protected_in_path(self.model, key) is None}

    def get_changelist(self, request, **kwargs):
        return guarded_changelist(super().get_changelist(request, **kwargs))

    def check(self, **kwargs):
        return [*super().check(**kwargs), *protected_field_errors(self)]


# --- checks ------------------------------------------------------------------------------


def _error(model_admin, message: str, code: int) -> checks.Error:
    return checks.Error(message, obj=model_admin.__class__, id=f"adminkit.E{code:03d}")


def _sort_path(model_admin, column) -> str | None:
    """The path a list column sorts by (a field name, or a callable's ``admin_order_field``)."""
    if isinstance(column, str):
        try:
            model_admin.model._meta.get_field(column.split(LOOKUP_SEP)[0])
        except FieldDoesNotExist:
            attr = getattr(model_admin, column, None) or getattr(model_admin.model, column, None)
            order = getattr(attr, "admin_order_field", None)
            return order.lstrip("-") if isinstance(order, str) else None
        return column
    order = getattr(column, "admin_order_field", None)
    return order.lstrip("-") if isinstance(order, str) else None


def _shown_path(model_admin, column) -> str | None:
    """The model path a list or export column shows as it is (a field name, not a callable)."""
    if not isinstance(column, str) or hasattr(model_admin, column):
        return None
    try:
        model_admin.model._meta.get_field(column.split(LOOKUP_SEP)[0])
    except FieldDoesNotExist:
        return None
    return column


def protected_field_errors(model_admin) -> list[checks.Error]:
    """What ``model_admin`` declares that would filter, sort, show or partly search a protected field."""
    model = model_admin.model
    errors = []

    for item in model_admin.list_filter:
        path = item[0] if isinstance(item, list | tuple) else item
        if isinstance(path, str) and (found := protected_in_path(model, path)):
            errors.append(_error(model_admin, f"list_filter '{path}' filters by {found[0]}.", 1))
    hierarchy = model_admin.date_hierarchy
    if hierarchy and (found := protected_in_path(model, hierarchy)):
        errors.append(_error(model_admin, f"date_hierarchy '{hierarchy}' reads {found[0]}.", 2))

    for entry in model_admin.search_fields:
        whole = entry.startswith("=")
        path = entry.lstrip("^=@")
        found = protected_in_path(model, path)
        if found is None:
            continue
        if found[1] == SECRET:
            errors.append(_error(model_admin, f"search_fields '{entry}' searches {found[0]}.", 3))
        elif not (whole or path.rsplit(LOOKUP_SEP, 1)[-1] in WHOLE_VALUE_LOOKUPS):
            errors.append(
                _error(
                    model_admin,
                    f"search_fields '{entry}' searches {found[0]} by part; use '={path}' (the whole value).",
                    4,
                )
            )

    columns = [*model_admin.list_display, *(getattr(model_admin, "export_fields", None) or ())]
    for column in columns:
        path = _sort_path(model_admin, column)
        if path and (found := protected_in_path(model, path)):
            errors.append(_error(model_admin, f"list column '{column}' sorts by {found[0]}.", 5))
        path = _shown_path(model_admin, column)
        if path and (found := protected_in_path(model, path)):
            how = "a secret" if found[1] == SECRET else "unmasked (use core.adminkit.masked_column)"
            errors.append(_error(model_admin, f"column '{column}' shows {found[0]}, {how}.", 6))
    for path in model_admin.ordering or ():
        if isinstance(path, str) and (found := protected_in_path(model, path.lstrip("-"))):
            errors.append(_error(model_admin, f"ordering '{path}' sorts by {found[0]}.", 7))
    return errors


def guard_registered_admins(site) -> None:
    """Register every admin of ``site`` that lacks the guard again, with it.

    For the admins of Django (groups), django-axes (login attempts) and django-pghistory
    (events); called from ``core``'s ``AppConfig.ready()``, which runs after theirs
    (pghistory registers its admin there) and after the admin's autodiscovery.
    """
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, LookupGuardMixin):
            continue
        base = type(model_admin)
        attrs = {"__module__": base.__module__}
        if model._meta.app_label == "pghistory":
            # Facet counts run the filters' counts over pghistory's events view and fail (500).
            attrs["show_facets"] = admin.ShowFacets.NEVER
        guarded = type(base.__name__, (LookupGuardMixin, base), attrs)
        site.unregister(model)
        site.register(model, guarded)
