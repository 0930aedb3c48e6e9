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


def agreement_list(*, user):
    """The territory's co-building agreements, with their partner, committees and commitments."""
    from .models import Agreement

    qs = Agreement.objects.select_related("partner__street__district").prefetch_related(
        Prefetch("committees", queryset=BuildingCommittee.objects.select_related("building")),
        "commitments",
    )
    return scope_queryset(qs, user)
