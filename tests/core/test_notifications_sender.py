"""The outbox's sender and its admin's "send again" (core/notifications/sender.py, outbox.py):
the rules that mutation testing found no test for — a batch limit, what counts as due, the
tally of a batch, the error text kept, the attempts of a crashing row, the time a requeued row
is due, the site's language for skip reasons, every periodic scan summed."""

import datetime
import logging
import os
import socket

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone, translation

from core.notifications import outbox, registry, sender
from core.notifications.models import Outbox
from services import booking as engine
from tests.members.factories import UserFactory
from tests.services.test_notifications import D, Kind, event_in, rows

pytestmark = pytest.mark.django_db

Status = Outbox.Status


def two_confirmations():
    return [engine.book_event(user=UserFactory(), event=event_in(3 * D)) for _ in range(2)]


def test_a_limit_of_one_sends_one_row_and_leaves_the_next_due(mailoutbox):
    two_confirmations()
    assert sender.send_due(limit=1, worker_id="t") == 1
    assert sender.due_count() == 1
    assert Outbox.objects.filter(status=Status.SENT).count() == 1


def test_due_count_counts_pending_rows_only():
    first, _second = two_confirmations()
    assert sender.due_count() == 2
    rows(booking=first, kind=Kind.BOOKING_CONFIRMED).update(status=Status.SKIPPED, skip_reason="x")
    assert sender.due_count() == 1


@override_settings(
    EMAIL_BACKEND="tests.services.notification_backends.FailingBackend",
    NOTIFICATIONS={"MAX_ATTEMPTS": 1},
)
def test_a_batch_counts_every_failure_and_gives_up_naming_the_row(caplog):
    first, second = two_confirmations()
    with caplog.at_level(logging.ERROR, logger="core.notifications"):
        stats = sender.process_due(worker_id="t")
    assert (stats.failed, stats.retrying) == (2, 0)
    row = rows(booking=first, kind=Kind.BOOKING_CONFIRMED).get()
    assert f"giving up on outbox row {row.pk} after 1 attempts" in caplog.text


@override_settings(EMAIL_BACKEND="tests.services.notification_backends.FailingBackend")
def test_a_batch_counts_every_retry():
    two_confirmations()
    assert sender.process_due(worker_id="t").retrying == 2


def test_the_last_error_keeps_each_error_on_its_own_line_and_at_most_2000_characters():
    row = Outbox(attempts=1)
    sender._record_failure(row, ["one", "two"], timezone.now(), sender.SendStats())
    assert row.last_error == "one\ntwo"
    sender._record_failure(row, ["x" * 3000], timezone.now(), sender.SendStats())
    assert row.last_error == "x" * 2000


def test_a_crashing_row_counts_one_more_attempt_each_time(monkeypatch):
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    Outbox.objects.filter(pk=row.pk).update(attempts=2)

    def broken(row, now):
        raise ValueError("boom")

    monkeypatch.setattr(sender, "skip_reason", broken)
    sender.process_due(worker_id="t", limit=1)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 3)
    assert row.next_attempt_at > timezone.now() and "ValueError: boom" in row.last_error


def test_a_crash_of_a_row_no_longer_pending_changes_nothing():
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    Outbox.objects.filter(pk=row.pk).update(status=Status.SKIPPED, skip_reason="x")
    sender._record_crash(row.pk, ValueError("boom"), timezone.now(), sender.SendStats())
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SKIPPED, 0, "")


def test_send_again_makes_a_failed_row_due_now_with_a_fresh_budget():
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    long_ago = timezone.now() - 10 * D
    Outbox.objects.filter(pk=row.pk).update(
        status=Status.FAILED, attempts=8, next_attempt_at=timezone.now() + D, updated_at=long_ago
    )
    instant = timezone.now().replace(microsecond=0) + datetime.timedelta(minutes=1)
    with time_machine.travel(instant, tick=False):
        assert outbox.requeue(rows=Outbox.objects.filter(pk=row.pk)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at, row.updated_at) == (
        Status.PENDING,
        0,
        instant,
        instant,
    )


def test_skip_reasons_are_stored_in_the_sites_language_whoever_is_active():
    user = UserFactory()
    booking = engine.book_event(user=user, event=event_in(3 * D))
    user.is_active = False
    user.save()
    with translation.override("en"):
        sender.process_due(worker_id="t")
    assert rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get().skip_reason == "接收人账号已停用。"


def test_run_scans_sums_every_scan_and_hands_each_the_day(monkeypatch):
    seen = []

    def scan(n):
        def run(*, today):
            seen.append(today)
            return n

        return run

    monkeypatch.setattr(registry, "scans", lambda: {"a": scan(2), "b": scan(3)})
    day = datetime.date(2026, 12, 7)
    assert outbox.run_scans(today=day) == 5
    assert seen == [day, day]


def test_a_row_sent_without_a_worker_id_names_this_host_and_process():
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    sender.send_due()
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    assert row.sent_by == f"{socket.gethostname()}:{os.getpid()}"


def test_a_batch_reads_its_rows_a_page_at_a_time(django_assert_max_num_queries):
    """The rows' recipients and subjects are read ahead 50 at a time, not once per row."""
    event = event_in(3 * D, capacity=60)
    for _ in range(60):
        engine.book_event(user=UserFactory(), event=event)
    due = sender.due_count()
    # Per row: take, savepoint, the bell, the attempt, release; per page: the rows, their subjects.
    with django_assert_max_num_queries(5 * due + 5 * 2):
        assert sender.process_due(worker_id="t").processed == due
