"""The admin's shared machinery: territory scoping, masking, CSV export, history, domain actions.

Every ModelAdmin of the portal is built on ``ScopedAdmin`` (and every inline on
``ScopedTabularInline`` / ``ScopedStackedInline``), so one rule decides what a
staff user sees, chooses and changes: ``core.scoping.scope_queryset``.

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
* the list applies only the lookups its own filters, date drill-down and links produce,
  and never one on a masked or secret field (``core.masking``), directly or through a
  relation; the admin's checks refuse a filter, sort, column or partial search on one;
* "anything beyond a field edit" calls the write side; its refusals (every
  ``core.errors.DomainError``, and constraint violations) become admin messages or
  form errors, never a 500.

* every list exports CSV and .xlsx; a list with ``SpreadsheetAdminMixin`` imports
  spreadsheets (template, preview, error rows, confirm) and exports the template's
  columns, so export → edit → import round-trips (``core.spreadsheets``).

Modules: ``scoped`` (the base admin and inlines), ``lookups``, ``columns``, ``filters``,
``forms``, ``errors``, ``export``, ``history``, ``pagination``, ``spreadsheets``; the names
below are the interface.
"""

from core.adminkit.columns import masked_column, related_column
from core.adminkit.errors import ConstraintViolation, constraint_violation, error_message, is_domain_error
from core.adminkit.export import stream_csv, xlsx_export
from core.adminkit.filters import DistrictListFilter, StreetListFilter, related_model_at
from core.adminkit.forms import (
    NoteForm,
    PersonalDataProtectedFormMixin,
    exclusion_condition_fields,
    include_in_validation,
    note_form_response,
    protect_personal_fields,
    with_form_error,
)
from core.adminkit.history import HISTORY_LIMIT, history_entries, tracked_event_models
from core.adminkit.lookups import LookupGuardMixin, guarded_changelist, protected_field_errors
from core.adminkit.pagination import LargeTablePaginator, table_row_estimate
from core.adminkit.scoped import (
    ReadOnlyInlineMixin,
    ScopedAdmin,
    ScopedInlineMixin,
    ScopedQuerysetMixin,
    ScopedStackedInline,
    ScopedTabularInline,
)
from core.adminkit.spreadsheets import SpreadsheetAdminMixin
from core.masking import PERSONAL_FIELD_NAMES, mask_value
from core.scoping import can_view_confidential, can_view_personal_data, hide_confidential, is_scoped_model

__all__ = [
    "HISTORY_LIMIT",
    "PERSONAL_FIELD_NAMES",
    "ConstraintViolation",
    "DistrictListFilter",
    "LargeTablePaginator",
    "LookupGuardMixin",
    "NoteForm",
    "PersonalDataProtectedFormMixin",
    "ReadOnlyInlineMixin",
    "ScopedAdmin",
    "ScopedInlineMixin",
    "ScopedQuerysetMixin",
    "ScopedStackedInline",
    "ScopedTabularInline",
    "SpreadsheetAdminMixin",
    "StreetListFilter",
    "can_view_confidential",
    "can_view_personal_data",
    "constraint_violation",
    "error_message",
    "exclusion_condition_fields",
    "guarded_changelist",
    "hide_confidential",
    "history_entries",
    "include_in_validation",
    "is_domain_error",
    "is_scoped_model",
    "mask_value",
    "masked_column",
    "note_form_response",
    "protected_field_errors",
    "protect_personal_fields",
    "related_column",
    "related_model_at",
    "stream_csv",
    "table_row_estimate",
    "tracked_event_models",
    "with_form_error",
    "xlsx_export",
]
