"""CSV export of an admin list, through the one CSV writer (``core.csv``)."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import ObjectDoesNotExist

from core.csv import cell_text, csv_response


def stream_csv(model_admin, request, queryset, filename: str):
    """The list's export columns (``get_export_fields``) of every row of ``queryset``, streamed."""
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

    return csv_response(headers, rows(), filename)
