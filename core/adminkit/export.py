"""CSV and .xlsx export of an admin list, through the one cell writer (``core.csv``).

Lists whose model has a spreadsheet resource export the import template's columns
instead (``core.adminkit.spreadsheets``), so that an export can be imported back.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import ObjectDoesNotExist

from core.csv import cell_text, csv_response


def list_rows(model_admin, request, queryset) -> tuple[list[str], Iterator[list[str]]]:
    """Headers and rows of the list's export columns (``get_export_fields``)."""
    columns = [name for name in model_admin.get_export_fields(request) if name != "action_checkbox"]
    headers = [str(label_for_field(name, model_admin.model, model_admin)) for name in columns]

    def rows() -> Iterator[list[str]]:
        for obj in queryset.iterator(chunk_size=2000):
            row = []
            for name in columns:
                try:
                    field, _attr, value = lookup_field(name, obj, model_admin)
                except ObjectDoesNotExist:
                    field, value = None, None
                row.append(cell_text(value, field))
            yield row

    return headers, rows()


def stream_csv(model_admin, request, queryset, filename: str):
    """The list's export columns of every row of ``queryset``, as a streamed CSV."""
    headers, rows = list_rows(model_admin, request, queryset)
    return csv_response(headers, rows, filename)


def xlsx_export(model_admin, request, queryset, filename: str):
    """The list's export columns of every row of ``queryset``, as an .xlsx workbook."""
    from core.spreadsheets.writer import xlsx_response

    headers, rows = list_rows(model_admin, request, queryset)
    return xlsx_response(filename, [(str(model_admin.opts.verbose_name_plural), headers, rows)])
