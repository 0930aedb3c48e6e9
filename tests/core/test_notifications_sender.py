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
from django.db import connection
from django.db.models import Subquery
from django.test import override_settings
from django.utils import timezone, translation

from buildings.models import Street
from core.notifications import outbox, registry, sender
from core.notifications.models import Outbox
from services import booking as engine
from services.models import Event
from tests.buildings.factories import StreetFactory
from tests.concurrency import held_elsewhere
from tests.members.factories import UserFactory
from tests.services.test_notifications import D, H, Kind, event_in, reminder_row, rows

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
    given_up = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"notifications: giving up on outbox row {row.pk} after 1 attempts" in given_up


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


def test_a_prepared_write_refuses_an_expression_and_names_its_field():
    """``prepare`` turns each value into an SQL parameter when it is made: a street resolved
    inside the INSERT (a subquery, which ``write`` takes) cannot be one."""
    street = StreetFactory()
    made = outbox.row(
        recipient_id=UserFactory().pk,
        kind=Kind.TERM_ENDING,
        cause="prepared:subquery",
        due_at=timezone.now(),
        street_id=Subquery(Street.objects.filter(pk=street.pk).values("pk")[:1]),
    )
    with pytest.raises(TypeError) as refused:
        outbox.prepare([made])
    assert str(refused.value) == "PreparedWrite takes plain values, not an expression for street"
    assert outbox.write([made]) == 1
    assert Outbox.objects.get(cause="prepared:subquery").street_id == street.pk


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


@pytest.mark.parametrize("send", [sender.send_due, sender.process_due], ids=["send_due", "process_due"])
def test_a_row_sent_without_a_worker_id_names_this_host_and_process(send):
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    send()
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


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_crash_of_a_row_another_worker_holds_is_left_to_that_worker():
    """``_record_crash`` skips a row locked elsewhere (``skip_locked``) instead of waiting for it."""
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    stats = sender.SendStats()
    with held_elsewhere(Outbox, row.pk):
        sender._record_crash(row.pk, ValueError("boom"), timezone.now(), stats)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error, stats.retrying) == (Status.PENDING, 0, "", 0)


# --- the read-ahead page (``_Pages``) -----------------------------------------------------------------


class FakeClock:
    """Stands in for the ``time`` module in the sender: ``monotonic()`` reads ``now``."""

    def __init__(self, now: float):
        self.now = now

    def monotonic(self) -> float:
        return self.now


def due_rows(count: int) -> list[Outbox]:
    """``count`` pending confirmations, due now, in the order of their ids."""
    bookings = [engine.book_event(user=UserFactory(), event=event_in(3 * D)) for _ in range(count)]
    return [rows(booking=b, kind=Kind.BOOKING_CONFIRMED).get() for b in bookings]


def due_at(row: Outbox, when: datetime.datetime, **fields) -> None:
    Outbox.objects.filter(pk=row.pk).update(next_attempt_at=when, **fields)


S = datetime.timedelta(seconds=1)


def test_a_page_reads_on_from_the_row_taken_pending_and_due_rows_only(monkeypatch):
    """The page is the due pending rows from the one taken on, in (due, id) order: not the rows
    before it (same due time and a lower id, or due earlier with a higher id), not a row no
    longer pending, not a row due after ``now`` (each booking's reminders)."""
    monkeypatch.setattr(sender, "time", FakeClock(1000.0))
    same_before, taken, later, earlier_higher_id, sent = due_rows(5)
    t = timezone.now().replace(microsecond=0) - 60 * S
    due_at(same_before, t)
    due_at(taken, t)
    due_at(later, t + 2 * S)
    due_at(earlier_higher_id, t - S)
    due_at(sent, t + S, status=Status.SKIPPED, skip_reason="x")
    pages = sender._Pages()
    row = pages.get(taken.pk, t, timezone.now())
    assert row.pk == taken.pk
    assert set(pages.rows) == {later.pk}


def test_a_page_holds_the_first_rows_in_due_then_id_order(monkeypatch):
    monkeypatch.setattr(sender, "time", FakeClock(1000.0))
    monkeypatch.setattr(sender._Pages, "SIZE", 3)
    a, b, c, d, e = due_rows(5)
    t = timezone.now().replace(microsecond=0) - 60 * S
    # due order c, d, e (same instant: by id), b, a; the ids' order is a, b, c, d, e
    for row, when in ((e, t), (d, t), (c, t), (b, t + S), (a, t + 2 * S)):
        due_at(row, when)
    pages = sender._Pages()
    assert pages.get(c.pk, t, timezone.now()).pk == c.pk
    assert set(pages.rows) == {d.pk, e.pk}


def test_a_row_missing_from_the_page_is_read_on_its_own(django_assert_num_queries):
    """Cannot happen while the row is locked; if it does (here: a row skipped meanwhile), the
    row is read by itself, with its recipient and its subject."""
    (row,) = due_rows(1)
    due_at(row, row.next_attempt_at, status=Status.SKIPPED, skip_reason="x")
    pages = sender._Pages()
    with django_assert_num_queries(3):  # the page (empty), the row with its recipient, its subject
        got = pages.get(row.pk, row.next_attempt_at, timezone.now())
    assert got.pk == row.pk and pages.rows == {}
    with django_assert_num_queries(0):
        assert got.recipient.pk == row.recipient_id


def test_a_page_is_used_for_less_than_five_seconds_then_read_again(monkeypatch, django_assert_num_queries):
    """A read-ahead row older than ``MAX_AGE`` is read again (a booking cancelled meanwhile must
    not get its reminder): from the instant it is five seconds old."""
    clock = FakeClock(1.0)  # time.monotonic's origin is not defined: a page may be read at 1.0
    monkeypatch.setattr(sender, "time", clock)
    first, second, third = due_rows(3)
    now = timezone.now()
    pages = sender._Pages()
    assert pages.get(first.pk, first.next_attempt_at, now).pk == first.pk
    assert set(pages.rows) == {second.pk, third.pk}

    clock.now = 1.0 + 4.999
    with django_assert_num_queries(0):
        assert pages.get(second.pk, second.next_attempt_at, now).pk == second.pk

    type(third.recipient).objects.filter(pk=third.recipient_id).update(email="changed@example.com")
    clock.now = 1.0 + 5.0
    with django_assert_num_queries(2):  # the page with its recipients, the subjects
        again = pages.get(third.pk, third.next_attempt_at, now)
    assert again.pk == third.pk and again.recipient.email == "changed@example.com"


def test_a_page_cut_among_rows_due_at_the_same_instant_keeps_the_lowest_ids(monkeypatch):
    """Ties are ordered by id, not left to the table's order: here the rows are written in the
    reverse of their ids (each update writes a new row version), the page is cut among them, and
    it is read without the index on (due, id) -- a plan PostgreSQL may choose on a large table."""
    monkeypatch.setattr(sender, "time", FakeClock(1000.0))
    monkeypatch.setattr(sender._Pages, "SIZE", 2)
    rows_ = due_rows(4)
    t = timezone.now().replace(microsecond=0) - 60 * S
    for row in reversed(rows_):
        due_at(row, t)
        type(row.recipient).objects.filter(pk=row.recipient_id).update(first_name="Ann")  # joined too
    first, second = rows_[:2]
    with connection.cursor() as cursor:  # until the test's transaction ends
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
    pages = sender._Pages()
    assert pages.get(first.pk, t, timezone.now()).pk == first.pk
    assert set(pages.rows) == {second.pk}


# --- the continuation run's open survivors (issue 20) ----------------------------------------------


def test_a_reminder_is_sent_at_its_due_instant_not_put_back():
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    sender.send_due(worker_id="t")  # the confirmation
    reminder = reminder_row(booking, 1440)
    # (a limit: put back at its own due instant, it would be taken again and again)
    stats = sender.process_due(worker_id="t", now=reminder.due_at, limit=5)
    assert (stats.sent, stats.rescheduled) == (1, 0)
    reminder.refresh_from_db()
    assert reminder.status == Status.SENT


def test_two_reminders_put_back_in_one_batch_are_both_counted():
    event = event_in(3 * D)
    for _ in range(2):
        engine.book_event(user=UserFactory(), event=event)
    sender.send_due(worker_id="t")  # the confirmations
    # Moved two days later without telling the outbox: the old 24-hour mark is early now.
    Event.objects.filter(pk=event.pk).update(starts_at=event.starts_at + 2 * D, ends_at=event.ends_at + 2 * D)
    stats = sender.process_due(worker_id="t", now=event.starts_at - 23 * H)
    assert (stats.rescheduled, stats.sent, stats.skipped) == (2, 0, 0)


def test_a_message_that_cannot_be_rendered_is_retried_with_its_error_and_logged(monkeypatch, caplog):
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))

    def broken(row):
        raise ValueError("no template")

    monkeypatch.setattr(sender, "render_message", broken)
    with caplog.at_level(logging.WARNING, logger="core.notifications"):
        stats = sender.process_due(worker_id="t")
    assert (stats.retrying, stats.sent) == (1, 0)
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    assert (row.status, row.attempts, row.last_error) == (
        Status.PENDING,
        1,
        "render: ValueError('no template')",
    )
    (record,) = [r for r in caplog.records if r.name == "core.notifications"]
    assert (record.levelno, record.getMessage()) == (
        logging.ERROR,
        f"notifications: cannot render outbox row {row.pk}",
    )
    assert isinstance(record.exc_info[1], ValueError)


@override_settings(EMAIL_BACKEND="tests.services.notification_backends.FailingBackend")
def test_a_failed_channel_is_logged_naming_the_channel_the_row_and_the_error(caplog):
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    with caplog.at_level(logging.WARNING, logger="core.notifications"):
        sender.process_due(worker_id="t")
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "core.notifications"] == [
        (
            logging.WARNING,
            f"notifications: email failed for outbox row {row.pk}: "
            "ConnectionRefusedError('SMTP server refused the connection (test)')",
        )
    ]


def test_a_row_that_breaks_the_code_is_logged_with_its_id(monkeypatch, caplog):
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    boom = ValueError("boom")

    def broken(row, now):
        raise boom

    monkeypatch.setattr(sender, "skip_reason", broken)
    with caplog.at_level(logging.WARNING, logger="core.notifications"):
        sender.process_due(worker_id="t", limit=1)
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    (record,) = [r for r in caplog.records if r.name == "core.notifications"]
    assert (record.levelno, record.getMessage()) == (
        logging.ERROR,
        f"notifications: outbox row {row.pk} could not be processed",
    )
    assert record.exc_info[1] is boom


def test_a_long_worker_id_is_recorded_cut_to_150_characters():
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    assert sender.send_due(worker_id="w" * 150 + "x" * 50) == 1
    assert rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get().sent_by == "w" * 150


@pytest.mark.parametrize("outcome", ["skipped", "put back"])
def test_a_row_skipped_or_put_back_keeps_what_changed_since_its_page_was_read(monkeypatch, outcome):
    """The row delivered is the read-ahead copy (up to five seconds old), not read again under
    its lock: a skip or a put-back writes its own columns, not the copy's others (here the last
    error, written meanwhile)."""
    monkeypatch.setattr(sender, "time", FakeClock(1000.0))
    event = event_in(3 * D)
    first = engine.book_event(user=UserFactory(), event=event)
    if outcome == "skipped":  # the recipient wants neither channel
        second = engine.book_event(
            user=UserFactory(notify_by_email=False, notify_in_portal=False), event=event
        )
        taken = rows(booking=second, kind=Kind.BOOKING_CONFIRMED).get()
    else:  # a reminder whose event moved later without telling the outbox
        second = engine.book_event(user=UserFactory(), event=event)
        taken = reminder_row(second, 1440)
        Event.objects.filter(pk=event.pk).update(
            starts_at=event.starts_at + 2 * D, ends_at=event.ends_at + 2 * D
        )
    head = rows(booking=first, kind=Kind.BOOKING_CONFIRMED).get()
    Outbox.objects.exclude(pk__in=[head.pk, taken.pk]).delete()
    t = timezone.now().replace(microsecond=0) - 60 * S
    due_at(head, t)
    due_at(taken, t + S)
    pages, channels, stats = sender._Pages(), sender.load_channels(), sender.SendStats()
    now = timezone.now()
    assert sender._process_next(pages, channels, "t", stats, now)  # the head; the page holds the other
    assert set(pages.rows) == {taken.pk}
    Outbox.objects.filter(pk=taken.pk).update(last_error="an earlier attempt's error")

    assert sender._process_next(pages, channels, "t", stats, now)

    taken.refresh_from_db()
    assert (stats.sent, stats.skipped, stats.rescheduled) == (
        (1, 1, 0) if outcome == "skipped" else (1, 0, 1)
    )
    assert taken.status == (Status.SKIPPED if outcome == "skipped" else Status.PENDING)
    assert taken.last_error == "an earlier attempt's error"
