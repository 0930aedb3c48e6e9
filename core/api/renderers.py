"""``?format=csv`` on any list: every row of the filtered, scoped list through the list's own
serializer (so the masking is the same), written by the one CSV writer (``core.csv``); and the
content negotiation that refuses an empty ``?format=``."""

from __future__ import annotations

import io

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

from core.api.pagination import CSV_CHUNK_SIZE
from core.csv import csv_lines, csv_response


def serializer_columns(serializer: serializers.BaseSerializer, prefix: str = "") -> list[str]:
    """Dotted column names of a serializer's fields, nested serializers flattened one level deep."""
    columns: list[str] = []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer) and not prefix:
            columns.extend(serializer_columns(field, prefix=f"{name}."))
        else:
            columns.append(prefix + name)
    return columns


def flatten_row(row: dict, columns: list[str]) -> list:
    """The values of ``row`` for dotted ``columns``; ``core.csv`` writes (and guards) each one."""
    out = []
    for column in columns:
        value = row
        for part in column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        out.append(value)
    return out


class CSVRenderer(BaseRenderer):
    """``?format=csv``: lists stream through ``CsvListMixin``; this renders everything else."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = data["results"]
        rows = data if isinstance(data, list) else [data]
        columns: list[str] = []
        for row in rows:
            for key, value in row.items() if isinstance(row, dict) else []:
                keys = [f"{key}.{sub}" for sub in value] if isinstance(value, dict) else [key]
                columns.extend(k for k in keys if k not in columns)
        buffer = io.StringIO()
        for line in csv_lines(columns, (flatten_row(row, columns) for row in rows)):
            buffer.write(line)
        return buffer.getvalue().encode("utf-8")


class CsvListMixin:
    """Lists answer ``?format=csv`` with every row (not one page), streamed in chunks."""

    csv_filename: str | None = None

    def wants_csv(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return getattr(renderer, "format", None) == "csv"

    def list(self, request, *args, **kwargs):
        if not self.wants_csv():
            return super().list(request, *args, **kwargs)
        if self.paginator is not None:
            self.paginator.validate_params(request)
        queryset = self.filter_queryset(self.get_queryset())
        serializer = self.get_serializer(many=True)
        columns = serializer_columns(serializer.child)

        def rows():
            # iterator() with prefetch_related runs the prefetches per chunk: a fixed
            # number of queries per CSV_CHUNK_SIZE rows, whatever the list's length.
            for instance in queryset.iterator(chunk_size=CSV_CHUNK_SIZE):
                yield flatten_row(serializer.child.to_representation(instance), columns)

        name = self.csv_filename or getattr(self, "basename", None) or "export"
        return csv_response(columns, rows(), f"{name}.csv")


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's, except that an empty ``?format=`` is refused like an unknown one (404)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if format_suffix is None and request.query_params.get(self.settings.URL_FORMAT_OVERRIDE) == "":
            raise exceptions.NotFound(_("不支持的输出格式；可用 json 或 csv。"))
        return super().select_renderer(request, renderers, format_suffix)
