"""Read side of the portal: event lists, a person's bookings, the check-in choices, a station's week.

Selectors own the joins, so pages and the API have a fixed number of queries
whatever the number of rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.prepared import PreparedQuery
from core.scoping import can_view_confidential, has_full_scope, has_staff_scope, scope_queryset

from .models import Booking, Event, ServiceStation, Space, SpaceReservation

# A station belongs to a building or a partner: both are joined (one of them is null).
PLACE_RELATED = ("space__station__street", "space__station__building", "space__station__partner")


def event_queryset() -> QuerySet[Event]:
    """Events with their place (space, station, building, street) joined in."""
    return Event.objects.select_related(*PLACE_RELATED, "organizer")


def upcoming_event_list(*, now: datetime.datetime | None = None) -> QuerySet[Event]:
    """Published events that have not ended, soonest first.

    Soonest first walks the (status, starts_at) index, which begins with a year of
    events that have ended. The earliest start among the events not yet ended
    (one index-only look at event_status_ends_idx) is where the walk may begin:
    every row of the list starts at or after it, so the bound changes nothing in
    the result and spares the walk tens of thousands of past events.
    """
    now = now or timezone.now()
    not_ended = Event.objects.filter(status=Event.Status.PUBLISHED, ends_at__gt=now)
    first_start = not_ended.order_by().values("status").annotate(first=Min("starts_at")).values("first")
    return (
        event_queryset()
        .filter(status=Event.Status.PUBLISHED, ends_at__gt=now, starts_at__gte=Subquery(first_start))
        .order_by("starts_at", "id")
    )


def _portal_event_queryset(pk: int, user=None) -> QuerySet[Event]:
    qs = event_queryset().filter(pk=pk, status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED])
    if user is not None:
        qs = with_my_booking(qs, user=user)
    return qs[:1]  # ordered by Meta.ordering, as QuerySet.first() would


def _stand_in_user(pk: int) -> SimpleNamespace:
    return SimpleNamespace(pk=pk, is_authenticated=True)


# The event page's query, built once per process (core.prepared): for nobody, for a person.
_PORTAL_EVENT = PreparedQuery(lambda pk: _portal_event_queryset(pk))
_PORTAL_EVENT_FOR = PreparedQuery(lambda pk, user_pk: _portal_event_queryset(pk, _stand_in_user(user_pk)))
_PORTAL_EVENT_ANONYMOUS = PreparedQuery(lambda pk: _portal_event_queryset(pk, _NOBODY))
_NOBODY = SimpleNamespace(pk=None, is_authenticated=False)


def portal_event(*, pk: int, user=None) -> Event | None:
    """An event a person may open in the portal: published or cancelled (drafts are not public).

    With ``user``, annotated with their booking of it (``with_my_booking``), in the same query.
    The query is the ORM's, built once per process (``core.prepared``): the event page runs it
    on every refresh.
    """
    if user is None:
        return _PORTAL_EVENT.first(pk)
    if user.is_authenticated:
        return _PORTAL_EVENT_FOR.first(pk, user.pk)
    return _PORTAL_EVENT_ANONYMOUS.first(pk)


# The person's active booking of the event in the row: the one-active-booking index (event,
# person) answers it. Written as SQL: the same lookup as ORM subqueries took 4 ms of Python to
# build per request, several times the query's own time.
_MY_BOOKING_SQL = (
    f'(SELECT b.{{column}} FROM "{Booking._meta.db_table}" b WHERE b.event_id = "{Event._meta.db_table}".id'
    " AND b.user_id = %s AND b.status IN (%s, %s))"
)


def with_my_booking(qs: QuerySet[Event], *, user) -> QuerySet[Event]:
    """Events annotated with the person's active booking of each, inside the events' own query:
    ``my_booking_id`` and ``my_booking_status`` (null when none, and for anonymous people)."""
    if not (user and user.is_authenticated):
        return qs.annotate(
            my_booking_id=Value(None, output_field=IntegerField()),
            my_booking_status=Value(None, output_field=CharField()),
        )
    params = (user.pk, *Booking.ACTIVE)
    return qs.annotate(
        my_booking_id=RawSQL(_MY_BOOKING_SQL.format(column="id"), params, output_field=IntegerField()),
        my_booking_status=RawSQL(_MY_BOOKING_SQL.format(column="status"), params, output_field=CharField()),
    )


# The event list's cached page: its events by id, with the person's booking (core.prepared; one
# plan per number of ids, the last value is the person's id).
_EVENTS_BY_IDS = PreparedQuery(
    lambda *ids: with_my_booking(event_queryset().filter(pk__in=ids), user=_NOBODY)
)
_EVENTS_BY_IDS_FOR = PreparedQuery(
    lambda *values: with_my_booking(
        event_queryset().filter(pk__in=values[:-1]), user=_stand_in_user(values[-1])
    )
)


def events_by_ids(ids: list[int], *, user) -> dict[int, Event]:
    """The events of ``ids`` (place joined in, annotated like ``with_my_booking``), by id."""
    if not ids:
        return {}
    if user and user.is_authenticated:
        found = _EVENTS_BY_IDS_FOR.run(*ids, user.pk)
    else:
        found = _EVENTS_BY_IDS.run(*ids)
    return {e.pk: e for e in found}


def my_booking(event: Event, *, position: bool = False) -> Booking | None:
    """The person's active booking of an event read through ``with_my_booking`` (an unsaved copy
    with its id and status), or None. ``position``: a waitlisted booking's place is read too
    (``queue_position``, one query)."""
    if event.my_booking_id is None:
        return None
    booking = Booking(pk=event.my_booking_id, event=event, status=event.my_booking_status)
    booking.queue_position = waitlist_position(booking) if position else None
    return booking


def my_last_booking(*, user, event: Event) -> Booking | None:
    """The person's latest booking of ``event`` that is no longer active (attended, no-show,
    cancelled), shown on the event page when they hold no active one; None otherwise."""
    if not (user and user.is_authenticated):
        return None
    return _MY_LAST_BOOKING.first(user.pk, event.pk)


def _my_last_booking_queryset(user_id: int, event_id: int) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(user_id=user_id, event_id=event_id)
        .exclude(status__in=Booking.ACTIVE)
        .only("id", "status", "event_id")
        .order_by("-created_at", "-id")[:1]
    )


# On every view of the event page by a person without an active booking (core.prepared).
_MY_LAST_BOOKING = PreparedQuery(_my_last_booking_queryset)


def active_booking_map(*, user, events) -> dict[int, Booking]:
    """The user's confirmed or waitlisted booking for each of ``events`` (one query)."""
    if not (user and user.is_authenticated):
        return {}
    ids = [e.pk for e in events]
    if not ids:
        return {}
    rows = Booking.objects.filter(user=user, event_id__in=ids, status__in=Booking.ACTIVE)
    return {b.event_id: b for b in rows}


def waitlist_position_expression():
    """1-based first-come-first-served place of a waitlisted booking, in SQL (no N+1); null otherwise.

    The one rule for the waitlist's order: earlier ``created_at`` first, then lower id.
    """
    ahead = (
        Booking.objects.filter(event=OuterRef("event_id"), status=Booking.Status.WAITLISTED)
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .values("event_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Case(
        When(status=Booking.Status.WAITLISTED, then=Coalesce(Subquery(ahead), 0) + 1),
        default=Value(None),
        output_field=IntegerField(),
    )


def waitlist_position(booking: Booking) -> int | None:
    """The booking's place on its event's waitlist (1 = next to get a seat), or None if not waiting."""
    if booking.status != Booking.Status.WAITLISTED:
        return None
    return (
        Booking.objects.filter(pk=booking.pk)
        .annotate(position=waitlist_position_expression())
        .values_list("position", flat=True)
        .first()
    )


def user_booking_list(*, user, past: bool, now: datetime.datetime | None = None) -> QuerySet[Booking]:
    """A person's bookings, upcoming (event not ended, soonest first) or past (latest first, any status).

    Each waitlisted row carries ``queue_position``; the event and its place are joined in.
    """
    now = now or timezone.now()
    qs = (
        Booking.objects.filter(user=user)
        .select_related("event__space__station__building", "event__space__station__partner")
        .annotate(queue_position=waitlist_position_expression())
    )
    if past:
        return qs.filter(event__ends_at__lte=now).order_by("-event__starts_at", "-id")
    # Bookings the person cancelled drop out of "upcoming"; a cancelled event stays, so they see it.
    return (
        qs.filter(event__ends_at__gt=now)
        .exclude(Q(status=Booking.Status.CANCELLED) & ~Q(event__status=Event.Status.CANCELLED))
        .order_by("event__starts_at", "id")
    )


def user_booking(*, user, pk: int) -> Booking | None:
    """One of the person's own bookings; other people's are invisible (None)."""
    return (
        Booking.objects.filter(user=user, pk=pk)
        .select_related(
            "event__space__station__street",
            "event__space__station__building",
            "event__space__station__partner",
            "event__organizer",
        )
        .annotate(queue_position=waitlist_position_expression())
        .first()
    )


def feed_bookings(*, user, now: datetime.datetime | None = None, days_back: int = 90) -> QuerySet[Booking]:
    """Bookings for the private calendar feed: not cancelled, events from ``days_back`` days ago on."""
    now = now or timezone.now()
    return (
        Booking.objects.filter(user=user, event__ends_at__gt=now - datetime.timedelta(days=days_back))
        .exclude(status=Booking.Status.CANCELLED)
        .select_related("event__space__station__building", "event__space__station__partner")
        .order_by("event__starts_at", "id")
    )


def checkin_event_choices(*, user, now: datetime.datetime | None = None) -> QuerySet[Event]:
    """Published events in the staff member's territory, from six hours ago to the end of tomorrow."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    end = (local + datetime.timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    qs = Event.objects.filter(
        status=Event.Status.PUBLISHED,
        ends_at__gt=now - datetime.timedelta(hours=6),
        starts_at__lt=end,
    ).select_related("space__station__building", "space__station__partner")
    return scope_queryset(qs, user).order_by("starts_at", "id")


def checkin_roll(*, event: Event) -> QuerySet[Booking]:
    """The people booked for ``event`` whom staff may check in by hand (no phone with them):
    the confirmed and the attended, by name."""
    return (
        Booking.objects.filter(
            event_id=event.pk, status__in=[Booking.Status.CONFIRMED, Booking.Status.ATTENDED]
        )
        .select_related("user")
        .order_by("user__real_name", "user__last_name", "user__first_name", "user__username", "pk")
    )


def station_list() -> QuerySet[ServiceStation]:
    """Open stations with their building and number of spaces, by street and building."""
    qs = ServiceStation.objects.filter(is_active=True).select_related(
        "street__district", "building", "partner"
    )
    return qs.annotate(space_count=Count("spaces")).order_by(
        "street_id", "building__name", "partner__name", "name"
    )


def station_detail(*, pk: int) -> ServiceStation | None:
    return (
        ServiceStation.objects.select_related("street__district", "building", "partner").filter(pk=pk).first()
    )


@dataclass
class WeekItem:
    kind: str  # "event" or "reservation"
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    title: str
    obj: object


@dataclass
class SpaceWeek:
    """One space's week: ``day_cells`` is seven (date, items) pairs, Monday first."""

    space: Space
    day_cells: list[tuple[datetime.date, list[WeekItem]]] = field(default_factory=list)


def week_start_for(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s week."""
    return day - datetime.timedelta(days=day.weekday())


def station_week(
    *, station: ServiceStation, week_start: datetime.date
) -> tuple[list[datetime.date], list[SpaceWeek]]:
    """Each space's published events and approved reservations from Monday ``week_start``, day by day.

    Three queries: spaces, events, reservations.
    """
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(week_start, datetime.time.min, tzinfo=tz)
    end = start + datetime.timedelta(days=7)
    days = [week_start + datetime.timedelta(days=i) for i in range(7)]
    spaces = list(Space.objects.filter(station=station).order_by("name", "id"))
    rows = {s.pk: SpaceWeek(space=s, day_cells=[(d, []) for d in days]) for s in spaces}
    events = Event.objects.filter(
        space__station=station, status=Event.Status.PUBLISHED, starts_at__lt=end, ends_at__gt=start
    ).order_by("starts_at")
    reservations = SpaceReservation.objects.filter(
        space__station=station, status=SpaceReservation.Status.APPROVED, starts_at__lt=end, ends_at__gt=start
    ).select_related("organization")
    items = [WeekItem("event", e.starts_at, e.ends_at, e.title, e) for e in events if e.space_id in rows]
    items += [
        WeekItem("reservation", r.starts_at, r.ends_at, r.purpose, r)
        for r in reservations
        if r.space_id in rows
    ]
    items.sort(key=lambda i: i.starts_at)
    for item in items:
        first = max(timezone.localtime(item.starts_at, tz).date(), week_start)
        last = min(timezone.localtime(item.ends_at - datetime.timedelta(microseconds=1), tz).date(), days[-1])
        day = first
        while day <= last:
            rows[item.obj.space_id].day_cells[(day - week_start).days][1].append(item)
            day += datetime.timedelta(days=1)
    return days, list(rows.values())


def secretary_organizations(*, user) -> QuerySet:
    """Party organizations whose secretary is the user's linked party-member record."""
    from members.models import PartyOrganization

    if not (user and user.is_authenticated and user.party_member_id):
        return PartyOrganization.objects.none()
    return PartyOrganization.objects.filter(secretary_id=user.party_member_id).order_by("name")


def user_reservation_list(*, user) -> QuerySet[SpaceReservation]:
    """The reservations the person asked for (the portal's "my reservations")."""
    return (
        SpaceReservation.objects.filter(requested_by=user)
        .select_related("space__station__building", "space__station__partner", "organization")
        .order_by("-starts_at", "-id")
    )


def reservation_list(*, user) -> QuerySet[SpaceReservation]:
    """Reservations a person may see: those of their territory (staff), those they asked for, and
    those of the organizations whose secretary they are (the API's reservation list)."""
    visible = Q(requested_by_id=user.pk)
    if user.party_member_id:
        visible |= Q(organization__secretary_id=user.party_member_id)
    if has_staff_scope(user):
        visible |= Q(pk__in=scope_queryset(SpaceReservation.objects.all(), user).values("pk"))
    return SpaceReservation.objects.filter(visible).select_related(
        "space__station__street__district",
        "space__station__building",
        "space__station__partner",
        "organization__street",
    )


def booking_list(*, user) -> QuerySet[Booking]:
    """One's own bookings; for people with a territory also those of its events, counselling
    excepted without the confidentiality permission; with the event, its place and the
    waitlist position (the API's booking list)."""
    visible = Q(user=user)
    if has_staff_scope(user):
        confidential = can_view_confidential(user)
        if has_full_scope(user):
            # The whole city: one join to the events, for the confidentiality rule only.
            visible |= Q(pk__isnull=False) if confidential else ~Booking.confidential_q()
        else:
            # The territory's events as a subquery (event_id IN (...)): an OR of "own" with the
            # territory's joins made PostgreSQL join every booking to its event and street first
            # (a district's count: 264 ms → 121 ms on the city data).
            events = scope_queryset(Event.objects.all(), user)
            if not confidential:
                events = events.exclude(Event.confidential_q())
            visible |= Q(event__in=events.values("pk"))
    return (
        Booking.objects.filter(visible)
        .select_related(
            "event__space__station__street__district",
            "event__space__station__building",
            "event__space__station__partner",
            "user",
        )
        .annotate(waitlist_position=waitlist_position_expression())
    )


def volunteer_record(*, user) -> tuple[list[dict], list]:
    """A person's own volunteer record: hours per year (latest first) and the records behind them.

    Only ever the person's own rows (``user``); there is no read of anyone else's figures, and
    nothing ranks people. Two queries.
    """
    from django.db.models import Sum
    from django.db.models.functions import ExtractYear

    from .models import VolunteerHours

    mine = VolunteerHours.objects.filter(user=user)
    years = list(
        mine.annotate(year=ExtractYear("earned_at", tzinfo=timezone.get_current_timezone()))
        .values("year")
        .annotate(hours=Sum("hours"), shifts=Count("id"))
        .order_by("-year")
    )
    rows = list(
        mine.select_related(
            "event__project", "event__space__station__building", "event__space__station__partner"
        ).order_by("-earned_at", "-id")
    )
    return years, rows


def partner_registered_members(*, user):
    """双报到: the members registered with the partner of ``user`` (partner staff), active first,
    each with the volunteer hours they earned at the partner's places (``hours_here``).

    Only the staff user's own partner; anyone else gets nothing. One query.
    """
    from django.db.models import DecimalField, F, Sum

    from members.models import HomeRegistration

    from .models import VolunteerHours

    partner_id = getattr(user, "partner_id", None)
    if not (user and user.is_authenticated and user.is_active and user.is_staff and partner_id):
        return HomeRegistration.objects.none()
    hours = (
        VolunteerHours.objects.filter(
            user__party_member=OuterRef("member_id"), event__space__station__partner_id=partner_id
        )
        .values("user__party_member")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    return (
        HomeRegistration.objects.filter(partner_id=partner_id)
        .select_related("member__organization")
        .annotate(
            hours_here=Coalesce(
                Subquery(hours, output_field=DecimalField()), Value(0), output_field=DecimalField()
            )
        )
        .order_by(F("ended_on").desc(nulls_first=True), "member__name", "id")
    )
