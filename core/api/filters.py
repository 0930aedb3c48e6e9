"""Search and ordering of every list, refusing what PostgreSQL cannot take."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, filters


class SearchFilter(filters.SearchFilter):
    """DRF's search, refusing terms PostgreSQL cannot take (NUL) or that are absurdly long."""

    def get_search_terms(self, request):
        raw = request.query_params.get(self.search_param, "")
        if "\x00" in raw:
            raise exceptions.ValidationError({self.search_param: [_("搜索词含有非法字符。")]})
        if len(raw) > 100:
            raise exceptions.ValidationError({self.search_param: [_("搜索词不能超过 100 个字符。")]})
        return super().get_search_terms(request)


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering; an unknown field is a 400 rather than silently ignored."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [
                term for term in (p.strip().lstrip("-") for p in params.split(",")) if term not in valid
            ]
            if unknown:
                raise exceptions.ValidationError(
                    {
                        self.ordering_param: [
                            _("不能按“%(fields)s”排序；可用：%(valid)s。")
                            % {"fields": ", ".join(unknown), "valid": ", ".join(sorted(valid))}
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if isinstance(fields, (list, tuple)):
            for param in params:
                param["description"] = str(
                    _("排序字段，可用：%(fields)s；前加 - 表示倒序，多个用逗号分隔。")
                ) % {"fields": ", ".join(fields)}
        return params
