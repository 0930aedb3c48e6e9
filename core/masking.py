"""Masked and secret values: which fields they are, and masking for lists, exports, histories and the API.

One declared list, read by the admin kit (no filter, sort or partial search on them), the
exports and the generated tests (tests/test_admin_lookups.py, tests/test_exports.py):

* **personal** identifiers (``PERSONAL_FIELD_NAMES``: phones, ID numbers) are shown
  masked (138****5678) to anyone without ``members.view_personal_data``; they may be
  searched only by the whole value (``"=phone"`` in ``search_fields``), never filtered,
  sorted or searched by part, since each partial answer gives away a digit;
* **secrets** (``SECRET_FIELD_NAMES`` and ``SECRET_MODEL_FIELDS``: password hashes,
  calendar keys, API-key hashes and prefixes) are never shown, filtered, sorted, searched
  or exported, by anyone, superusers included.

A field is protected by its name on every model (a new model's ``phone`` is covered
without a line here) or, for a generic name, on the one model that holds a secret in it.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

PERSONAL = "personal"
SECRET = "secret"

#: Personal identifiers, on any model: masked, searchable only by the whole value.
PERSONAL_FIELD_NAMES = frozenset({"phone", "id_number"})
#: Secrets, on any model: never shown, filtered, sorted, searched or exported.
SECRET_FIELD_NAMES = frozenset({"password", "calendar_token_hash", "key_hash"})
#: Secrets under a generic name, on one model ("app_label.ModelName": field names).
SECRET_MODEL_FIELDS: dict[str, frozenset[str]] = {
    # The first characters of an API key: enough to tell keys apart, and part of the key.
    "members.ApiToken": frozenset({"prefix"}),
}


def field_protection(model, name: str) -> str | None:
    """``PERSONAL``, ``SECRET`` or None for the field ``name`` of ``model``."""
    if name in SECRET_FIELD_NAMES or name in SECRET_MODEL_FIELDS.get(model._meta.label, ()):
        return SECRET
    if name in PERSONAL_FIELD_NAMES:
        return PERSONAL
    return None


def protected_fields(model) -> dict[str, str]:
    """The protected concrete fields of ``model``: {name: PERSONAL or SECRET}."""
    found = {}
    for field in model._meta.get_fields():
        if field.is_relation or not getattr(field, "concrete", False):
            continue
        kind = field_protection(model, field.name)
        if kind:
            found[field.name] = kind
    return found


def protected_in_path(model, path: str) -> tuple[str, str] | None:
    """The first protected field a lookup path (``member__id_number__startswith``) reads.

    Follows relations (forward and reverse, ``pk`` included) from ``model``; returns
    ``(dotted name, PERSONAL or SECRET)`` of the protected field, or None when the path
    reads none (parts that are not fields are transforms or lookups, and end the walk).
    """
    for part in path.split(LOOKUP_SEP):
        if part == "pk":
            part = model._meta.pk.name
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        kind = field_protection(model, field.name)
        if kind:
            return f"{model._meta.label}.{field.name}", kind
        if not field.is_relation or field.related_model is None:
            return None
        model = field.related_model
    return None


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


def mask_email(value: str | None) -> str:
    """An e-mail address with its local part hidden but the first letter: x***@example.com."""
    if not value or "@" not in value:
        return mask_middle(value)
    local, _at, domain = value.rpartition("@")
    return f"{local[:1]}***@{domain}"
