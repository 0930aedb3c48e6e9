"""The admin's paginator for tables of a million rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


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
