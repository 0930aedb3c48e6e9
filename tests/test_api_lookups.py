"""No API list filters, searches or sorts by a masked or secret field (core.masking).

Generated over the ``api`` URL namespace: every list's FilterSet fields, ``search_fields``
and ``ordering_fields`` are read, and none may reach a protected field, directly or through
relations. (The admin's equivalent, with requests, is tests/test_admin_lookups.py.)
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from core.masking import protected_in_path


def list_views() -> list:
    [api] = [p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "api"]
    views = []
    for pattern in api.url_patterns:
        actions = getattr(pattern.callback, "actions", None) if isinstance(pattern, URLPattern) else None
        if actions and actions.get("get") == "list":
            views.append(pattern.callback.cls)
    return views


def model_of(view):
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        return filterset._meta.model
    return view.serializer_class.Meta.model


def test_the_lists_are_found():
    assert {view.__name__ for view in list_views()} >= {
        "PartyMemberViewSet",
        "BookingViewSet",
        "EventViewSet",
    }


@pytest.mark.parametrize("view", list_views(), ids=lambda view: view.__name__)
def test_no_filter_search_or_ordering_reaches_a_protected_field(view):
    model = model_of(view)
    paths = {f"search {entry}": entry.lstrip("^=@$") for entry in getattr(view, "search_fields", None) or ()}
    ordering = getattr(view, "ordering_fields", None) or ()
    assert ordering != "__all__", "ordering by every field would sort by phones"
    paths |= {f"ordering {entry}": entry for entry in ordering}
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        paths |= {
            f"filter {name}": f.field_name for name, f in filterset.base_filters.items() if f.field_name
        }
        paths |= {f"filter parameter {name}": name.split("__")[0] for name in filterset.base_filters}
    reached = {where: protected_in_path(model, path) for where, path in paths.items()}
    assert {where: found for where, found in reached.items() if found} == {}
