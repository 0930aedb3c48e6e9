"""Demand figures for a territory: received, resolved, resolution rate, median days to resolve,
overdue now and average rating — in total, per street and per category.

"Resolved" counts the demands that reached a resolution (resolved, awaiting confirmation, or
closed after one); the median is of the calendar days from submission to resolution of those;
"overdue now" the open demands past their deadline today; the rating the closed ones rated.
"""

from __future__ import annotations

import datetime

from django.db.models import Aggregate, Avg, Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Extract
from django.utils import timezone

from core.filters import local_day_end, local_day_start
from core.scoping import scope_queryset

from .models import Demand

RESOLVED_STATES = (Demand.State.RESOLVED, Demand.State.CLOSED)


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False


def _days_to_resolve():
    return Extract(F("resolved_at") - F("submitted_at"), "epoch") / 86400.0


def _counts(today: datetime.date) -> dict:
    resolved = Q(state__in=RESOLVED_STATES)
    return {
        "received": Count("pk"),
        "resolved": Count("pk", filter=resolved),
        "overdue_now": Count("pk", filter=Q(state__in=Demand.OPEN_STATES, deadline__lt=today)),
        "average_rating": Avg("rating"),
        # in the same pass as the counts (FILTER on the ordered-set aggregate): one query a level
        "median_days": Median(_days_to_resolve(), filter=resolved),
    }


def _finish(row: dict) -> dict:
    received, resolved, rating = row["received"], row["resolved"], row["average_rating"]
    median = row["median_days"]
    return {
        "received": received,
        "resolved": resolved,
        "resolution_rate": round(100.0 * resolved / received, 1) if received else None,
        "median_days_to_resolve": round(median, 1) if median is not None else None,
        "overdue_now": row["overdue_now"],
        "average_rating": round(float(rating), 2) if rating is not None else None,
    }


def demand_rows(
    *,
    user,
    district_ids=None,
    street_ids=None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet:
    """The demands of ``user``'s territory submitted in the given streets, districts and days."""
    qs = scope_queryset(Demand.objects.all(), user)
    if district_ids:
        qs = qs.filter(building__street__district_id__in=district_ids)
    if street_ids:
        qs = qs.filter(building__street_id__in=street_ids)
    # 0001-01-01 and 9999-12-31 are open bounds (None), never an overflow.
    start = local_day_start(date_from) if date_from else None
    end = local_day_end(date_to) if date_to else None
    if start is not None:
        qs = qs.filter(submitted_at__gte=start)
    if end is not None:
        qs = qs.filter(submitted_at__lt=end)  # the first instant after the day
    return qs


def demand_stats(*, user, today: datetime.date | None = None, **filters) -> dict:
    """``{"total", "streets", "categories"}``, each row with the six figures."""
    today = today or timezone.localdate()
    qs = demand_rows(user=user, **filters)

    def grouped(id_key: str, name_key: str) -> list[dict]:
        rows = qs.values(id_key, name_key).annotate(**_counts(today)).order_by(id_key)
        return [{"id": row[id_key], "name": row[name_key], **_finish(row)} for row in rows]

    return {
        "total": _finish(qs.aggregate(**_counts(today))),
        "streets": grouped("building__street_id", "building__street__name"),
        "categories": grouped("category_id", "category__name"),
    }
