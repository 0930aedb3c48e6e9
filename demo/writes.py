"""Idempotent writes for the demo: a row found by its natural key is written only when it differs."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import models

from committees.models import CommitteeSeat
from services.models import Booking, Event

SEED = 20240701
PASSWORD = "demo12345"
SHANGHAI = ZoneInfo("Asia/Shanghai")

Role = CommitteeSeat.Role
Kind = Event.Kind
BStatus = Booking.Status


# --- idempotent writes ----------------------------------------------------------------------------


def _differs(obj: models.Model, name: str, wanted) -> bool:
    field = obj._meta.get_field(name)
    if field.is_relation and field.concrete:  # compare ids: no query for the related row
        return getattr(obj, field.attname) != (wanted.pk if isinstance(wanted, models.Model) else wanted)
    current = getattr(obj, name)
    if isinstance(current, Decimal) or isinstance(wanted, Decimal):
        return Decimal(str(current)) != Decimal(str(wanted))
    return current != wanted  # aware datetimes compare as instants


def upsert(
    model: type[models.Model],
    lookup: dict,
    values: dict,
    counter: dict | None = None,
    *,
    on_create: dict | None = None,
):
    """Find ``model`` by its natural key ``lookup``; create it, or save only the fields that differ.

    ``on_create`` holds values written only when the row is new (e.g. a count
    that a later step derives from other rows).

    Saving nothing when nothing differs keeps a second run from touching
    ``updated_at`` or writing history. Fields and ``clean()`` are validated so
    the demo data passes the same rules as the admin; uniqueness and the other
    constraints are left to the database, which checks them anyway (asking
    first would triple the queries).
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values, **(on_create or {}))
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        if counter is not None:
            counter["created"] += 1
        return obj
    changed = [name for name, value in values.items() if _differs(obj, name, value)]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.full_clean(validate_unique=False, validate_constraints=False)
        fields = [model._meta.get_field(name).name for name in changed]
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            fields.append("updated_at")
        obj.save(update_fields=fields)
        if counter is not None:
            counter["updated"] += 1
    return obj
