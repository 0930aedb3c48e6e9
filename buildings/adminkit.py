"""The admin's shared machinery: territory scoping, masking, CSV export, history, domain actions.

Every ModelAdmin of the portal is built on ``ScopedAdmin`` (and every inline on
``ScopedTabularInline`` / ``ScopedStackedInline``), so one rule decides what a
staff user sees, chooses and changes: ``buildings.selectors.scope_queryset``.

* lists, change/delete pages, history and exports read through ``get_queryset``,
  which is scoped (``scope_filter``); an object outside the territory is "not
  found" (the admin redirects with a message), never shown;
* foreign-key and many-to-many choices, including the autocomplete endpoint,
  come from the related model's admin ``scope_filter``, so the form refuses an
  id outside the territory even if it is posted by hand;
* after a save the object must still lie inside the territory, otherwise the
  whole change is rolled back (403);
* phones and ID numbers are masked in lists and exports, and on change pages for
  users without ``members.view_personal_data``;
* "anything beyond a field edit" calls the write side; its domain errors (an
  exception with ``code`` and ``message``) become admin messages, never a 500.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from django import forms
from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.contrib.admin.utils import label_for_field, lookup_field, unquote
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, connections, models
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import cached_property
from django.utils.html import format_html, strip_tags
from django.utils.text import capfirst
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from members.forms import parse_id
from members.validators import mask_id_number, mask_phone

from .models import District, Street
from .selectors import has_staff_scope, scope_queryset

PERSONAL_DATA_PERMISSION = "members.view_personal_data"
CONFIDENTIAL_PERMISSION = "services.view_confidential"

# Personal data wherever it is stored: masked in histories without the permission.
PERSONAL_FIELD_NAMES = ("phone", "id_number")
# Fields never worth showing in a change history (they change on every save).
HISTORY_HIDDEN_FIELDS = {"id", "created_at", "updated_at"}
HISTORY_LIMIT = 500


# --- Who may see what -----------------------------------------------------------


def can_view_personal_data(user) -> bool:
    """Full phones and ID numbers: superusers and holders of members.view_personal_data."""
    return bool(user and user.is_active and user.has_perm(PERSONAL_DATA_PERMISSION))


def can_view_confidential(user) -> bool:
    """Counselling bookings: superusers and holders of services.view_confidential."""
    return bool(user and user.is_active and user.has_perm(CONFIDENTIAL_PERMISSION))


def is_scoped_model(model) -> bool:
    return getattr(model, "district_path", None) is not None


def mask_value(field_name: str, value) -> str:
    if not value:
        return ""
    return mask_id_number(str(value)) if field_name == "id_number" else mask_phone(str(value))


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


def is_domain_error(exc: BaseException) -> bool:
    """A broken business rule raised by the write side (BookingError, TransferError, ...)."""
    return isinstance(exc, Exception) and hasattr(exc, "code") and hasattr(exc, "message")


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(str(m) for m in exc.messages)
    return str(getattr(exc, "message", exc))


# --- List filters scoped to the user's territory --------------------------------


class StreetListFilter(admin.SimpleListFilter):
    """Filter by street; offers only the streets of the user's territory."""

    title = _("街道")
    parameter_name = "street"

    def lookups(self, request, model_admin):
        streets = scope_queryset(Street.objects.select_related("district"), request.user)
        return [(str(s.pk), str(s)) for s in streets]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        pk = parse_id(value)
        if pk is None:
            return queryset.none()
        return queryset.filter(**{queryset.model.street_path: pk})


class DistrictListFilter(admin.SimpleListFilter):
    """Filter by district; offers only the districts of the user's territory."""

    title = _("区")
    parameter_name = "district"

    def lookups(self, request, model_admin):
        districts = scope_queryset(District.objects.all(), request.user)
        return [(str(d.pk), str(d)) for d in districts]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        pk = parse_id(value)
        if pk is None:
            return queryset.none()
        return queryset.filter(**{queryset.model.district_path: pk})


# --- Personal data on change pages ------------------------------------------------


class PersonalDataProtectedFormMixin:
    """Hides the stored phone/ID number from users without the personal-data permission.

    The field is shown empty with the masked value as a hint; left empty, the
    stored value is kept; filled in, it replaces the stored value (so a social
    worker can correct a number without ever reading the old one).
    """

    protected_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._protected_originals = {}
        if not (self.instance and self.instance.pk):
            return
        for name in self.protected_fields:
            field = self.fields.get(name)
            if field is None:
                continue
            current = getattr(self.instance, name, "") or ""
            self._protected_originals[name] = current
            self.initial[name] = ""
            field.required = False
            masked = mask_value(name, current) or _t("（空）")
            field.widget.attrs["placeholder"] = masked
            field.help_text = _t("当前：%(masked)s。留空则保持不变；如需更正，请输入完整的新值。") % {
                "masked": masked
            }

    def clean(self):
        cleaned = super().clean()
        for name, original in self._protected_originals.items():
            if name in cleaned and cleaned[name] in ("", None):
                cleaned[name] = original
        return cleaned


def with_form_error(form_class, message: str):
    """The same form, invalid with ``message`` as its non-field error."""

    def clean(self):
        cleaned = super(form, self).clean()
        self.add_error(None, message)
        return cleaned

    form = type(form_class.__name__, (form_class,), {"clean": clean, "__module__": form_class.__module__})
    return form


def _condition_fields(q) -> set[str]:
    names = set()
    for child in q.children:
        if isinstance(child, models.Q):
            names |= _condition_fields(child)
        else:
            names.add(child[0].split("__")[0])
    return names


def exclusion_condition_fields(model) -> frozenset[str]:
    """Fields read by the conditions of the model's PostgreSQL exclusion constraints."""
    from django.contrib.postgres.constraints import ExclusionConstraint

    names: set[str] = set()
    for constraint in model._meta.constraints:
        if isinstance(constraint, ExclusionConstraint) and constraint.condition is not None:
            names |= _condition_fields(constraint.condition)
    return frozenset(names)


def include_in_validation(form_class, names: Iterable[str] = (), *, inline: bool = False):
    """Validate the model's constraints with these fields too (from the instance's values).

    Django leaves out of a form's constraint validation every field that is not
    on the form (read-only fields, an inline's foreign key to its parent) or
    that has an error. Two things go wrong: a constraint over such a field is
    silently skipped (the database then refuses, a 500), and
    ExclusionConstraint.validate() crashes with a FieldError when its condition
    reads such a field. The fields read by exclusion-constraint conditions are
    always included, as are ``names`` (for an inline: its foreign key, which
    ModelForm excludes once more after this hook, hence the second pass).
    """
    names = frozenset(names) | exclusion_condition_fields(form_class._meta.model)
    if not names:
        return form_class

    def _get_validation_exclusions(self):
        return super(form, self)._get_validation_exclusions() - names

    def _post_clean(self):
        super(form, self)._post_clean()
        # ModelForm adds an inline's foreign key to the exclusions after the hook
        # above; validate the constraints once more with it, if all else is valid.
        if not self._errors:
            try:
                self.instance.validate_constraints(exclude=self._get_validation_exclusions())
            except ValidationError as exc:
                self._update_errors(exc)

    attrs = {"_get_validation_exclusions": _get_validation_exclusions, "__module__": form_class.__module__}
    if inline:
        attrs["_post_clean"] = _post_clean
    form = type(form_class.__name__, (form_class,), attrs)
    return form


class ConstraintViolation(Exception):
    """The database refused a write by one of its constraints; ``message`` says which rule."""

    code = "constraint_violation"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def constraint_violation(exc: IntegrityError) -> ConstraintViolation | None:
    """The rule behind a constraint violation, in the words of its ``violation_error_message``."""
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if not name:
        return None
    for model in django_apps.get_models():
        for constraint in model._meta.constraints:
            if constraint.name == name:
                return ConstraintViolation(str(constraint.get_violation_error_message()))
    return ConstraintViolation(_t("与已有记录冲突，未保存。请检查后重试。"))


def protect_personal_fields(form_class, fields: Iterable[str]):
    fields = tuple(fields)
    return type(
        f"PersonalDataProtected{form_class.__name__}",
        (PersonalDataProtectedFormMixin, form_class),
        {"protected_fields": fields, "__module__": form_class.__module__},
    )


# --- Scoping shared by admins and inlines -------------------------------------------


class ScopedQuerysetMixin:
    """Scoped querysets and scoped foreign-key / many-to-many choices."""

    #: fields holding phones / ID numbers (masked on change pages and in history)
    personal_fields: tuple[str, ...] = ()

    def scope_filter(self, request, queryset):
        """Narrow ``queryset`` to the user's territory (override to add more rules)."""
        if is_scoped_model(queryset.model):
            return scope_queryset(queryset, request.user)
        return queryset if request.user.is_superuser else queryset.none()

    def get_queryset(self, request):
        return self.scope_filter(request, super().get_queryset(request))

    def get_field_queryset(self, db, db_field, request):
        """FK/M2M choices: what the related model's admin lets this user see."""
        related_model = db_field.remote_field.model
        queryset = super().get_field_queryset(db, db_field, request)
        if queryset is None:
            queryset = related_model._default_manager.using(db).all()
        related_admin = self.admin_site._registry.get(related_model)
        if isinstance(related_admin, ScopedQuerysetMixin):
            return related_admin.scope_filter(request, queryset)
        if is_scoped_model(related_model):
            return scope_queryset(queryset, request.user)
        return queryset

    def hide_personal_data(self, request) -> bool:
        return bool(self.personal_fields) and not can_view_personal_data(request.user)


class ScopedInlineMixin(ScopedQuerysetMixin):
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = include_in_validation(formset.form, [formset.fk.name], inline=True)
        if self.hide_personal_data(request):
            formset.form = protect_personal_fields(formset.form, self.personal_fields)
        return formset


class ScopedTabularInline(ScopedInlineMixin, admin.TabularInline):
    extra = 0
    show_change_link = True


class ScopedStackedInline(ScopedInlineMixin, admin.StackedInline):
    extra = 0


class ReadOnlyInlineMixin:
    """An inline that lists rows written elsewhere (e.g. bookings, by the booking engine)."""

    can_delete = False
    extra = 0
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [*self.fields] if self.fields else [f.name for f in self.model._meta.fields]


# --- CSV export ----------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")


class _Echo:
    """A file-like object whose write() hands the row back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value, field=None) -> str:
    if value is None:
        return ""
    if field is not None and getattr(field, "flatchoices", None):
        value = dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        text = _t("是") if value else _t("否")
    elif isinstance(value, datetime.datetime):
        text = (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
        )
    elif isinstance(value, datetime.date):
        text = value.isoformat()
    elif isinstance(value, Decimal | int | float):
        text = str(value)
    elif isinstance(value, models.Manager):
        text = "、".join(str(v) for v in value.all())
    else:
        text = strip_tags(str(value)).strip()
    # Spreadsheet formula injection: a cell must not start like a formula.
    if text and text[0] in "=+-@\t\r" and not _NUMBER_RE.match(text):
        text = "'" + text
    return text


def stream_csv(model_admin, request, queryset, filename: str) -> StreamingHttpResponse:
    columns = [name for name in model_admin.get_export_fields(request) if name != "action_checkbox"]
    headers = [str(label_for_field(name, model_admin.model, model_admin)) for name in columns]

    def rows() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield "\ufeff"  # BOM: spreadsheet programs then read the Chinese text as UTF-8
        yield writer.writerow(headers)
        for obj in queryset.iterator(chunk_size=2000):
            row = []
            for name in columns:
                try:
                    field, _attr, value = lookup_field(name, obj, model_admin)
                except ObjectDoesNotExist:
                    field, value = None, None
                row.append(csv_cell(value, field))
            yield writer.writerow(row)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- History (django-pghistory) -------------------------------------------------------


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

    from members.models import User

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
        if url.startswith("/admin/"):
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


# --- Pagination ------------------------------------------------------------------------


class LargeTablePaginator(Paginator):
    """The admin's paginator: an unfiltered list of a big table is counted by the planner.

    Counting a million bookings costs 50–100 ms on every page of the list, for a
    number nobody reads to the unit. When the list is the whole table (no WHERE:
    a superuser without filters or search) and PostgreSQL's own estimate
    (``pg_class.reltuples``, kept by ANALYZE and autovacuum) is at least
    ``ESTIMATE_FROM`` rows, that estimate is the count. Every filtered or scoped
    list, and every small table, is counted exactly.
    """

    ESTIMATE_FROM = 100_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and not query.distinct and not query.combinator:
            estimate = table_row_estimate(self.object_list.model, using=self.object_list.db)
            if estimate >= self.ESTIMATE_FROM:
                return estimate
        return super().count


def table_row_estimate(model, *, using: str = "default") -> int:
    """PostgreSQL's estimate of the rows in ``model``'s table; -1 before the first ANALYZE."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        row = cursor.fetchone()
    return int(row[0]) if row else -1


# --- The base ModelAdmin ---------------------------------------------------------------


#: Django's own message (translated by Django's catalog; a variable, so makemessages leaves it there)
ROW_CHECKBOX_LABEL = "Select this object for an action - {}"


class ScopedAdmin(ScopedQuerysetMixin, admin.ModelAdmin):
    """A ModelAdmin that shows, offers and changes only what lies in the user's territory."""

    list_per_page = 50
    show_full_result_count = False  # one COUNT(*) per page is enough at city scale
    paginator = LargeTablePaginator  # ... and none for a whole big table
    #: columns of the CSV export (default: the list columns)
    export_fields: tuple[str, ...] | None = None
    history_template = "admin/scoped_history.html"
    #: tracked models whose rows belong to this one; their changes show in its history
    history_includes: tuple = ()

    def action_checkbox(self, obj):
        """Django's row checkbox, written directly: Django renders a CheckboxInput through the
        template engine for every row, a seventh of a 50-row member list's time. The markup is
        the same (tests/test_admin_performance.py compares the two)."""
        label = format_html(_t(ROW_CHECKBOX_LABEL), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            admin.helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    # Permissions: territory first, then Django's model permissions, then the object.

    def has_module_permission(self, request):
        return has_staff_scope(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if not has_staff_scope(request.user) or not super().has_view_permission(request, obj):
            return False
        return obj is None or self.is_in_scope(request, obj)

    def has_add_permission(self, request):
        return has_staff_scope(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if not has_staff_scope(request.user) or not super().has_change_permission(request, obj):
            return False
        return obj is None or self.is_in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        if not has_staff_scope(request.user) or not super().has_delete_permission(request, obj):
            return False
        return obj is None or self.is_in_scope(request, obj)

    def is_in_scope(self, request, obj) -> bool:
        if obj is None or obj.pk is None:
            return True
        cache = request.__dict__.setdefault("_admin_scope_cache", {})
        key = (obj._meta.label, obj.pk)
        if key not in cache:
            cache[key] = self.scope_filter(request, self.model._default_manager.filter(pk=obj.pk)).exists()
        return cache[key]

    # Forms: personal data protected, the saved object must stay in the territory.

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = include_in_validation(super().get_form(request, obj, change=change, **kwargs))
        if obj is not None and self.hide_personal_data(request):
            form = protect_personal_fields(form, self.personal_fields)
        refusal = getattr(request, "_admin_domain_error", None)
        if refusal is not None:
            form = with_form_error(form, error_message(refusal))
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A save the write side refuses is shown on the form, with the input kept, never a 500.

        The refused attempt ran inside the admin's transaction, which the
        exception rolled back; the form is then validated again with the
        refusal as its error, so nothing is saved and nothing typed is lost.
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Exception as exc:
            refusal = constraint_violation(exc) if isinstance(exc, IntegrityError) else exc
            if (
                request.method != "POST"
                or refusal is None
                or not is_domain_error(refusal)
                or hasattr(request, "_admin_domain_error")
            ):
                raise
            request._admin_domain_error = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.ensure_in_scope(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.ensure_in_scope(request, form.instance)

    def ensure_in_scope(self, request, obj) -> None:
        """Refuse (and, inside the admin's transaction, roll back) a save that leaves the territory."""
        request.__dict__.get("_admin_scope_cache", {}).pop((obj._meta.label, obj.pk), None)
        if not self.is_in_scope(request, obj):
            raise PermissionDenied(_t("该记录不在您负责的范围内。"))

    # Actions: CSV export on every list, domain actions with messages.

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "export_csv" not in actions and self.has_view_permission(request):
            actions["export_csv"] = self.get_action("export_csv")
        return actions

    def get_export_fields(self, request) -> list[str]:
        return list(self.export_fields or self.get_list_display(request))

    @admin.action(description=_("导出所选%(verbose_name_plural)s（CSV）"), permissions=["view"])
    def export_csv(self, request, queryset):
        queryset = self.scope_filter(request, queryset)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return stream_csv(self, request, queryset, f"{self.opts.model_name}-{stamp}.csv")

    def run_domain_action(
        self,
        request,
        queryset,
        func: Callable,
        *,
        done_message: str,
        permission: str = "change",
    ) -> None:
        """Call the write side once per selected object; report successes and refusals in Chinese."""
        check = getattr(self, f"has_{permission}_permission")
        done = 0
        for obj in queryset:
            if not check(request, obj):
                self.message_user(request, _t("“%(obj)s”：没有权限。") % {"obj": obj}, messages.ERROR)
                continue
            try:
                func(obj)
            except ValidationError as exc:
                self.message_user(request, f"“{obj}”：{error_message(exc)}", messages.ERROR)
            except IntegrityError as exc:
                refusal = constraint_violation(exc)
                if refusal is None:
                    raise
                self.message_user(request, f"“{obj}”：{refusal.message}", messages.ERROR)
            except Exception as exc:
                if not is_domain_error(exc):
                    raise
                self.message_user(request, f"“{obj}”：{error_message(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    # History: the pghistory record of the object (who, when, before/after).

    def history_view(self, request, object_id, extra_context=None):
        if not tracked_event_models(self.model):
            return super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        hide = () if can_view_personal_data(request.user) else PERSONAL_FIELD_NAMES
        context = {
            **self.admin_site.each_context(request),
            "title": _t("变更记录：%s") % obj,
            "subtitle": None,
            "entries": history_entries(self.model, obj, hide_personal=hide, includes=self.history_includes),
            "history_limit": HISTORY_LIMIT,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_template, context)


def note_form_response(model_admin, request, queryset, *, action: str, title: str, label: str):
    """An intermediate page asking for a note before an action (e.g. the reason for a rejection).

    Returns None when the note was submitted (the caller then runs the action with
    ``request.POST["note"]``), otherwise the page to show.
    """
    form = NoteForm(request.POST if "confirm" in request.POST else None, label=label)
    if form.is_bound and form.is_valid():
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "form": form,
        "queryset": queryset,
        "action": action,
        "opts": model_admin.opts,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/action_note.html", context)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["note"].label = label
