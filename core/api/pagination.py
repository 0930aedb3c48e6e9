"""Pagination of every API list: ``?page=`` and ``?page_size=`` (at most ``MAX_PAGE_SIZE``); a malformed
value is a 400 with a field error, never a silent fallback."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 200
# Rows read per query when a list streams as CSV (core.api.renderers).
CSV_CHUNK_SIZE = 1000


# --- Pagination ---------------------------------------------------------------------------------


def _positive_int(raw: str, field: str, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError({field: [_("请输入一个正整数。")]}) from None
    if value < 1:
        raise exceptions.ValidationError({field: [_("请输入一个正整数。")]})
    if maximum is not None and value > maximum:
        raise exceptions.ValidationError({field: [_("不能大于 %(max)s。") % {"max": maximum}]})
    return value


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_query_description = _("页码，从 1 开始。")
    page_size_query_description = _("每页条数，默认 50，最多 200。")

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        return _positive_int(raw, self.page_size_query_param, self.max_page_size)

    def validate_params(self, request) -> None:
        """400 for a malformed ``page`` or ``page_size`` (also for CSV, which ignores them)."""
        self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "") and raw not in self.last_page_strings:
            _positive_int(raw, self.page_query_param, maximum=10**9)

    def paginate_queryset(self, queryset, request, view=None):
        self.validate_params(request)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": 10**9}
            elif param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return params
