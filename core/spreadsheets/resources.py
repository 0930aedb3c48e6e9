"""The base of every app's import/export resource (django-import-export ``ModelResource``).

An app declares, next to its admin, one resource per model (``buildings/resources.py``):
its columns (``Column``: a translated header, a widget, whether it must be filled,
an example and a line of help for the template), the natural key that finds the
existing record (``Meta.import_id_fields``), and registers it (``registry.register``).
Everything else is here, once:

* headers in Chinese or English are both accepted; a missing required column or an
  unknown column refuses the file (``check_headers``);
* every row runs through the model's ``full_clean()`` (our validators, ``clean()``,
  constraints with their ``violation_error_message``), and a database constraint
  that still refuses the row becomes that row's error, never a 500;
* a row whose record lies outside the importing user's streets is that row's error
  (``core.scoping``), whether the record is new or already exists elsewhere;
* rows that change nothing are reported as unchanged and not saved, so importing the
  same file twice writes nothing, not even a history row;
* phones and ID numbers are masked on export unless the user may see them, and a
  masked cell imported back keeps the stored value (and is refused for a new record);
* the differences of a changed row, column by column (masked the same way).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    MultipleObjectsReturned,
    ValidationError,
)
from django.db import IntegrityError, transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.instance_loaders import ModelInstanceLoader

from core.errors import DomainError
from core.masking import mask_value
from core.scoping import can_view_personal_data, street_in_scope

from .errors import SpreadsheetRefused
from .widgets import TextWidget, all_languages, cell_str

#: The column our error-rows download adds; ignored when the file comes back.
ERROR_COLUMN = _("错误说明")
MASK_CHAR = "*"


def street_of(instance):
    """The street a record belongs to, from its model's ``street_path`` (None if not set yet)."""
    path = getattr(type(instance), "street_path", None)
    if not path:
        return None
    value = instance
    for part in path.split("__"):
        if part == "pk":
            return value
        try:
            value = getattr(value, part, None)
        except Exception:  # an unset foreign key of an unsaved instance
            return None
        if value is None:
            return None
    return value


class Column(fields.Field):
    """A spreadsheet column: a header (translated), a widget, and what the template says of it."""

    def __init__(
        self,
        attribute=None,
        label=None,
        widget=None,
        *,
        required: bool = False,
        example: str = "",
        help=None,
        allowed=None,
        personal: bool = False,
        source: Callable | None = None,
        **kwargs,
    ):
        super().__init__(attribute=attribute, column_name=label, widget=widget or TextWidget(), **kwargs)
        self.source = source
        self.label = label
        self.required = required
        self.example = example
        self.help = help
        self.allowed = allowed
        self.personal = personal

    def get_value(self, instance):
        # A helper column (the row's street, a building that locates a space) is no field of the
        # record: it exports, and compares, what ``source`` reads from the record.
        if self.source is not None:
            return self.source(instance)
        return super().get_value(instance)


class NaturalKeyLoader(ModelInstanceLoader):
    """Finds the existing record by the resource's natural key, in the whole city (not the
    user's streets: a record of another street must be refused, not created a second time).
    A key cell that cannot be read finds nothing; the row's validation says what is wrong."""

    def get_instance(self, row):
        try:
            return self.resource.find_existing(row)
        except (ValueError, ValidationError, MultipleObjectsReturned, DomainError):
            return None


class RowDiff(resources.Diff):
    """The changes of a row as (column, before, after) in export form (masked as exported)."""

    def __init__(self, resource, instance, new):
        self.resource = resource
        self.left = resource.row_snapshot(instance) if not new else None
        self.right = None
        self.new = new

    def compare_with(self, resource, instance):
        self.right = resource.row_snapshot(instance) if instance is not None else None

    def as_html(self):  # the library's name; we keep structured data, rendered by our template
        if self.new or self.left is None or self.right is None:
            return []
        return [
            (column, before, after)
            for (column, before), (_c, after) in zip(self.left, self.right, strict=True)
            if before != after
        ]


class PortalResource(resources.ModelResource):
    """Base resource: scoping, masking, ``full_clean``, constraint errors, unchanged rows skipped."""

    #: the column whose cell decides the row's street (its error when outside the user's streets)
    scope_column: str | None = None
    #: a line for the template's explanation sheet about this kind of record
    template_note = None
    #: joins an export needs (the columns follow these relations)
    export_select_related: tuple[str, ...] = ()
    export_prefetch_related: tuple[str, ...] = ()

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True
        store_instance = True
        instance_loader_class = NaturalKeyLoader

    def __init__(self, *, user=None, show_personal: bool | None = None, progress: Callable | None = None):
        super().__init__()
        self.user = user
        if show_personal is None:  # no user: the command line, run by the server's operator
            show_personal = user is None or can_view_personal_data(user)
        self.show_personal = show_personal
        self.progress = progress
        for field in self.fields.values():
            if isinstance(field, Column) and field.label is not None:
                field.column_name = str(field.label)
            if hasattr(field.widget, "user"):  # look-ups limited to what the user may see
                field.widget.user = user
        self._cache: dict = {}

    @classmethod
    def get_diff_class(cls):
        return RowDiff

    # --- Columns ------------------------------------------------------------------------

    def columns(self) -> list[Column]:
        return [f for f in self.get_export_fields() if isinstance(f, Column)]

    def headers(self) -> list[str]:
        return [c.column_name for c in self.columns()]

    def column_label(self, key: str) -> str:
        """The header of the column a validation error's key (a model field name) is about."""
        if key == NON_FIELD_ERRORS:
            return ""
        for name, field in self.fields.items():
            if key in (name, field.attribute, f"{field.attribute}_id") or f"{key}_id" == field.attribute:
                return field.column_name
        try:
            return str(capfirst(self._meta.model._meta.get_field(key).verbose_name))
        except FieldDoesNotExist:
            return key

    def check_headers(self, dataset) -> None:
        """Rename headers (either language) to this resource's; refuse unknown and missing columns."""
        aliases = {}
        for column in self.columns():
            for alias in all_languages(column.label):
                aliases[alias] = column.column_name
        ignored = all_languages(ERROR_COLUMN)
        headers, unknown = [], []
        for header in dataset.headers:
            text = cell_str(header)
            if text in aliases:
                headers.append(aliases[text])
            elif text in ignored or text == "":
                headers.append(text or "")
            else:
                headers.append(text)
                unknown.append(text)
        duplicates = sorted({h for h in headers if h and headers.count(h) > 1})
        missing = [c.column_name for c in self.columns() if c.required and c.column_name not in headers]
        problems = []
        if missing:
            problems.append(_t("缺少必填列：%(columns)s。") % {"columns": "、".join(missing)})
        if unknown:
            problems.append(_t("无法识别的列：%(columns)s。") % {"columns": "、".join(unknown)})
        if duplicates:
            problems.append(_t("重复的列：%(columns)s。") % {"columns": "、".join(duplicates)})
        if problems:
            problems.append(_t("请使用下载的模板，列名须与模板一致。"))
            raise SpreadsheetRefused("columns", "".join(problems))
        dataset.headers = headers
        for name in {h for h in headers if h in ignored or h == ""}:
            if name in dataset.headers:
                del dataset[name]

    # --- Finding records ------------------------------------------------------------------

    def find_existing(self, row):
        """The existing record with the row's natural key (``Meta.import_id_fields``), or None."""
        params = {}
        for name in self.get_import_id_fields():
            field = self.fields[name]
            if field.column_name not in row:
                return None
            value = field.clean(row)
            if value in (None, ""):
                return None
            params[field.attribute] = value
        if not params:
            return None
        return self._meta.model._default_manager.filter(**params).first()

    def cached(self, key, compute: Callable):
        """A per-import cache for look-ups many rows repeat (a street, an organization)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # --- Rows -----------------------------------------------------------------------------

    def after_init_instance(self, instance, new, row, **kwargs):
        self._row_new = new
        self._row_street_before = None if new else self.street_of(instance)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if isinstance(field, Column) and field.personal and field.column_name in row:
            text = cell_str(row[field.column_name])
            if MASK_CHAR in text:
                # An exported (masked) value: keep what is stored when it is the same value masked.
                current = getattr(instance, field.attribute, "") or ""
                if (
                    not getattr(self, "_row_new", True)
                    and current
                    and mask_value(field.attribute, current) == text
                ):
                    return
                raise ValueError(_t("该值已脱敏（含 *），请填写完整内容。"))
        return super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def street_of(self, instance):
        return street_of(instance)

    def scope_errors(self, instance) -> dict:
        if self.user is None or self.user.is_superuser:
            return {}
        key = self.scope_column or NON_FIELD_ERRORS
        before = getattr(self, "_row_street_before", None)
        if not getattr(self, "_row_new", True) and not street_in_scope(self.user, before):
            return {key: [_t("该记录属于您负责范围以外的街道，不能修改。")]}
        street = self.street_of(instance)
        if street is not None and not street_in_scope(self.user, street):
            return {key: [_t("“%(street)s”不在您负责的街道范围内。") % {"street": street.name}]}
        return {}

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        for key, messages in self.scope_errors(instance).items():
            errors[key] = [ValidationError(m) for m in messages]
        if errors.get(self.scope_column or NON_FIELD_ERRORS) and self.scope_column:
            raise ValidationError(errors)  # nothing else is worth checking outside the territory
        extra = self.clean_row(instance)
        for key, message in extra.items():
            errors.setdefault(key, []).append(
                ValidationError(message) if isinstance(message, str) else message
            )
        super().validate_instance(instance, errors or None, validate_unique=validate_unique)

    def clean_row(self, instance) -> dict:
        """Rules of the import beyond ``full_clean()`` (override): {field: message}."""
        return {}

    def do_instance_save(self, instance, is_create):
        """Save through ``save_record`` in a savepoint; a refusal becomes this row's error."""
        try:
            with transaction.atomic():
                self.save_record(instance, is_create)
        except IntegrityError as exc:
            name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
            from core.adminkit.errors import constraint_violation

            violation = constraint_violation(exc)
            if violation is None:
                raise
            field = getattr(instance, "constraint_error_fields", {}).get(name) or NON_FIELD_ERRORS
            raise ValidationError({field: [violation.message]}) from None
        except DomainError as exc:
            raise ValidationError({NON_FIELD_ERRORS: [str(exc.message)]}) from None

    def save_record(self, instance, is_create) -> None:
        """Write one record (override to call an app's write function)."""
        instance.save(force_insert=is_create)

    def after_import_row(self, row, row_result, **kwargs):
        if self.progress is not None:
            self.progress(kwargs.get("row_number", 0))

    # --- Export ---------------------------------------------------------------------------

    def export_queryset(self, queryset):
        queryset = queryset.select_related(*self.export_select_related)
        if self.export_prefetch_related:
            queryset = queryset.prefetch_related(*self.export_prefetch_related)
        return queryset

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(field, Column) and field.personal and not self.show_personal:
            return mask_value(field.attribute, value)
        return value

    def row_snapshot(self, instance) -> list[tuple[str, str]]:
        return [(c.column_name, str(self.export_field(c, instance))) for c in self.columns() if c.attribute]

    def example_row(self) -> list[str]:
        return [str(c.example) for c in self.columns()]

    def help_rows(self) -> list[list[str]]:
        """The template's explanation sheet: column, required, what to write, allowed values."""
        rows = []
        model = self._meta.model
        for column in self.columns():
            help_text = column.help
            if help_text is None and column.attribute:
                try:
                    help_text = model._meta.get_field(column.attribute).help_text
                except FieldDoesNotExist:
                    help_text = ""
            allowed = column.allowed
            if allowed is None and hasattr(column.widget, "labels"):
                allowed = "、".join(column.widget.labels())
            if allowed is None:
                allowed = getattr(column.widget, "example_format", "")
            rows.append(
                [
                    column.column_name,
                    _t("必填") if column.required else _t("选填"),
                    str(help_text or ""),
                    str(allowed or ""),
                ]
            )
        return rows
