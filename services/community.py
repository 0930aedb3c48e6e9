"""Read side of building–community figures: volunteer hours in aggregate and the community statistics.

Only aggregates: no figure here names a person, and nothing ranks people (DESIGN.md,
invariant 10). Every figure is read through ``core.scoping`` (the reader's territory).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core.scoping import scope_queryset

from .models import Event, Pairing, ServiceStation, VolunteerHours

#: How /api/v1/volunteer-hours/ may group: the key and label columns of each grouping.
HOURS_GROUPINGS = {
    "street": ("event__space__station__street_id", "event__space__station__street__name"),
    "building": ("event__space__station__building_id", "event__space__station__building__name"),
    "partner": ("event__space__station__partner_id", "event__space__station__partner__name"),
    "month": None,
}


def volunteer_hours(*, user, by: str, date_from=None, date_to=None) -> list[dict]:
    """Hours earned in the reader's territory grouped ``by`` street, building, partner or month.

    Each row: ``key``, ``label``, ``hours``, ``attendances``, ``volunteers`` (distinct people,
    a count, never who). One query.
    """
    qs = scope_queryset(VolunteerHours.objects.all(), user)
    if date_from:
        qs = qs.filter(earned_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(earned_at__date__lte=date_to)
    figures = {
        "hours": Sum("hours"),
        "attendances": Count("id"),
        "volunteers": Count("user_id", distinct=True),
    }
    if by == "month":
        rows = (
            qs.annotate(month=TruncMonth("earned_at", tzinfo=timezone.get_current_timezone()))
            .values("month")
            .annotate(**figures)
            .order_by("month")
        )
        return [
            {"key": r["month"].strftime("%Y-%m"), "label": r["month"].strftime("%Y-%m"), **_figures(r)}
            for r in rows
        ]
    key, label = HOURS_GROUPINGS[by]
    rows = (
        qs.filter(**{f"{key}__isnull": False})
        .values(k=F(key), name=F(label))
        .annotate(**figures)
        .order_by("name", "k")
    )
    return [{"key": r["k"], "label": r["name"], **_figures(r)} for r in rows]


def _figures(row) -> dict:
    return {
        "hours": row["hours"] or Decimal(0),
        "attendances": row["attendances"],
        "volunteers": row["volunteers"],
    }


def community_stats(*, user) -> dict:
    """Active agreements, places shared each way, volunteer hours, residents served, members reported."""
    from committees.models import Agreement
    from members.models import HomeRegistration

    today = timezone.localdate()
    agreements = scope_queryset(Agreement.objects.all(), user).filter(
        status=Agreement.Status.ACTIVE, starts_on__lte=today, ends_on__gte=today
    )
    stations = scope_queryset(ServiceStation.objects.filter(is_active=True), user)
    community_places = stations.filter(partner__isnull=False).count()
    # The other way: building stations that opened events to the community (riders, residents).
    opened = (
        scope_queryset(Event.objects.all(), user)
        .filter(audience=Event.Audience.COMMUNITY, space__station__building__isnull=False)
        .exclude(status=Event.Status.CANCELLED)
        .aggregate(stations=Count("space__station", distinct=True))["stations"]
    )
    hours = scope_queryset(VolunteerHours.objects.all(), user).aggregate(
        hours=Sum("hours"), attendances=Count("id")
    )
    pairings = scope_queryset(Pairing.objects.all(), user).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=today)
    )
    registrations = scope_queryset(HomeRegistration.objects.all(), user).filter(ended_on__isnull=True)
    return {
        "active_agreements": agreements.count(),
        "community_places_open_to_buildings": community_places,
        "building_stations_open_to_community": opened,
        "volunteer_hours": hours["hours"] or Decimal(0),
        "volunteer_attendances": hours["attendances"],
        "residents_served": pairings.values("partner_id", "resident_name", "resident_address")
        .distinct()
        .count(),
        "members_reported": registrations.count(),
    }
