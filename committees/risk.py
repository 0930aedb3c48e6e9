"""The risk colour of an enterprise (five colours, red to green) from its open demands.

Not finished (issue 16, priority 8): the social worker's override with a recorded reason, and the
colour in the admin's enterprise list and the API, are still to come. The rule, as data:

* red — an open demand of a risk-signal category (wage arrears, moving out) that is overdue, or
  three or more overdue demands;
* orange — an open risk-signal demand, or two overdue demands;
* yellow — one overdue demand;
* blue — open demands, none overdue;
* green — nothing open.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.utils import timezone

from .models import Demand

RED, ORANGE, YELLOW, BLUE, GREEN = "red", "orange", "yellow", "blue", "green"
COLOURS = (RED, ORANGE, YELLOW, BLUE, GREEN)


def colour_for(*, open_count: int, overdue: int, risk_open: int, risk_overdue: int) -> str:
    if risk_overdue or overdue >= 3:
        return RED
    if risk_open or overdue == 2:
        return ORANGE
    if overdue == 1:
        return YELLOW
    if open_count:
        return BLUE
    return GREEN


def enterprise_colours(enterprise_ids, *, today: datetime.date | None = None) -> dict[int, str]:
    """The colour of each enterprise in ``enterprise_ids`` (one query)."""
    today = today or timezone.localdate()
    overdue = Q(deadline__lt=today)
    risk = Q(category__is_risk_signal=True)
    rows = (
        Demand.objects.filter(enterprise_id__in=enterprise_ids, state__in=Demand.OPEN_STATES)
        .values("enterprise_id")
        .annotate(
            open_count=Count("pk"),
            overdue=Count("pk", filter=overdue),
            risk_open=Count("pk", filter=risk),
            risk_overdue=Count("pk", filter=risk & overdue),
        )
        .order_by()
    )
    colours = dict.fromkeys(enterprise_ids, GREEN)
    for row in rows:
        enterprise_id = row.pop("enterprise_id")
        colours[enterprise_id] = colour_for(**row)
    return colours
