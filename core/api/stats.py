"""What every statistics endpoint shares: ids as ``4,5,6``, blank parameters ignored, CSV as a download.

The statistics views (services: coverage and activity; committees: demands) validate their
query with a serializer of these fields, read ``without_blanks(request.query_params)``, and
answer ``?format=csv`` with ``csv_attachment``.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.response import Response


class IdListQueryField(serializers.CharField):
    """``4,5,6`` → ``[4, 5, 6]`` (at most 100 ids)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) > 100:
            raise serializers.ValidationError(_("一次最多筛选 100 个编号。"))
        try:
            ids = [int(p) for p in parts]
        except ValueError:
            raise serializers.ValidationError(_("请输入以逗号分隔的编号。")) from None
        if any(i < 1 or i > 2**63 - 1 for i in ids):
            raise serializers.ValidationError(_("编号必须是正整数。"))
        return ids


def without_blanks(params: QueryDict) -> QueryDict:
    """The query parameters without empty values: ``?street=`` means no street filter."""
    given = QueryDict(mutable=True)
    for key in params:
        values = [v for v in params.getlist(key) if v != ""]
        if values:
            given.setlist(key, values)
    return given


def csv_attachment(rows: list[dict], name: str) -> Response:
    """``rows`` for the CSV renderer, downloaded as ``<name>.csv``."""
    return Response(rows, headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
