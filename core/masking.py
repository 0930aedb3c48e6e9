"""Masking of personal identifiers in lists, exports, histories and the API: 138****5678."""

from __future__ import annotations


def mask_middle(value: str | None) -> str:
    """Keep the first three and last four characters: 138****5678, 310***********1234."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


mask_phone = mask_middle
mask_id_number = mask_middle


def mask_value(field_name: str, value) -> str:
    """A phone or an ID number (by field name), masked; "" for an empty value."""
    if not value:
        return ""
    return mask_id_number(str(value)) if field_name == "id_number" else mask_phone(str(value))
