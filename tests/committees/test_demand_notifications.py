"""Demand deadlines through the shared outbox (committees/demand_notifications.py): the reminder to the
handler before the deadline, the overdue notice to the street's social workers, the escalation to the
district staff — each exactly once, also with two workers scanning and sending at the same time."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from committees import demands as d
from committees.demand_notifications import DEADLINE_SOON, ESCALATED, OVERDUE, enqueue_demand_notices
from committees.models import CommitteeSeat, Demand
from core.notifications import registry
from core.notifications.models import Outbox
from core.notifications.sender import send_due
from tests.buildings.factories import EnterpriseFactory, StreetFactory
from tests.committees.factories import BuildingCommitteeFactory, CommitteeSeatFactory, DemandCategoryFactory
from tests.members.factories import PartyMemberFactory, StaffUserFactory, UserFactory

SUBMITTED_AT = datetime.datetime(2026, 9, 28, 9, 0, tzinfo=datetime.UTC)  # Monday
# Three working days from Monday 28 September 2026: 29, 30 September and (after the holiday) 8 October.


def _world():
    street = StreetFactory()
    workers = [StaffUserFactory(streets=[street]) for _ in range(2)]
    StaffUserFactory(streets=[StreetFactory(district=street.district)])  # another street: not told
    district_staff = StaffUserFactory(district=street.district)
    StaffUserFactory(district=StreetFactory().district)  # another district: not told
    enterprise = EnterpriseFactory(building__street=street)
    committee = BuildingCommitteeFactory(building=enterprise.building)
    member = PartyMemberFactory()
    seat = CommitteeSeatFactory(committee=committee, role=CommitteeSeat.Role.PROPERTY_MANAGER, member=member)
    handler = UserFactory(party_member=member)
    root = UserFactory(is_staff=True, is_superuser=True)
    category = DemandCategoryFactory(deadline_days=3)
    demand = d.submit_demand(
        user=root,
        enterprise=enterprise,
        category=category,
        title="电梯",
        description="坏了",
        now=SUBMITTED_AT,
    )
    d.accept_demand(user=root, demand=demand, now=SUBMITTED_AT)
    d.assign_demand(user=root, demand=demand, handler_kind="seat", seat=seat, now=SUBMITTED_AT)
    demand.refresh_from_db()
    assert demand.deadline == datetime.date(2026, 10, 8)
    return {
        "demand": demand,
        "workers": workers,
        "district": district_staff,
        "handler": handler,
        "root": root,
    }


def _rows(kind):
    return sorted(Outbox.objects.filter(kind=kind).values_list("recipient_id", "cause"))


@pytest.mark.django_db
def test_reminder_then_overdue_then_escalation_each_once():
    w = _world()
    demand = w["demand"]
    # 7 October is a holiday: the working day before the 8th is 30 September.
    assert enqueue_demand_notices(today=datetime.date(2026, 9, 29)) == 0
    assert enqueue_demand_notices(today=datetime.date(2026, 9, 30)) == 1
    assert enqueue_demand_notices(today=datetime.date(2026, 10, 8)) == 0  # the same deadline: once
    assert _rows(DEADLINE_SOON) == [(w["handler"].pk, f"demand:{demand.pk}:soon:2026-10-08")]

    assert enqueue_demand_notices(today=datetime.date(2026, 10, 9)) == 2  # both street workers
    assert enqueue_demand_notices(today=datetime.date(2026, 10, 12)) == 0
    assert _rows(OVERDUE) == sorted((u.pk, f"demand:{demand.pk}:overdue:2026-10-08") for u in w["workers"])
    assert _rows(ESCALATED) == []

    # Five working days after the 8th: 9, 10 (the working Saturday), 12, 13, 14 October.
    assert enqueue_demand_notices(today=datetime.date(2026, 10, 13)) == 0
    assert enqueue_demand_notices(today=datetime.date(2026, 10, 14)) == 1
    assert enqueue_demand_notices(today=datetime.date(2026, 10, 20)) == 0
    assert _rows(ESCALATED) == [(w["district"].pk, f"demand:{demand.pk}:escalated:2026-10-08")]


@pytest.mark.django_db
def test_a_deadline_notice_belongs_to_no_topic_and_is_not_confidential():
    """Written with ``outbox.row``'s defaults: no topic (no event groups it), visible to every
    staff member of the street (not hidden as a counselling booking is)."""
    w = _world()
    enqueue_demand_notices(today=datetime.date(2026, 9, 30))
    row = Outbox.objects.get(kind=DEADLINE_SOON)
    assert (row.subject, row.topic, row.confidential) == (w["demand"], "", False)


@pytest.mark.django_db
def test_a_notice_for_a_resolved_demand_is_skipped_when_sent():
    w = _world()
    enqueue_demand_notices(today=datetime.date(2026, 10, 9))
    d.resolve_demand(user=w["root"], demand=w["demand"], resolution="已修复")
    row = Outbox.objects.filter(kind=OVERDUE).first()
    kind = registry.get(OVERDUE)
    kind.load_subjects([row])
    assert kind.skip_reason(row, timezone.now())
    assert enqueue_demand_notices(today=datetime.date(2026, 10, 20)) == 0  # no longer open


@pytest.mark.django_db
def test_a_demand_without_an_account_for_its_handler_reminds_the_street():
    w = _world()
    Demand.objects.filter(pk=w["demand"].pk).update(
        handler_kind="street", handler_seat=None, handler_department="街道营商办"
    )
    assert enqueue_demand_notices(today=datetime.date(2026, 9, 30)) == 2
    assert {r[0] for r in _rows(DEADLINE_SOON)} == {u.pk for u in w["workers"]}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_and_sending_at_once_write_and_send_each_notice_once(mailoutbox):
    w = _world()
    day = datetime.date(2026, 10, 14)  # overdue (two workers) and escalated (district)
    barrier = threading.Barrier(2)
    written, sent, errors = [], [], []

    def worker(name):
        try:
            barrier.wait()
            from django.db import transaction

            with transaction.atomic():
                written.append(enqueue_demand_notices(today=day))
            barrier.wait()
            sent.append(send_due(worker_id=name))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert Outbox.objects.filter(kind__in=[OVERDUE, ESCALATED]).count() == 3
    assert sum(sent) == 3
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [u.email for u in w["workers"]] + [w["district"].email]
    )
    assert set(Outbox.objects.filter(kind__in=[OVERDUE, ESCALATED]).values_list("status", flat=True)) == {
        Outbox.Status.SENT
    }


@pytest.mark.django_db
def test_the_beat_runs_the_deadline_scan_and_closes_silent_demands():
    w = _world()
    d.start_demand(user=w["root"], demand=w["demand"], now=SUBMITTED_AT)
    d.resolve_demand(user=w["root"], demand=w["demand"], resolution="已修复", now=SUBMITTED_AT)
    scans = registry.scans()
    assert scans["demand_deadlines"] is enqueue_demand_notices
    assert scans["demand_auto_close"]() == 1  # resolved in September: the window is long past
    w["demand"].refresh_from_db()
    assert w["demand"].state == Demand.State.CLOSED
