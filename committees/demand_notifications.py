"""Demand deadlines in the shared outbox: a reminder to the handler before the deadline, an overdue
notice to the street's social workers, and an escalation to the district staff when a demand is
still open ``DEMAND_ESCALATE_WORKDAYS`` working days after its deadline.

``enqueue_demand_notices`` is a registered scan (``core.notifications.registry``), run by the beat
and by ``manage.py send_due_reminders``. Each (demand, deadline, stage, recipient) is one row: the
outbox's unique ``(recipient, kind, cause)`` keeps it once whoever runs the scan, however often,
in however many processes. A reopened demand has a new deadline, hence new causes. Before a row is
sent it is checked again: the demand must still be open with the same deadline.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from core.notifications import outbox, registry
from core.notifications.messages import reverse_or
from core.notifications.models import Outbox
from core.notifications.outbox import skip_text
from core.workdays import add_workdays, workdays_between

from .models import Demand

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE_SOON = "demand_deadline_soon"
OVERDUE = "demand_overdue"
ESCALATED = "demand_escalated"


def reminder_workdays() -> int:
    """How many working days before the deadline the handler is reminded (1: the working day before)."""
    return int(getattr(settings, "DEMAND_REMINDER_WORKDAYS", 1))


def escalate_workdays() -> int:
    """Working days overdue before the district is told."""
    return int(getattr(settings, "DEMAND_ESCALATE_WORKDAYS", 5))


def _street_workers(street_ids: set[int]) -> dict[int, list[int]]:
    workers: dict[int, list[int]] = {}
    for street_id, user_id in (
        get_user_model()
        .streets.through.objects.filter(street_id__in=street_ids, user__is_active=True, user__is_staff=True)
        .values_list("street_id", "user_id")
    ):
        workers.setdefault(street_id, []).append(user_id)
    return workers


def _district_staff(district_ids: set[int]) -> dict[int, list[int]]:
    staff: dict[int, list[int]] = {}
    for district_id, user_id in (
        get_user_model()
        .objects.filter(district_id__in=district_ids, is_active=True, is_staff=True)
        .values_list("district_id", "pk")
    ):
        staff.setdefault(district_id, []).append(user_id)
    return staff


def enqueue_demand_notices(*, today: datetime.date | None = None) -> int:
    """Write the deadline reminders, overdue notices and escalations that have fallen due."""
    today = today or timezone.localdate(timezone=SHANGHAI)
    now = timezone.now()
    soon_until = add_workdays(today, reminder_workdays())
    open_demands = list(
        Demand.objects.filter(state__in=Demand.OPEN_STATES, deadline__lte=soon_until).select_related(
            "building__street", "handler_seat"
        )
    )
    if not open_demands:
        return 0
    handler_users = dict(
        get_user_model()
        .objects.filter(
            is_active=True,
            party_member_id__in={
                d.handler_seat.member_id
                for d in open_demands
                if d.handler_seat_id and d.handler_seat.member_id
            },
        )
        .values_list("party_member_id", "pk")
    )
    workers = _street_workers({d.building.street_id for d in open_demands})
    district = _district_staff({d.building.street.district_id for d in open_demands})
    escalate_after = escalate_workdays()
    candidates: list[Outbox] = []

    def add(demand: Demand, recipients, kind: str, stage: str) -> None:
        for user_id in recipients:
            candidates.append(
                outbox.row(
                    recipient_id=user_id,
                    kind=kind,
                    cause=f"demand:{demand.pk}:{stage}:{demand.deadline.isoformat()}",
                    due_at=now,
                    subject=demand,
                    street_id=demand.building.street_id,
                    context={"deadline": demand.deadline.isoformat()},
                )
            )

    for demand in open_demands:
        street_id = demand.building.street_id
        if demand.deadline >= today:
            # Before (or on) the deadline: the handler's account, else the street's workers.
            member_id = demand.handler_seat.member_id if demand.handler_seat_id else None
            recipients = (
                [handler_users[member_id]] if member_id in handler_users else workers.get(street_id, [])
            )
            add(demand, recipients, DEADLINE_SOON, "soon")
            continue
        add(demand, workers.get(street_id, []), OVERDUE, "overdue")
        if workdays_between(demand.deadline, today) >= escalate_after:
            add(demand, district.get(demand.building.street.district_id, []), ESCALATED, "escalated")
    if not candidates:
        return 0
    existing = set(
        Outbox.objects.filter(
            kind__in=[DEADLINE_SOON, OVERDUE, ESCALATED], cause__in={r.cause for r in candidates}
        ).values_list("recipient_id", "kind", "cause")
    )
    rows = [r for r in candidates if (r.recipient_id, r.kind, r.cause) not in existing]
    return outbox.write(rows, now=now)


class DemandNoticeKind(registry.NotificationKind):
    subject_related = ("building", "enterprise")

    def link(self, row: Outbox) -> str:
        if row.subject is None:
            return "/admin/"
        return reverse_or("admin:committees_demand_change", [row.subject.pk], "/admin/")

    def context(self, row: Outbox) -> dict[str, Any]:
        return {"demand": row.subject, "deadline": datetime.date.fromisoformat(row.context["deadline"])}

    def skip_reason(self, row: Outbox, now: datetime.datetime) -> str:
        demand = row.subject
        if demand is None or demand.state not in Demand.OPEN_STATES:
            return skip_text(N_("诉求已办结或已关闭。"))
        if demand.deadline.isoformat() != row.context.get("deadline"):
            return skip_text(N_("诉求办理时限已变更。"))
        return ""


class DeadlineSoonKind(DemandNoticeKind):
    name = DEADLINE_SOON
    label = _("诉求即将到期")


class OverdueKind(DemandNoticeKind):
    name = OVERDUE
    label = _("诉求超期")


class EscalatedKind(DemandNoticeKind):
    name = ESCALATED
    label = _("诉求超期升级")


def overdue_q(today: datetime.date | None = None) -> Q:
    today = today or timezone.localdate(timezone=SHANGHAI)
    return Q(state__in=Demand.OPEN_STATES, deadline__lt=today)


def close_silent_demands(*, today: datetime.date | None = None) -> int:
    """The beat's scan that closes resolved demands whose confirmation window passed in silence."""
    from .demands import auto_close_demands

    return auto_close_demands()


def register() -> None:
    for kind in (DeadlineSoonKind(), OverdueKind(), EscalatedKind()):
        registry.register(kind)
    registry.register_scan("demand_deadlines", enqueue_demand_notices)
    registry.register_scan("demand_auto_close", close_silent_demands)
