"""End-of-term (换届) reminders for party organizations and building committees, in the shared outbox.

To the street's social workers, when 90 and 30 days (``NOTIFICATIONS["TERM_REMINDER_DAYS"]``)
are left. ``enqueue_term_reminders`` is a registered scan (``core.notifications.registry``):
the beat runs it daily and ``manage.py send_due_reminders`` before it sends. Idempotent:
run it daily, or twice a day, or after a week of downtime; each (term, threshold, social
worker) gets one row. When it is sent the row is checked again: the term's end date must
still be the one announced, not yet past, and the recipient still the street's worker.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from core.notifications import outbox, registry
from core.notifications.messages import reverse_or
from core.notifications.models import Outbox
from core.notifications.outbox import conf, skip_text
from members.models import PartyOrganization

from .models import Agreement, BuildingCommittee

SHANGHAI = ZoneInfo("Asia/Shanghai")
TERM_ENDING = "term_ending"
AGREEMENT_ENDING = "agreement_ending"
#: An active co-building agreement reminds the street's social workers this many days before its end.
AGREEMENT_REMINDER_DAYS = 30


def _term_threshold(days_left: int, thresholds: Sequence[int]) -> int | None:
    """The tightest threshold reached: with 20 days left of [90, 30] that is 30, not both."""
    reached = [d for d in thresholds if days_left <= d]
    return min(reached) if reached else None


def enqueue_term_reminders(*, today: datetime.date | None = None) -> int:
    """The end-of-term reminders that have fallen due; returns the rows written. Call in a transaction."""
    today = today or timezone.localdate(timezone=SHANGHAI)
    thresholds = sorted({int(d) for d in conf("TERM_REMINDER_DAYS")})
    if not thresholds:
        return 0
    horizon = today + datetime.timedelta(days=max(thresholds))
    subjects: list[tuple[Any, int, datetime.date]] = [
        (org, org.street_id, org.term_ends_on)
        for org in PartyOrganization.objects.filter(term_ends_on__gte=today, term_ends_on__lte=horizon).only(
            "pk", "street_id", "term_ends_on"
        )
    ]
    subjects += [
        (committee, committee.building.street_id, committee.term_ends_on)
        for committee in BuildingCommittee.objects.filter(term_ends_on__gte=today, term_ends_on__lte=horizon)
        .select_related("building")
        .only("pk", "term_ends_on", "building__street_id")
    ]
    if not subjects:
        return 0
    workers: dict[int, list[int]] = {}
    for street_id, user_id in (
        get_user_model()
        .streets.through.objects.filter(
            # staff only: a street on an account that is no longer staff is a leftover, not a worker
            street_id__in={s[1] for s in subjects},
            user__is_active=True,
            user__is_staff=True,
        )
        .values_list("street_id", "user_id")
    ):
        workers.setdefault(street_id, []).append(user_id)
    now = timezone.now()
    candidates: list[Outbox] = []
    for subject, street_id, ends in subjects:
        threshold = _term_threshold((ends - today).days, thresholds)
        if threshold is None:
            continue
        model = subject._meta.model_name
        for user_id in workers.get(street_id, []):
            candidates.append(
                outbox.row(
                    recipient_id=user_id,
                    kind=TERM_ENDING,
                    cause=f"{model}:{subject.pk}:term:{ends.isoformat()}:{threshold}d",
                    due_at=now,
                    subject=subject,
                    street_id=street_id,
                    context={"term_ends_on": ends.isoformat(), "days_before": threshold},
                )
            )
    if not candidates:
        return 0
    existing = set(
        Outbox.objects.filter(kind=TERM_ENDING, cause__in={row.cause for row in candidates}).values_list(
            "recipient_id", "cause"
        )
    )
    rows = [row for row in candidates if (row.recipient_id, row.cause) not in existing]
    return outbox.write(rows, now=now)


class TermEndingKind(registry.NotificationKind):
    """A party organization's or a committee's term ends soon (the subject)."""

    name = TERM_ENDING
    label = _("换届提醒")

    def link(self, row: Outbox) -> str:
        subject = row.subject
        if subject is None:
            return "/admin/"
        opts = subject._meta
        return reverse_or(f"admin:{opts.app_label}_{opts.model_name}_change", [subject.pk], "/admin/")

    def context(self, row: Outbox) -> dict[str, Any]:
        return {
            "subject": row.subject,
            "is_committee": isinstance(row.subject, BuildingCommittee),
            "term_ends_on": datetime.date.fromisoformat(row.context["term_ends_on"]),
            "days_before": row.context.get("days_before"),
        }

    def skip_reason(self, row: Outbox, now: datetime.datetime) -> str:
        subject = row.subject
        if subject is None or subject.term_ends_on is None:
            return skip_text(N_("换届对象已不存在或未设换届日期。"))
        if subject.term_ends_on.isoformat() != row.context.get("term_ends_on"):
            return skip_text(N_("换届日期已变更。"))
        if subject.term_ends_on < timezone.localdate(now, timezone=SHANGHAI):
            return skip_text(N_("换届日期已过。"))
        if not row.recipient.streets.filter(pk=row.street_id).exists():
            return skip_text(N_("接收人已不负责该街道。"))
        return ""


def _street_workers(street_ids) -> dict[int, list[int]]:
    workers: dict[int, list[int]] = {}
    for street_id, user_id in (
        get_user_model()
        .streets.through.objects.filter(street_id__in=street_ids, user__is_active=True, user__is_staff=True)
        .values_list("street_id", "user_id")
    ):
        workers.setdefault(street_id, []).append(user_id)
    return workers


def enqueue_agreement_reminders(*, today: datetime.date | None = None) -> int:
    """Reminders of active co-building agreements ending within ``AGREEMENT_REMINDER_DAYS``, once
    per (agreement, end date, social worker); returns the rows written. Call in a transaction."""
    today = today or timezone.localdate(timezone=SHANGHAI)
    horizon = today + datetime.timedelta(days=AGREEMENT_REMINDER_DAYS)
    agreements = list(
        Agreement.objects.filter(status=Agreement.Status.ACTIVE, ends_on__gte=today, ends_on__lte=horizon)
        .select_related("partner")
        .only("pk", "ends_on", "partner__street_id")
    )
    if not agreements:
        return 0
    workers = _street_workers({a.partner.street_id for a in agreements})
    now = timezone.now()
    candidates = [
        outbox.row(
            recipient_id=user_id,
            kind=AGREEMENT_ENDING,
            cause=f"agreement:{agreement.pk}:ends:{agreement.ends_on.isoformat()}",
            due_at=now,
            subject=agreement,
            street_id=agreement.partner.street_id,
            context={"ends_on": agreement.ends_on.isoformat()},
        )
        for agreement in agreements
        for user_id in workers.get(agreement.partner.street_id, [])
    ]
    if not candidates:
        return 0
    existing = set(
        Outbox.objects.filter(kind=AGREEMENT_ENDING, cause__in={row.cause for row in candidates}).values_list(
            "recipient_id", "cause"
        )
    )
    return outbox.write([r for r in candidates if (r.recipient_id, r.cause) not in existing], now=now)


class AgreementEndingKind(registry.NotificationKind):
    """A co-building agreement (the subject) ends soon."""

    name = AGREEMENT_ENDING
    label = _("共建协议到期提醒")

    def link(self, row: Outbox) -> str:
        if row.subject is None:
            return "/admin/"
        return reverse_or("admin:committees_agreement_change", [row.subject.pk], "/admin/")

    def context(self, row: Outbox) -> dict[str, Any]:
        return {"subject": row.subject, "ends_on": datetime.date.fromisoformat(row.context["ends_on"])}

    def skip_reason(self, row: Outbox, now: datetime.datetime) -> str:
        subject = row.subject
        if subject is None:
            return skip_text(N_("共建协议已不存在。"))
        if subject.status != Agreement.Status.ACTIVE:
            return skip_text(N_("共建协议已不在履行中。"))
        if subject.ends_on.isoformat() != row.context.get("ends_on"):
            return skip_text(N_("共建协议的结束日期已变更。"))
        if not row.recipient.streets.filter(pk=row.street_id).exists():
            return skip_text(N_("接收人已不负责该街道。"))
        return ""


def register() -> None:
    registry.register(TermEndingKind())
    registry.register_scan("term_endings", enqueue_term_reminders)
    registry.register(AgreementEndingKind())
    registry.register_scan("agreement_endings", enqueue_agreement_reminders)
