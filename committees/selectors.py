"""Read side of committees: the territory's committees with their seats, and coverage conditions."""

from __future__ import annotations

import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from core.scoping import scope_queryset

from .models import BuildingCommittee, CommitteeSeat


def building_has_committee() -> Q:
    """ "This building has a committee", for filters on buildings (registered in buildings/figures.py)."""
    return Q(Exists(BuildingCommittee.objects.filter(building_id=OuterRef("pk"))))


def current_seat_q(prefix: str = "", *, today: datetime.date | None = None) -> Q:
    """Seats held today: started, and not ended (``prefix`` "seats__" from a committee)."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}starts_on__lte": today}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gt": today})
    )


def committee_list(*, user) -> QuerySet[BuildingCommittee]:
    """The territory's committees, each with every seat (past ones too) and the seat holder."""
    qs = BuildingCommittee.objects.select_related("building__street__district").prefetch_related(
        Prefetch(
            "seats",
            queryset=CommitteeSeat.objects.select_related("member__organization__street").order_by(
                "role", "starts_on", "id"
            ),
        )
    )
    return scope_queryset(qs, user)


def with_chief_and_seat_count(qs: QuerySet[BuildingCommittee]) -> QuerySet[BuildingCommittee]:
    """``_chief`` (today's building chief's name) and ``_seat_count`` (seats held today)."""
    today = timezone.localdate()
    chief = CommitteeSeat.objects.filter(
        committee=OuterRef("pk"), role=CommitteeSeat.Role.BUILDING_CHIEF
    ).filter(current_seat_q(today=today))
    current = Q(seats__ends_on__isnull=True) | Q(seats__ends_on__gt=today)
    return qs.annotate(
        _chief=Subquery(chief.order_by("-starts_on").values("person_name")[:1]),
        _seat_count=Count("seats", filter=current, distinct=True),
    )


# --- demands ---------------------------------------------------------------------------------------


def demand_visibility_q(user, *, today: datetime.date | None = None) -> Q:
    """The demands ``user`` may see: their own, their enterprise's (as its contact), their building's
    (as a current seat holder of its committee, by linked account), and their territory's (staff)."""
    from core.scoping import has_staff_scope, is_active_user, scope_q

    from .models import Demand, EnterpriseContact

    if not is_active_user(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()  # (an empty Q would vanish from the OR below)
    q = Q(submitter=user) | Q(
        enterprise_id__in=EnterpriseContact.objects.filter(user=user).values("enterprise_id")
    )
    if user.party_member_id:
        seats = CommitteeSeat.objects.filter(member_id=user.party_member_id).filter(
            current_seat_q(today=today)
        )
        q |= Q(building_id__in=seats.values("committee__building_id"))
    if user.is_staff and has_staff_scope(user):
        q |= scope_q(Demand, user)
    return q


def visible_demands(user) -> QuerySet:
    from .models import Demand

    return Demand.objects.filter(demand_visibility_q(user)).select_related(
        "enterprise", "building", "category", "submitter"
    )


def demand_detail(*, user, pk: int):
    """One visible demand with its timeline and attachments, or None."""
    from .models import DemandAttachment, DemandStep

    return (
        visible_demands(user)
        .select_related("handler_seat")
        .prefetch_related(
            Prefetch("steps", queryset=DemandStep.objects.select_related("actor").order_by("at", "id")),
            Prefetch("attachments", queryset=DemandAttachment.objects.order_by("id")),
        )
        .filter(pk=pk)
        .first()
    )


def demand_api_list(*, user) -> QuerySet:
    """The territory's demands for the API and its CSV (district staff, social workers, superusers)."""
    from core.scoping import scope_queryset

    from .models import Demand

    return scope_queryset(
        Demand.objects.select_related("building__street", "enterprise", "category", "handler_seat"),
        user,
    )


def visit_list(*, user) -> QuerySet:
    from core.scoping import scope_queryset

    from .models import Visit

    return scope_queryset(
        Visit.objects.select_related("enterprise__building__street", "visited_by").annotate(
            _demand_count=Count("demands")
        ),
        user,
    )


def meeting_list(*, user) -> QuerySet:
    """The territory's committee meetings (楼事会) with attendance, agenda and resolutions, for the API."""
    from core.scoping import scope_queryset

    from .models import CommitteeMeeting, Demand, MeetingResolution

    return scope_queryset(
        CommitteeMeeting.objects.select_related("committee__building__street").prefetch_related(
            Prefetch("attendees", queryset=CommitteeSeat.objects.order_by("role", "id")),
            Prefetch("agenda", queryset=Demand.objects.only("id", "title", "state").order_by("id")),
            Prefetch(
                "resolutions",
                queryset=MeetingResolution.objects.select_related("owner").order_by("id"),
            ),
        ),
        user,
    )


def open_demands_for_worker(*, user, today: datetime.date | None = None, limit: int = 20) -> list:
    """A social worker's open demands (their territory's), overdue first, then by deadline."""
    from django.db.models import Case, IntegerField, Value, When

    from core.scoping import scope_queryset

    from .models import Demand

    today = today or timezone.localdate()
    qs = (
        scope_queryset(Demand.objects.filter(state__in=Demand.OPEN_STATES), user)
        .select_related("enterprise", "building", "category")
        .annotate(
            _overdue=Case(
                When(deadline__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("_overdue", "deadline", "id")
    )
    return list(qs[:limit])


def agreement_list(*, user):
    """The territory's co-building agreements, with their partner, committees and commitments."""
    from .models import Agreement

    qs = Agreement.objects.select_related("partner__street__district").prefetch_related(
        Prefetch("committees", queryset=BuildingCommittee.objects.select_related("building")),
        "commitments",
    )
    return scope_queryset(qs, user)
