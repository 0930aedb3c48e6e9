"""Demand deadline notices through real Celery workers against a private Redis: exactly once.

Like the booking reminders (tests/services/test_reminders_worker.py), not eager mode: each test
starts its own redis-server and ``celery -A config worker`` processes on the test database, and
e-mails are written one file per message, so a notice sent twice would show as two files.

* two workers running the deadline scan at the same time, several times over: every reminder,
  overdue notice and escalation is written once and sent once;
* Redis stopped while the scan writes the notices: nothing is lost; once Redis is back the
  beat sends each exactly once.
"""

from __future__ import annotations

import datetime
import re
import time

import pytest
from django.utils import timezone

from committees.demand_notifications import DEADLINE_SOON, ESCALATED, OVERDUE, enqueue_demand_notices
from core.notifications.models import Outbox
from core.workdays import add_workdays
from tests.buildings.factories import EnterpriseFactory, StreetFactory
from tests.committees.factories import BuildingCommitteeFactory, CommitteeSeatFactory, DemandFactory
from tests.members.factories import PartyMemberFactory, StaffUserFactory, UserFactory
from tests.services.celery_harness import (
    celery_app_on,
    redis_server_path,
    wait_for,
    worker_env,
)
from tests.services.notification_backends import delivered

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(redis_server_path() is None, reason="no redis-server binary"),
]

KINDS = (DEADLINE_SOON, OVERDUE, ESCALATED)
OVERDUE_DEMANDS = 20
SCAN = "core.notifications.tasks.run_scans_task"
DISPATCH = "core.notifications.tasks.dispatch_due_notifications_task"


def demand_world() -> int:
    """Overdue demands long past the escalation point and one due tomorrow; the rows they must give.

    Two social workers of the street (an overdue notice each, per demand), one district officer
    (an escalation per demand), and the handler's account (the reminder of the one due soon).
    """
    street = StreetFactory()
    for _ in range(2):
        StaffUserFactory(streets=[street])
    StaffUserFactory(district=street.district)
    today = timezone.localdate()
    long_ago = today - datetime.timedelta(days=30)  # >= DEMAND_ESCALATE_WORKDAYS (5) working days
    for _ in range(OVERDUE_DEMANDS):
        DemandFactory(
            enterprise=EnterpriseFactory(building__street=street), deadline=long_ago, state="accepted"
        )
    committee = BuildingCommitteeFactory(building__street=street)
    member = PartyMemberFactory()
    seat = CommitteeSeatFactory(committee=committee, member=member)
    UserFactory(party_member=member)
    DemandFactory(
        enterprise=EnterpriseFactory(building=committee.building),
        deadline=add_workdays(today, 1),
        state="assigned",
        handler_kind="seat",
        handler_seat=seat,
    )
    return OVERDUE_DEMANDS * 3 + 1


def notice_rows():
    return Outbox.objects.filter(kind__in=KINDS)


def assert_exactly_once(mail_dir, rows) -> None:
    counts = delivered(mail_dir)
    expected = {f"notification-{row.pk}" for row in rows}
    assert set(counts) == expected, f"missing {expected - set(counts)}, unexpected {set(counts) - expected}"
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n != 1}


def test_two_workers_scanning_at_once_write_and_send_each_notice_once(redis, mail_dir, workers):
    expected = demand_world()
    env = worker_env(redis_url=redis.url, mail_dir=mail_dir, NOTIFICATIONS_BATCH_SIZE="10")
    one, two = workers("w1", env), workers("w2", env)
    one.wait_ready()
    two.wait_ready()
    with celery_app_on(redis.url) as app:
        for _ in range(6):  # both workers, two processes each: the scans overlap
            app.send_task(SCAN)
    wait_for(lambda: notice_rows().count() >= expected, 60, message="the notices written by the scans")
    # Each scan's after-commit kick sends one batch; the rest is the beat's (one send task per
    # batch of due rows, taken by whichever worker is free), sent here as the beat would.
    with celery_app_on(redis.url) as app:
        for _ in range(2):
            app.send_task(DISPATCH)
    wait_for(
        lambda: notice_rows().filter(status=Outbox.Status.SENT).count() == expected,
        90,
        message="every notice sent",
    )
    with celery_app_on(redis.url) as app:
        app.send_task(SCAN)  # a later scan finds nothing new
    time.sleep(3)
    rows = list(notice_rows())
    assert len(rows) == expected
    assert {kind: sum(r.kind == kind for r in rows) for kind in KINDS} == {
        DEADLINE_SOON: 1,
        OVERDUE: 2 * OVERDUE_DEMANDS,
        ESCALATED: OVERDUE_DEMANDS,
    }
    assert_exactly_once(mail_dir, rows)
    assert {r.attempts for r in rows} == {1}
    scanned = [w.name for w in (one, two) if re.search(rf"{re.escape(SCAN)}\[[^\]]+\] succeeded", w.output())]
    assert scanned == ["w1", "w2"], "both workers should have run the scan"
    assert {r.sent_by.split("@")[0] for r in rows} == {"w1", "w2"}, "both workers should have sent"


def test_redis_down_while_the_scan_writes_then_each_notice_arrives_once(redis, mail_dir, workers):
    expected = demand_world()
    redis.stop()
    with celery_app_on(redis.url):
        started = time.monotonic()
        written = enqueue_demand_notices()  # what `manage.py send_due_reminders` runs; its kick fails
        elapsed = time.monotonic() - started
    assert written == expected
    assert elapsed < 10, f"the scan with Redis down took {elapsed:.1f}s"
    assert enqueue_demand_notices() == 0  # written once, however often it runs
    time.sleep(1)
    assert delivered(mail_dir) == {}  # nothing could be sent: the broker is down

    redis.start()  # same port, empty: the kicks are gone, only the outbox remembers
    env = worker_env(redis_url=redis.url, mail_dir=mail_dir, NOTIFICATIONS_BEAT_SECONDS="1")
    worker = workers("w1", env, beat=True)
    worker.wait_ready()
    wait_for(
        lambda: notice_rows().filter(status=Outbox.Status.SENT).count() == expected,
        90,
        message="every notice after Redis came back",
    )
    time.sleep(3)  # a few more beat runs: nothing is sent again
    assert_exactly_once(mail_dir, list(notice_rows()))
