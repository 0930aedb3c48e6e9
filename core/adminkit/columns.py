"""List columns: masked phones and ID numbers, and related records with proper labels."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin

from core.masking import mask_value


def masked_column(field_name: str, description) -> Callable:
    """A list column showing ``field_name`` masked (138****5678), for lists and exports alike."""

    @admin.display(description=description)
    def column(obj) -> str:
        return mask_value(field_name, getattr(obj, field_name, ""))

    column.__name__ = f"masked_{field_name}"
    return column


def related_column(path: str, description, *, ordering: str | None = None) -> Callable:
    """A list column following ``path`` ("organization__street") with a proper label.

    Django can show such a path itself, but labels it with the raw path in
    English; the rows must be joined by the admin's ``list_select_related``.
    """

    @admin.display(description=description, ordering=ordering or path)
    def column(obj):
        value = obj
        for part in path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value

    column.__name__ = path
    return column
