"""The headline figures, for the API (stats/coverage, stats/activity) and the admin dashboard.

Both read from here, so the two never disagree. Every figure is computed inside
the caller's territory (``buildings.selectors.scope_queryset``): a district's
key sees its district, a social worker their streets, a superuser the city.
Per-street rows come from a handful of grouped queries (their number does not
depend on how many streets or buildings there are); district and overall
totals are sums of the street rows, so they always add up.

Definitions (also in the API documentation):

* a building *has a party organization* when a party organization covers it
  (joint organization, ``PartyOrganization.buildings``) or an enterprise in it
  has its own (standalone) organization;
* *coverage* = key buildings with a party organization ÷ key buildings;
* *employees* = the buildings' employee counts; *party members* = the party
  members on record whose organization belongs to the street; their *share*
  = party members ÷ employees;
* *events* = published events (drafts and cancelled events were not held),
  by the month (Asia/Shanghai) in which they start;
* *bookings* = bookings not cancelled (seats and waitlist places); *attendance
  rate* = attended ÷ (attended + no-show), *no-show rate* = no-show ÷ (attended
  + no-show): the share of settled seats, so events still to come do not count.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from buildings.models import Building, District, Street
from committees.models import BuildingCommittee
from core.filters import local_day_end, local_day_start
from core.scoping import has_full_scope, scope_queryset, user_street_ids
from members.models import PartyMember, PartyOrganization
from members.selectors import building_has_party_organization

from .models import Booking, Event


def _percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def scope_label(user) -> str:
    if has_full_scope(user):
        return str(_("全市"))
    parts = []
    if user.district_id:
        parts.append(str(user.district))
    if user_street_ids(user):
        parts.append(str(_("所负责的街道")))
    return "、".join(parts) or str(_("无管辖范围"))


# --- Coverage -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Coverage:
    buildings: int = 0
    key_buildings: int = 0
    key_buildings_with_party_organization: int = 0
    party_organizations: int = 0
    employees: int = 0
    party_members: int = 0
    committees: int = 0

    FIELDS = (
        "buildings",
        "key_buildings",
        "key_buildings_with_party_organization",
        "party_organizations",
        "employees",
        "party_members",
        "committees",
    )

    @property
    def coverage_percent(self) -> float | None:
        return _percent(self.key_buildings_with_party_organization, self.key_buildings)

    @property
    def party_member_share_percent(self) -> float | None:
        return _percent(self.party_members, self.employees)

    def add(self, other: Coverage) -> None:
        for name in self.FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.FIELDS}
        data["coverage_percent"] = self.coverage_percent
        data["party_member_share_percent"] = self.party_member_share_percent
        return data


def _by_street(qs: QuerySet, street_field: str, **aggregates) -> dict[int, dict]:
    rows = qs.order_by().values(street_field).annotate(**aggregates)
    return {row[street_field]: row for row in rows}


def coverage(
    *, user, district_ids: Iterable[int] | None = None, street_ids: Iterable[int] | None = None
) -> dict:
    """Coverage figures for the caller's territory: in total, per district and per street."""
    streets = scope_queryset(Street.objects.select_related("district"), user)
    if district_ids:
        streets = streets.filter(district_id__in=list(district_ids))
    if street_ids:
        streets = streets.filter(pk__in=list(street_ids))
    streets = list(streets.order_by("district__code", "name"))
    ids = [s.pk for s in streets]

    buildings = _by_street(
        scope_queryset(Building.objects.filter(street_id__in=ids), user),
        "street_id",
        buildings=Count("id"),
        key_buildings=Count("id", filter=Q(is_key_building=True)),
        key_with_org=Count("id", filter=Q(is_key_building=True) & building_has_party_organization()),
        employees=Sum("employee_count"),
    )
    organizations = _by_street(
        scope_queryset(PartyOrganization.objects.filter(street_id__in=ids), user), "street_id", n=Count("id")
    )
    members = _by_street(
        scope_queryset(PartyMember.objects.filter(organization__street_id__in=ids), user),
        "organization__street_id",
        n=Count("id"),
    )
    committees = _by_street(
        scope_queryset(BuildingCommittee.objects.filter(building__street_id__in=ids), user),
        "building__street_id",
        n=Count("id"),
    )

    total = Coverage()
    district_rows: dict[int, tuple[District, Coverage]] = {}
    street_rows = []
    for street in streets:
        b = buildings.get(street.pk, {})
        figures = Coverage(
            buildings=b.get("buildings", 0),
            key_buildings=b.get("key_buildings", 0),
            key_buildings_with_party_organization=b.get("key_with_org", 0),
            party_organizations=organizations.get(street.pk, {}).get("n", 0),
            employees=b.get("employees") or 0,
            party_members=members.get(street.pk, {}).get("n", 0),
            committees=committees.get(street.pk, {}).get("n", 0),
        )
        total.add(figures)
        district_rows.setdefault(street.district_id, (street.district, Coverage()))[1].add(figures)
        street_rows.append(
            {
                "id": street.pk,
                "name": street.name,
                "district": {"id": street.district_id, "name": street.district.name},
                **figures.as_dict(),
            }
        )
    return {
        "scope": scope_label(user),
        "total": total.as_dict(),
        "districts": [
            {"id": d.pk, "name": d.name, "code": d.code, **figures.as_dict()}
            for d, figures in district_rows.values()
        ],
        "streets": street_rows,
    }


# --- Activity -----------------------------------------------------------------------------------

# Each figure as the statuses of Booking it counts ("bookings": every status but cancelled).
BOOKING_COUNTS = {
    "bookings": (
        Booking.Status.CONFIRMED,
        Booking.Status.WAITLISTED,
        Booking.Status.ATTENDED,
        Booking.Status.NO_SHOW,
    ),
    "waitlisted": (Booking.Status.WAITLISTED,),
    "cancelled": (Booking.Status.CANCELLED,),
    "attended": (Booking.Status.ATTENDED,),
    "no_show": (Booking.Status.NO_SHOW,),
}
# ... summed over events from their tallies (BookingTally has one column per status).
TALLY_SUMS = {
    name: Coalesce(
        Sum(sum((F(f"tally__{status}") for status in statuses[1:]), F(f"tally__{statuses[0]}"))), 0
    )
    for name, statuses in BOOKING_COUNTS.items()
}


@dataclasses.dataclass
class Activity:
    events: int = 0
    capacity: int = 0
    bookings: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    attended: int = 0
    no_show: int = 0

    FIELDS = ("events", "capacity", "bookings", "waitlisted", "cancelled", "attended", "no_show")

    def add(self, other: Activity) -> None:
        for name in self.FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.FIELDS}
        settled = self.attended + self.no_show
        data["attendance_rate"] = _percent(self.attended, settled)
        data["no_show_rate"] = _percent(self.no_show, settled)
        return data


def activity(
    *,
    user,
    district_ids: Iterable[int] | None = None,
    street_ids: Iterable[int] | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    kinds: Iterable[str] | None = None,
) -> dict:
    """Events, bookings, attendance and no-shows by month and kind, in the caller's territory."""
    events = scope_queryset(Event.objects.filter(status=Event.Status.PUBLISHED), user)
    if district_ids:
        events = events.filter(**{f"{Event.district_path}__in": list(district_ids)})
    if street_ids:
        events = events.filter(**{f"{Event.street_path}__in": list(street_ids)})
    # Both inclusive, as local calendar days; an extreme date (0001-01-01, 9999-12-31) is no bound.
    start = local_day_start(date_from) if date_from else None
    end = local_day_end(date_to) if date_to else None
    if start is not None:
        events = events.filter(starts_at__gte=start)
    if end is not None:
        events = events.filter(starts_at__lt=end)
    if kinds:
        events = events.filter(kind__in=list(kinds))

    # One grouped query over the events, with each event's bookings by status from its
    # BookingTally (kept by triggers): no pass over the bookings themselves.
    month = TruncMonth("starts_at", tzinfo=timezone.get_current_timezone())
    cells: dict[tuple[datetime.date, str], Activity] = {}
    rows = (
        events.order_by()
        .values("kind", month=month)
        .annotate(n=Count("id"), seats=Sum("capacity"), **TALLY_SUMS)
    )
    for row in rows:
        cells[(row["month"], row["kind"])] = Activity(
            events=row["n"],
            capacity=row["seats"] or 0,
            **{name: row[name] for name in BOOKING_COUNTS},
        )

    labels = dict(Event.Kind.choices)
    total, by_month, by_kind = Activity(), {}, {}
    rows = []
    for (month_start, kind), cell in sorted(cells.items(), key=lambda item: (item[0][0], item[0][1])):
        key = _month_key(month_start)
        rows.append({"month": key, "kind": kind, "kind_label": str(labels.get(kind, kind)), **cell.as_dict()})
        total.add(cell)
        by_month.setdefault(key, Activity()).add(cell)
        by_kind.setdefault(kind, Activity()).add(cell)
    return {
        "scope": scope_label(user),
        "total": total.as_dict(),
        "by_month": [{"month": key, **cell.as_dict()} for key, cell in by_month.items()],
        "by_kind": [
            {"kind": kind, "kind_label": str(labels[kind]), **by_kind[kind].as_dict()}
            for kind in labels
            if kind in by_kind
        ],
        "rows": rows,
    }


def _month_key(value) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value:%Y-%m}"
