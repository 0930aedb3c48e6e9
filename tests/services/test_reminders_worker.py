"""Notifications through real Celery workers against a real (private) Redis: exactly once.

Not eager mode: each test starts its own redis-server on a free port and
``celery -A config worker`` processes that read the test database. E-mails are
written one file per message, so a message sent twice would show as two files.

* a booking's confirmation and reminders arrive once, driven by the after-commit
  kick and the beat;
* Redis stopped while people book: the bookings succeed, and once Redis is back
  every notification arrives exactly once;
* two workers on the same due rows: each sent once, and both did work;
* a worker killed (-9) in the middle of a send: the next worker completes the
  batch with nothing lost and nothing doubled.
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone

from core.notifications.models import Outbox as NotificationOutbox
from services import booking as engine
from services.models import Booking, Event
from services.notifications import Kind
from tests.members.factories import UserFactory
from tests.services.celery_harness import (
    celery_app_on,
    redis_server_path,
    wait_for,
    worker_env,
)
from tests.services.factories import EventFactory, SpaceFactory, outbox_rows
from tests.services.notification_backends import delivered

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(redis_server_path() is None, reason="no redis-server binary"),
]

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)
Status = NotificationOutbox.Status


def event_starting_in(delta: datetime.timedelta, **kwargs) -> Event:
    starts = timezone.now() + delta
    return EventFactory(
        starts_at=starts,
        ends_at=starts + 2 * H,
        booking_opens_at=timezone.now() - D,
        booking_closes_at=starts,
        cancel_deadline=starts,
        capacity=kwargs.pop("capacity", 100),
        **kwargs,
    )


def message_keys(*rows: NotificationOutbox) -> set[str]:
    return {f"notification-{row.pk}" for row in rows}


def sent_rows():
    return NotificationOutbox.objects.filter(status=Status.SENT)


def assert_exactly_once(mail_dir, expected_rows):
    counts = delivered(mail_dir)
    expected = message_keys(*expected_rows)
    assert {k: counts.get(k, 0) for k in expected} == dict.fromkeys(expected, 1)
    assert set(counts) == expected, f"unexpected mail: {set(counts) - expected}"
    assert all(n == 1 for n in counts.values()), counts


def test_confirmation_and_reminders_arrive_once_through_the_worker(redis, mail_dir, workers):
    env = worker_env(redis_url=redis.url, mail_dir=mail_dir, NOTIFICATIONS_BEAT_SECONDS="1")
    worker = workers("w1", env, beat=True)
    worker.wait_ready()
    user = UserFactory()
    space = SpaceFactory()
    # Starting in 2 hours and a few seconds: the 2-hour reminder falls due during the test
    # (a 24-hour one would make no sense for it). The second event's 24-hour reminder too.
    soon = event_starting_in(2 * H + datetime.timedelta(seconds=6), space=space)
    tomorrow = event_starting_in(D + datetime.timedelta(seconds=6), space=space)
    with celery_app_on(redis.url):
        first = engine.book_event(user=user, event=soon)
        second = engine.book_event(user=user, event=tomorrow)

    expected = [
        outbox_rows(booking=first, kind=Kind.BOOKING_CONFIRMED).get(),
        outbox_rows(booking=first, kind=Kind.EVENT_REMINDER).get(),
        outbox_rows(booking=second, kind=Kind.BOOKING_CONFIRMED).get(),
        outbox_rows(booking=second, kind=Kind.EVENT_REMINDER, context__offset_minutes=1440).get(),
    ]
    # The confirmations come from the after-commit kick, at once.
    wait_for(lambda: len(delivered(mail_dir)) >= 2, 20, message="the two confirmations")
    wait_for(lambda: sent_rows().count() == 4, 40, message="the two reminders, sent by the beat")
    time.sleep(3)  # a few more beat runs: nothing is sent again
    assert_exactly_once(mail_dir, expected)
    later = outbox_rows(booking=second, kind=Kind.EVENT_REMINDER, context__offset_minutes=120).get()
    assert later.status == Status.PENDING  # due in 22 hours: not sent early
    for row in sent_rows():
        assert row.attempts == 1 and row.sent_by.startswith("w1@")


def test_redis_down_while_booking_then_every_notification_arrives_exactly_once(redis, mail_dir, workers):
    env = worker_env(redis_url=redis.url, mail_dir=mail_dir, NOTIFICATIONS_BEAT_SECONDS="1")
    worker = workers("w1", env, beat=True)
    worker.wait_ready()
    # A room each (they overlap in time); the 2-hour reminders fall due seconds from now.
    events = [event_starting_in(2 * H + datetime.timedelta(seconds=8 + i)) for i in range(0, 15, 3)]

    redis.stop()
    with celery_app_on(redis.url):
        started = time.monotonic()
        bookings = [engine.book_event(user=UserFactory(), event=event) for event in events]
        elapsed = time.monotonic() - started
    assert all(b.status == Booking.Status.CONFIRMED for b in bookings)
    assert elapsed < 10, f"booking with Redis down took {elapsed:.1f}s"
    time.sleep(2)
    assert delivered(mail_dir) == {}  # nothing could be sent: the broker is down

    redis.start()  # same port, empty: every queued message is gone, only the outbox remembers
    expected = list(outbox_rows(bookings=bookings))
    assert len(expected) == 10  # a confirmation and a 2-hour reminder each
    wait_for(lambda: sent_rows().count() == 10, 90, message="all notifications after Redis came back")
    time.sleep(3)
    assert_exactly_once(mail_dir, expected)


def test_two_workers_on_the_same_due_rows_send_each_once(redis, mail_dir, workers):
    space = SpaceFactory(capacity=500)
    event = event_starting_in(3 * D, space=space, capacity=400)
    # Booked while no worker runs: 300 confirmations wait, with 300 kicks queued in Redis.
    with celery_app_on(redis.url):
        for _ in range(300):
            engine.book_event(user=UserFactory(), event=event)
    due = list(NotificationOutbox.objects.filter(kind=Kind.BOOKING_CONFIRMED))
    assert len(due) == 300

    env = worker_env(
        redis_url=redis.url,
        mail_dir=mail_dir,
        EMAIL_BACKEND="tests.services.notification_backends.SlowBackend",
        NOTIFICATION_TEST_MAIL_DELAY="0.01",
        NOTIFICATIONS_BATCH_SIZE="20",
    )
    one, two = workers("w1", env), workers("w2", env)
    one.wait_ready()
    two.wait_ready()
    wait_for(lambda: sent_rows().count() == 300, 120, message="300 confirmations")
    time.sleep(2)
    assert_exactly_once(mail_dir, due)
    senders = {row.sent_by.split("@")[0] for row in sent_rows()}
    assert senders == {"w1", "w2"}, "both workers should have taken rows"
    assert set(
        NotificationOutbox.objects.filter(kind=Kind.BOOKING_CONFIRMED).values_list("attempts", flat=True)
    ) == {1}


def test_worker_killed_mid_batch_nothing_lost_nothing_doubled(redis, mail_dir, workers):
    event = event_starting_in(3 * D)
    with celery_app_on(redis.url):  # the bookings' kicks go to this test's Redis, not the shared one
        bookings = [engine.book_event(user=UserFactory(), event=event) for _ in range(12)]
    due = list(outbox_rows(bookings=bookings, kind=Kind.BOOKING_CONFIRMED))
    slow = worker_env(
        redis_url=redis.url,
        mail_dir=mail_dir,
        EMAIL_BACKEND="tests.services.notification_backends.SlowBackend",
        NOTIFICATION_TEST_MAIL_DELAY="0.5",
    )
    victim = workers("victim", slow, concurrency=1)
    victim.wait_ready()
    with celery_app_on(redis.url) as app:
        app.send_task("core.notifications.tasks.send_due_notifications_task")

    def in_the_middle_of_a_send():
        sent = delivered(mail_dir)
        inflight = {p.name.split(".")[0] for p in mail_dir.glob("*.inflight")}
        return len(sent) >= 3 and (inflight - set(sent))

    wait_for(in_the_middle_of_a_send, 30, interval=0.02, message="the worker to be mid-send")
    victim.kill()
    before = delivered(mail_dir)
    assert 3 <= len(before) < 12
    # The row whose send was cut off is not lost: its transaction rolled back with the process.
    assert sent_rows().count() == len(before)

    rescuer = workers("rescuer", worker_env(redis_url=redis.url, mail_dir=mail_dir), concurrency=1)
    rescuer.wait_ready()
    with celery_app_on(redis.url) as app:
        app.send_task("core.notifications.tasks.dispatch_due_notifications_task")  # what the beat sends
    wait_for(lambda: sent_rows().count() == 12, 30, message="the rest of the batch")
    time.sleep(1)
    assert_exactly_once(mail_dir, due)
    assert {r.sent_by.split("@")[0] for r in sent_rows()} == {"victim", "rescuer"}
