"""The change history of a record (django-pghistory): when, who, through what, and each field
before and after, personal data masked without the permission."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _t

from core.masking import mask_value

# Fields never worth showing in a change history (they change on every save).
HISTORY_HIDDEN_FIELDS = {"id", "created_at", "updated_at"}
HISTORY_LIMIT = 500


def tracked_event_models(model) -> list:
    from pghistory.core import event_models

    return event_models(tracks_model=model)


def _format_history_value(model, name: str, raw, related_labels: dict, hide_personal: tuple) -> str:
    if raw is None or raw == "":
        return "—"
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(raw)
    if field.name in hide_personal:
        return mask_value(field.name, raw)
    if field.is_relation and field.many_to_one:
        return related_labels.get((field.related_model, raw), f"#{raw}")
    if getattr(field, "flatchoices", None):
        return str(dict(field.flatchoices).get(raw, raw))
    if isinstance(raw, bool):
        return _t("是") if raw else _t("否")
    if isinstance(field, models.DateTimeField) and isinstance(raw, str):
        parsed = parse_datetime(raw)
        if parsed is not None:
            return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")
    if isinstance(field, models.DateField) and isinstance(raw, str) and parse_date(raw[:10]):
        return raw[:10]
    return str(raw)


def _field_label(model, name: str) -> str:
    try:
        return str(capfirst(model._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:
        return name


def _record_label(model, data: dict) -> str:
    """How a row of ``model`` read from its event data (it may no longer exist) is named."""
    try:
        values = {f.attname: data[f.attname] for f in model._meta.concrete_fields if f.attname in data}
        return f"{model._meta.verbose_name}：{model(**values)}"
    except Exception:  # a __str__ that needs the database: fall back to the id
        return f"{model._meta.verbose_name} #{data.get('id', '')}"


def history_entries(model, obj, *, hide_personal=(), includes: Iterable = ()) -> list[dict]:
    """The recorded changes of ``obj``, newest first: when, who, how, and each field before/after.

    ``includes``: tracked models whose rows point at ``obj`` (e.g. the seats of a
    committee); their changes are listed too, each named after its row.
    """
    from pghistory.models import MiddlewareEvents

    User = get_user_model()

    events = MiddlewareEvents.objects.tracks(obj)
    if includes:
        event_models = [*tracked_event_models(model)]
        for included in includes:
            event_models += tracked_event_models(included)
        events = MiddlewareEvents.objects.references(obj).across(*event_models)
    events = list(events.order_by("-pgh_created_at", "-pgh_id")[:HISTORY_LIMIT])
    models_by_label = {m._meta.label: m for m in (model, *includes)}

    # Resolve foreign keys and users in one query per related model.
    wanted: dict = {}
    for event in events:
        event_model = models_by_label.get(event.pgh_obj_model, model)
        data = event.pgh_data or {}
        diff = event.pgh_diff or {}
        for name, value in [*data.items(), *[(k, v[0]) for k, v in diff.items()]]:
            try:
                field = event_model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if field.is_relation and field.many_to_one and value is not None:
                wanted.setdefault(field.related_model, set()).add(value)
    related_labels = {}
    for related_model, ids in wanted.items():
        for related in related_model._base_manager.filter(pk__in=ids):
            related_labels[(related_model, related.pk)] = str(related)
    user_ids = {(event.pgh_context or {}).get("user") for event in events} - {None}
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)}

    labels = {"insert": _t("新增"), "update": _t("修改"), "delete": _t("删除")}
    entries = []
    for event in events:
        event_model = models_by_label.get(event.pgh_obj_model, model)
        context = event.pgh_context or {}
        user = users.get(context.get("user"))
        url = context.get("url") or ""
        if context.get("import_id"):
            # A spreadsheet import (core.spreadsheets): the history names the import it came from.
            via = _t("导入 #%(id)s（%(file)s）") % {
                "id": context["import_id"],
                "file": context.get("import_file", ""),
            }
        elif url.startswith("/admin/"):
            via = _t("管理后台")
        elif url.startswith("/api/"):
            via = _t("API")
        elif url:
            via = _t("门户")
        else:
            via = _t("系统任务")
        if event.pgh_label == "update":
            pairs = [(name, old, new) for name, (old, new) in (event.pgh_diff or {}).items()]
        else:
            pairs = [(name, None, value) for name, value in (event.pgh_data or {}).items()]
        changes = [
            {
                "field": _field_label(event_model, name),
                "before": ""
                if event.pgh_label != "update"
                else _format_history_value(event_model, name, old, related_labels, hide_personal),
                "after": _format_history_value(event_model, name, new, related_labels, hide_personal),
            }
            for name, old, new in pairs
            if name not in HISTORY_HIDDEN_FIELDS
        ]
        if event.pgh_label == "update" and not changes:
            continue  # saved without a visible change (only the update time moved)
        is_obj = event_model is model and str(event.pgh_obj_id) == str(obj.pk)
        entries.append(
            {
                "when": event.pgh_created_at,
                "user": user,
                "user_id": context.get("user"),
                "via": via,
                "action": labels.get(event.pgh_label, event.pgh_label),
                "record": "" if is_obj else _record_label(event_model, event.pgh_data or {}),
                "changes": changes,
            }
        )
    return entries
