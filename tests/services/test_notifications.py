"""Notifications of the booking engine (services/notifications.py) and the term ends
(committees/notifications.py) through the shared outbox (core/notifications/): outbox rows,
unique keys, what is sent and what is not.

In-process: the engine writes rows in its transactions, ``send_due`` delivers
them through the real channels (Django's locmem e-mail backend, the in-portal
table). The real-worker and fault tests are in test_reminders_worker.py.
"""

import datetime
import zoneinfo
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from committees.notifications import TERM_ENDING, enqueue_term_reminders
from core.notifications import outbox as notification_outbox
from core.notifications import sender
from core.notifications.models import Outbox as NotificationOutbox
from core.notifications.models import PortalNotification
from core.notifications.selectors import failed_notifications
from core.notifications.sender import process_due, send_due
from services import booking as engine
from services import notifications
from services.models import Booking, Event
from services.notifications import enqueue_booking_made, notify_event_changed
from tests.buildings.factories import BuildingFactory, StreetFactory
from tests.committees.factories import BuildingCommitteeFactory
from tests.members.factories import PartyOrganizationFactory, StaffUserFactory, UserFactory
from tests.services.factories import CommunityPlaceFactory, EventFactory, SpaceFactory, outbox_rows

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)
Status = NotificationOutbox.Status


class Kind:
    """The kinds these tests see: the booking engine's and the term end's."""

    BOOKING_CONFIRMED = notifications.Kind.BOOKING_CONFIRMED
    WAITLISTED = notifications.Kind.WAITLISTED
    WAITLIST_PROMOTED = notifications.Kind.WAITLIST_PROMOTED
    EVENT_REMINDER = notifications.Kind.EVENT_REMINDER
    EVENT_CHANGED = notifications.Kind.EVENT_CHANGED
    EVENT_CANCELLED = notifications.Kind.EVENT_CANCELLED
    TERM_ENDING = TERM_ENDING


def event_in(delta: datetime.timedelta, **kwargs) -> Event:
    """A published event starting ``delta`` from now, open for booking now."""
    starts = (timezone.now() + delta).replace(microsecond=0)
    return EventFactory(
        starts_at=starts,
        ends_at=starts + 2 * H,
        booking_opens_at=starts - 10 * D,
        booking_closes_at=starts + H,
        cancel_deadline=starts,
        **kwargs,
    )


def rows(**filters):
    return outbox_rows(**filters).order_by("kind", "due_at")


def keys(qs):
    return sorted((row.kind, row.cause) for row in qs)


# --- the write side ---------------------------------------------------------------------------------


def test_booking_writes_confirmation_and_both_reminders_in_its_transaction():
    event = event_in(3 * D)
    user = UserFactory()
    booking = engine.book_event(user=user, event=event)
    written = rows(booking=booking)
    assert keys(written) == sorted(
        [
            (Kind.BOOKING_CONFIRMED, f"booking:{booking.pk}"),
            (Kind.EVENT_REMINDER, f"booking:{booking.pk}:before:1440m"),
            (Kind.EVENT_REMINDER, f"booking:{booking.pk}:before:120m"),
        ]
    )
    reminders = {row.context["offset_minutes"]: row for row in written.filter(kind=Kind.EVENT_REMINDER)}
    assert reminders[1440].due_at == event.starts_at - 24 * H
    assert reminders[120].due_at == event.starts_at - 2 * H
    assert all(row.recipient_id == user.pk and row.status == Status.PENDING for row in written)
    # The street is recorded for the admin's scoping, resolved inside the INSERT.
    assert {row.street_id for row in written} == {event.space.station.building.street_id}


def test_a_refused_booking_writes_no_notification():
    event = event_in(3 * D, capacity=1, waitlist_limit=0)
    engine.book_event(user=UserFactory(), event=event)
    before = NotificationOutbox.objects.count()
    with pytest.raises(engine.BookingError):
        engine.book_event(user=UserFactory(), event=event)
    assert NotificationOutbox.objects.count() == before


def test_no_senseless_reminders_for_a_late_booking():
    # Booked 3 hours before: a 24-hour reminder would make no sense, the 2-hour one does.
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * H))
    assert [r.context["offset_minutes"] for r in rows(booking=booking, kind=Kind.EVENT_REMINDER)] == [120]
    # Booked 1 hour before: no reminder at all, only the confirmation.
    booking = engine.book_event(user=UserFactory(), event=event_in(H))
    assert keys(rows(booking=booking)) == [(Kind.BOOKING_CONFIRMED, f"booking:{booking.pk}")]


@override_settings(NOTIFICATIONS={"REMINDER_OFFSETS": {"default": [1440, 120], "counselling": [60]}})
def test_reminder_offsets_are_settings_per_event_kind():
    counselling = event_in(3 * D, kind=Event.Kind.COUNSELLING, capacity=1)
    booking = engine.book_event(user=UserFactory(), event=counselling)
    assert [r.context["offset_minutes"] for r in rows(booking=booking, kind=Kind.EVENT_REMINDER)] == [60]
    lecture = engine.book_event(user=UserFactory(), event=event_in(3 * D, kind=Event.Kind.SAFETY_LECTURE))
    assert sorted(r.context["offset_minutes"] for r in rows(booking=lecture, kind=Kind.EVENT_REMINDER)) == [
        120,
        1440,
    ]


def test_writing_twice_is_a_no_op_and_the_database_refuses_a_duplicate_key():
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    before = keys(rows(booking=booking))
    enqueue_booking_made(booking=booking)
    enqueue_booking_made(booking=booking)
    assert keys(rows(booking=booking)) == before
    original = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationOutbox.objects.create(
            recipient_id=original.recipient_id,
            kind=original.kind,
            cause=original.cause,
            due_at=original.due_at,
            next_attempt_at=original.due_at,
        )


def test_waitlisted_gets_a_waitlist_notice_and_no_reminders_until_promoted():
    event = event_in(3 * D, capacity=1)
    first = engine.book_event(user=UserFactory(), event=event)
    waiting = engine.book_event(user=UserFactory(), event=event)
    assert waiting.status == Booking.Status.WAITLISTED
    assert keys(rows(booking=waiting)) == [(Kind.WAITLISTED, f"booking:{waiting.pk}")]

    engine.cancel_booking(booking=first)
    assert keys(rows(booking=waiting)) == sorted(
        [
            (Kind.WAITLISTED, f"booking:{waiting.pk}"),
            (Kind.WAITLIST_PROMOTED, f"booking:{waiting.pk}"),
            (Kind.EVENT_REMINDER, f"booking:{waiting.pk}:before:1440m"),
            (Kind.EVENT_REMINDER, f"booking:{waiting.pk}:before:120m"),
        ]
    )


def test_cancelled_event_notifies_everyone_booked_or_waiting_and_nobody_else():
    event = event_in(3 * D, capacity=1)
    confirmed = engine.book_event(user=UserFactory(), event=event)
    waiting = engine.book_event(user=UserFactory(), event=event)
    left_before = engine.book_event(user=UserFactory(), event=event)
    engine.cancel_booking(booking=left_before)
    engine.cancel_event(event=event)
    notices = rows(event=event, kind=Kind.EVENT_CANCELLED)
    assert sorted(notices.values_list("recipient_id", flat=True)) == sorted(
        [confirmed.user_id, waiting.user_id]
    )
    assert {n.context["booking_status"] for n in notices} == {"confirmed", "waitlisted"}


def test_term_reminders_90_and_30_days_to_the_streets_social_workers_once():
    street, other_street = StreetFactory(), StreetFactory()
    worker = StaffUserFactory(streets=[street])
    StaffUserFactory(streets=[other_street])
    StaffUserFactory(streets=[street], is_active=False)
    StaffUserFactory(streets=[street], is_staff=False)  # no longer staff: not the street's worker
    today = datetime.date(2027, 1, 10)
    org = PartyOrganizationFactory(street=street, term_ends_on=today + datetime.timedelta(days=60))
    committee = BuildingCommitteeFactory(
        building=BuildingFactory(street=street), term_ends_on=today + datetime.timedelta(days=20)
    )
    PartyOrganizationFactory(street=street, term_ends_on=today + datetime.timedelta(days=120))  # not yet

    assert enqueue_term_reminders(today=today) == 2
    assert enqueue_term_reminders(today=today) == 0  # daily, twice: nothing new
    written = rows(kind=Kind.TERM_ENDING)
    assert {(r.recipient_id, r.cause) for r in written} == {
        (worker.pk, f"partyorganization:{org.pk}:term:{org.term_ends_on}:90d"),
        # 20 days left: only the 30-day reminder, not a belated 90-day one as well.
        (worker.pk, f"buildingcommittee:{committee.pk}:term:{committee.term_ends_on}:30d"),
    }
    # 30 days later the organization reaches its 30-day mark.
    later = today + datetime.timedelta(days=30)
    assert enqueue_term_reminders(today=later) == 2  # org: 30 days left; the 120-day one: 90 left
    assert rows(kind=Kind.TERM_ENDING, party_organization=org).count() == 2


# --- the send side ----------------------------------------------------------------------------------


def test_send_due_delivers_email_and_bell_once_and_twice_sends_nothing(mailoutbox):
    user = UserFactory(email="zhang@example.com")
    booking = engine.book_event(user=user, event=event_in(3 * D))
    assert send_due(worker_id="test") == 1  # the confirmation; the reminders are not due yet
    assert send_due(worker_id="test") == 0
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["zhang@example.com"]
    assert mailoutbox[0].extra_headers["Message-ID"].startswith("<notification-")
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    assert row.status == Status.SENT and row.attempts == 1 and row.sent_by == "test"
    assert row.sent_at is not None and row.delivered_channels == ["portal", "email"]
    bell = PortalNotification.objects.get(recipient=user)
    assert bell.outbox_id == row.pk and bell.read_at is None
    assert bell.url.endswith(reverse("portal:booking_detail", args=[booking.pk]))


def test_management_command_twice_in_a_row_sends_nothing_the_second_time(mailoutbox):
    for _ in range(3):
        engine.book_event(user=UserFactory(), event=event_in(3 * D))
    out = StringIO()
    call_command("send_due_reminders", stdout=out)
    assert "已发送 3 条" in out.getvalue()
    out = StringIO()
    call_command("send_due_reminders", stdout=out)
    assert "已发送 0 条" in out.getvalue()
    assert len(mailoutbox) == 3


def test_due_reminder_is_sent_with_time_in_shanghai_place_and_link(mailoutbox):
    # 14:00 in Shanghai is 06:00 UTC.
    starts = datetime.datetime(2030, 3, 5, 6, 0, tzinfo=datetime.UTC)
    event = EventFactory(
        title="党课：新质生产力",
        starts_at=starts,
        ends_at=starts + 2 * H,
        booking_opens_at=timezone.now() - D,
        booking_closes_at=starts - H,
        cancel_deadline=starts - 12 * H,
    )
    booking = engine.book_event(user=UserFactory(email="li@example.com"), event=event)
    send_due(worker_id="t")  # the confirmation
    mailoutbox.clear()
    # The clock reaches 24 hours before the event.
    assert send_due(worker_id="t", now=starts - 24 * H + datetime.timedelta(minutes=1)) == 1
    mail = mailoutbox[0]
    assert mail.subject == "活动提醒：党课：新质生产力将于24小时后开始"
    assert "2030年3月5日（星期二）14:00–16:00（北京时间）" in mail.body
    building = event.space.station.building
    assert building.name in mail.body and building.address in mail.body and event.space.name in mail.body
    assert f"/bookings/{booking.pk}/" in mail.body


def test_text_in_the_persons_language(mailoutbox):
    starts = datetime.datetime(2030, 3, 5, 6, 0, tzinfo=datetime.UTC)
    event = EventFactory(
        starts_at=starts,
        ends_at=starts + 2 * H,
        booking_opens_at=timezone.now() - D,
        booking_closes_at=starts - H,
        cancel_deadline=starts - 12 * H,
    )
    engine.book_event(user=UserFactory(language="en"), event=event)
    engine.book_event(user=UserFactory(), event=event)  # Chinese by default
    send_due(worker_id="t")
    subjects = sorted(m.subject for m in mailoutbox)
    assert subjects == sorted([f"Booking confirmed: {event.title}", f"预约成功：{event.title}"])
    english = next(m for m in mailoutbox if m.subject.startswith("Booking"))
    assert "Tuesday 5 March 2030, 14:00–16:00 (Shanghai time)" in english.body
    assert english.extra_headers["Content-Language"] == "en"


def test_no_reminder_for_a_cancelled_booking_or_event(mailoutbox):
    event = event_in(3 * D)
    kept = engine.book_event(user=UserFactory(), event=event)
    left = engine.book_event(user=UserFactory(), event=event)
    send_due(worker_id="t")
    engine.cancel_booking(booking=left)
    # Marked by the cancellation itself (issue 15), not left "pending" until the send time.
    skipped = rows(booking=left, kind=Kind.EVENT_REMINDER, status=Status.SKIPPED)
    assert skipped.count() == 2 and {r.skip_reason for r in skipped} == {"预约已取消。"}
    mailoutbox.clear()
    stats = process_due(worker_id="t", now=event.starts_at - 23 * H)
    assert stats.sent == 1 and stats.skipped == 0
    assert [m.to for m in mailoutbox] == [[kept.user.email]]

    engine.cancel_event(event=event)
    mailoutbox.clear()
    stats = process_due(worker_id="t", now=event.starts_at - H)
    # The cancellation notice goes to the remaining booker; their 2-hour reminder does not.
    assert [m.subject for m in mailoutbox] == [f"活动取消：{event.title}"]
    assert rows(booking=kept, kind=Kind.EVENT_REMINDER, status=Status.SKIPPED).count() == 1


def test_a_late_worker_sends_only_the_nearest_reminder(mailoutbox):
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    send_due(worker_id="t")
    mailoutbox.clear()
    # Nobody sent anything for a day: both reminders are due; only the 2-hour one makes sense.
    stats = process_due(worker_id="t", now=event.starts_at - H)
    assert (stats.sent, stats.skipped) == (1, 1)
    assert mailoutbox[0].subject.endswith("将于2小时后开始")
    assert rows(booking=booking, kind=Kind.EVENT_REMINDER, status=Status.SKIPPED).get().context == {
        "offset_minutes": 1440
    }
    # Once the event has begun, nothing is "reminded" any more.
    other = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    send_due(worker_id="t")
    stats = process_due(worker_id="t", now=other.event.starts_at + datetime.timedelta(minutes=5))
    assert stats.sent == 0 and stats.skipped == 2


def test_each_person_chooses_their_channels(mailoutbox):
    event = event_in(3 * D)
    portal_only = engine.book_event(user=UserFactory(notify_by_email=False), event=event)
    email_only = engine.book_event(user=UserFactory(notify_in_portal=False), event=event)
    no_address = engine.book_event(user=UserFactory(email=""), event=event)
    neither = engine.book_event(user=UserFactory(notify_by_email=False, notify_in_portal=False), event=event)
    send_due(worker_id="t")
    assert [m.to for m in mailoutbox] == [[email_only.user.email]]
    assert set(PortalNotification.objects.values_list("recipient_id", flat=True)) == {
        portal_only.user_id,
        no_address.user_id,
    }
    row = rows(booking=neither, kind=Kind.BOOKING_CONFIRMED).get()
    assert row.status == Status.SKIPPED and row.skip_reason == "接收人关闭了所有提醒方式。"


@override_settings(
    EMAIL_BACKEND="tests.services.notification_backends.FailingBackend",
    NOTIFICATIONS={"MAX_ATTEMPTS": 3, "RETRY_BASE_SECONDS": 60},
)
def test_failures_retry_with_backoff_then_give_up_visibly_without_doubling_the_bell():
    user = UserFactory()
    booking = engine.book_event(user=user, event=event_in(3 * D))
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    now = timezone.now()
    stats = process_due(worker_id="t", now=now)
    assert stats.retrying == 1
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1
    assert "SMTP server refused" in row.last_error
    assert row.delivered_channels == ["portal"]  # the bell got it; only e-mail is retried
    first_retry = row.next_attempt_at
    assert 59 <= (first_retry - now).total_seconds() <= 61
    assert process_due(worker_id="t", now=now).processed == 0  # not before its time

    process_due(worker_id="t", now=first_retry)
    row.refresh_from_db()
    assert row.attempts == 2 and 119 <= (row.next_attempt_at - first_retry).total_seconds() <= 121

    stats = process_due(worker_id="t", now=row.next_attempt_at)
    row.refresh_from_db()
    assert stats.failed == 1 and row.status == Status.FAILED and row.attempts == 3
    assert PortalNotification.objects.filter(recipient=user).count() == 1
    process_due(worker_id="t", now=now + 30 * D)  # given up for good: never tried again
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 3


def test_a_row_that_breaks_the_code_does_not_block_the_queue(monkeypatch, mailoutbox):
    first = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    engine.book_event(user=UserFactory(), event=event_in(4 * D))

    def broken(row, now):
        if row.subject_id == first.pk:
            raise ValueError("boom")
        return ""

    monkeypatch.setattr(sender, "skip_reason", broken)
    stats = process_due(worker_id="t")
    assert (stats.sent, stats.retrying) == (1, 1)
    row = rows(booking=first, kind=Kind.BOOKING_CONFIRMED).get()
    assert row.status == Status.PENDING and "ValueError: boom" in row.last_error and row.attempts == 1


def test_time_change_notifies_booked_and_waiting_and_moves_reminders(mailoutbox):
    event = event_in(3 * D, capacity=1)
    confirmed = engine.book_event(user=UserFactory(), event=event)
    waiting = engine.book_event(user=UserFactory(), event=event)
    send_due(worker_id="t")
    mailoutbox.clear()

    old_start = event.starts_at
    event.starts_at, event.ends_at = old_start + 2 * D, event.ends_at + 2 * D
    event.save()
    notify_event_changed(
        event=event, changes={"starts_at": (old_start, event.starts_at), "title": ("a", "b")}
    )
    notices = rows(event=event, kind=Kind.EVENT_CHANGED)
    assert sorted(notices.values_list("recipient_id", flat=True)) == sorted(
        [confirmed.user_id, waiting.user_id]
    )
    reminders = {r.context["offset_minutes"]: r for r in rows(booking=confirmed, kind=Kind.EVENT_REMINDER)}
    assert reminders[1440].due_at == event.starts_at - 24 * H
    assert reminders[1440].next_attempt_at == event.starts_at - 24 * H

    assert send_due(worker_id="t") == 2
    body = mailoutbox[0].body
    assert "开始时间：" in body and "→" in body
    # The same change reported twice is one notice.
    notify_event_changed(event=event, changes={"starts_at": (old_start, event.starts_at)})
    assert rows(event=event, kind=Kind.EVENT_CHANGED).count() == 2


def test_moving_an_event_earlier_skips_reminders_that_no_longer_make_sense():
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    old_start = event.starts_at
    new_start = (timezone.now() + 5 * H).replace(microsecond=0)
    Event.objects.filter(pk=event.pk).update(
        starts_at=new_start,
        ends_at=new_start + 2 * H,
        booking_closes_at=new_start + H,
        cancel_deadline=new_start,
    )
    event.refresh_from_db()
    notify_event_changed(event=event, changes={"starts_at": (old_start, new_start)})
    reminders = {r.context["offset_minutes"]: r for r in rows(booking=booking, kind=Kind.EVENT_REMINDER)}
    assert reminders[1440].status == Status.SKIPPED
    assert reminders[120].status == Status.PENDING and reminders[120].due_at == new_start - 2 * H


def test_moving_an_event_later_adds_the_reminder_that_now_makes_sense():
    event = event_in(3 * H)
    booking = engine.book_event(user=UserFactory(), event=event)
    assert rows(booking=booking, kind=Kind.EVENT_REMINDER).count() == 1
    old_start = event.starts_at
    Event.objects.filter(pk=event.pk).update(
        starts_at=old_start + 3 * D, ends_at=event.ends_at + 3 * D, booking_closes_at=old_start + 3 * D
    )
    event.refresh_from_db()
    notify_event_changed(event=event, changes={"starts_at": (old_start, event.starts_at)})
    assert sorted(r.context["offset_minutes"] for r in rows(booking=booking, kind=Kind.EVENT_REMINDER)) == [
        120,
        1440,
    ]


def test_a_reminder_follows_the_event_even_if_nobody_reported_the_change(mailoutbox):
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    send_due(worker_id="t")
    Event.objects.filter(pk=event.pk).update(starts_at=event.starts_at + 2 * D, ends_at=event.ends_at + 2 * D)
    stats = process_due(worker_id="t", now=event.starts_at - 23 * H)  # the old 24-hour mark
    assert stats.rescheduled == 1 and stats.sent == 0
    row = rows(booking=booking, kind=Kind.EVENT_REMINDER).filter(context__offset_minutes=1440).get()
    assert row.status == Status.PENDING and row.due_at == event.starts_at + 2 * D - 24 * H


def test_place_change_names_old_and_new_place(mailoutbox):
    event = event_in(3 * D)
    engine.book_event(user=UserFactory(), event=event)
    send_due(worker_id="t")
    mailoutbox.clear()
    old_space, new_space = event.space, SpaceFactory(station=event.space.station, name="二号活动室")
    event.space = new_space
    event.save()
    notify_event_changed(event=event, changes={"space": (old_space, new_space)})
    send_due(worker_id="t")
    assert f"{old_space.name} → " in mailoutbox[0].body and "二号活动室" in mailoutbox[0].body


def test_term_reminder_text_and_skip_when_the_term_was_changed(mailoutbox):
    street = StreetFactory()
    worker = StaffUserFactory(streets=[street], email="sg@example.com")
    today = timezone.localdate()
    org = PartyOrganizationFactory(
        street=street, name="南京西路楼宇联合党委", term_ends_on=today + datetime.timedelta(days=80)
    )
    committee = BuildingCommitteeFactory(
        building=BuildingFactory(street=street), term_ends_on=today + datetime.timedelta(days=85)
    )
    enqueue_term_reminders()
    committee.term_ends_on = today + datetime.timedelta(days=800)  # re-elected meanwhile
    committee.save()
    stats = process_due(worker_id="t")
    assert (stats.sent, stats.skipped) == (1, 1)
    assert mailoutbox[0].to == [worker.email]
    assert mailoutbox[0].subject.startswith("换届提醒：南京西路楼宇联合党委将于")
    assert "约90天后" in mailoutbox[0].body
    assert rows(committee=committee).get().skip_reason == "换届日期已变更。"
    assert org.pk


# --- kicking the worker ---------------------------------------------------------------------------


def test_one_kick_per_transaction_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    calls = []
    monkeypatch.setattr(notification_outbox, "kick", lambda: calls.append(1) or True)
    event = event_in(3 * D)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            engine.book_event(user=UserFactory(), event=event)
            engine.book_event(user=UserFactory(), event=event)
        assert calls == []  # nothing before the commit
    assert calls == [1]


def test_a_dead_broker_does_not_fail_the_booking(monkeypatch, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from core.notifications.tasks import send_due_notifications_task

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_due_notifications_task, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    assert Booking.objects.filter(pk=booking.pk, status=Booking.Status.CONFIRMED).exists()
    assert rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get().status == Status.PENDING
    assert notification_outbox.kick() is False


def test_a_dead_broker_is_logged_as_a_warning_with_its_error(monkeypatch, caplog):
    from kombu.exceptions import OperationalError

    from core.notifications.tasks import send_due_notifications_task

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_due_notifications_task, "apply_async", refuse)
    with caplog.at_level("WARNING", logger="core.notifications"):
        assert notification_outbox.kick() is False
    (record,) = [r for r in caplog.records if r.name == "core.notifications"]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        "notifications: the broker is unreachable; due notifications wait for the next beat run"
    )
    assert record.exc_info and isinstance(record.exc_info[1], OperationalError)


def test_a_kick_tries_the_broker_once_without_waiting(monkeypatch):
    """The request that made the booking must not hang on a dead broker: one publish, no
    retries (Celery's default policy would try three more times, waiting between them)."""
    from core.notifications.tasks import send_due_notifications_task

    calls = []
    monkeypatch.setattr(send_due_notifications_task, "apply_async", lambda *a, **kw: calls.append(kw))
    assert notification_outbox.kick() is True
    assert len(calls) == 1
    assert calls[0]["retry_policy"] == {"max_retries": 0}


@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_worker_is_skipped_not_waited_for(mailoutbox):
    import threading

    first = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    second = engine.book_event(user=UserFactory(), event=event_in(4 * D))
    locked = rows(booking=first, kind=Kind.BOOKING_CONFIRMED).get()
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        with transaction.atomic():
            NotificationOutbox.objects.select_for_update().get(pk=locked.pk)
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert holding.wait(10)
    try:
        assert send_due(worker_id="t") == 1  # the other row, without waiting for the lock
    finally:
        release.set()
        thread.join()
    assert rows(booking=second, kind=Kind.BOOKING_CONFIRMED).get().status == Status.SENT
    assert NotificationOutbox.objects.get(pk=locked.pk).status == Status.PENDING
    assert send_due(worker_id="t") == 1


# --- the bell, the list, the admin ------------------------------------------------------------------


def test_bell_count_and_list_marks_read_and_shows_only_mine(client, django_assert_max_num_queries):
    me, other = UserFactory(), UserFactory()
    event = event_in(3 * D)
    engine.book_event(user=me, event=event)
    engine.book_event(user=other, event=event)
    engine.book_event(user=me, event=event_in(4 * D))
    send_due(worker_id="t")
    client.force_login(me)
    page = client.get(reverse("portal:event_list")).content.decode()
    assert 'class="bell-count"' in page and ">2</span>" in page

    with django_assert_max_num_queries(8):
        response = client.get(reverse("notifications:list"))
    html = response.content.decode()
    assert html.count("notification-unread") == 2
    assert html.count(f"预约成功：{event.title}") == 1
    assert not PortalNotification.objects.filter(recipient=me, read_at__isnull=True).exists()
    assert PortalNotification.objects.filter(recipient=other, read_at__isnull=True).count() == 1
    html = client.get(reverse("notifications:list")).content.decode()
    assert "notification-unread" not in html and 'class="bell-count"' not in html


def test_list_needs_login_and_has_an_empty_state(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(UserFactory())
    assert "暂无通知" in client.get(reverse("notifications:list")).content.decode()
    assert client.get(reverse("notifications:read_all")).status_code == 405


def test_mark_all_read(client):
    me = UserFactory()
    for days in (3, 4, 5):
        engine.book_event(user=me, event=event_in(days * D))
    send_due(worker_id="t")
    client.force_login(me)
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not PortalNotification.objects.filter(recipient=me, read_at__isnull=True).exists()


def test_admin_outbox_scoped_with_filters_and_send_again(client, settings):
    settings.EMAIL_BACKEND = "tests.services.notification_backends.FailingBackend"
    settings.NOTIFICATIONS = {"MAX_ATTEMPTS": 1}
    mine, theirs = StreetFactory(), StreetFactory()
    worker = StaffUserFactory(streets=[mine])
    worker.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_outbox", "change_outbox"], content_type__app_label="notifications"
        )
    )
    here = engine.book_event(
        user=UserFactory(), event=event_in(3 * D, space=SpaceFactory(station__building__street=mine))
    )
    there = engine.book_event(
        user=UserFactory(), event=event_in(3 * D, space=SpaceFactory(station__building__street=theirs))
    )
    process_due(worker_id="t")
    failed = rows(booking=here, kind=Kind.BOOKING_CONFIRMED).get()
    assert failed.status == Status.FAILED
    client.force_login(worker)
    url = reverse("admin:notifications_outbox_changelist")
    html = client.get(url, {"status__exact": "failed"}).content.decode()
    assert f"booking:{here.pk}" in html or str(failed.pk) in html
    assert "SMTP server refused" in html
    assert f">{rows(booking=there, kind=Kind.BOOKING_CONFIRMED).get().pk}<" not in html

    response = client.post(
        url,
        {"action": "send_again", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert "已将 1 条通知重新放入发送队列" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Status.PENDING and failed.attempts == 0
    # A row outside the worker's street cannot be requeued by posting its id.
    foreign = rows(booking=there, kind=Kind.BOOKING_CONFIRMED).get()
    client.post(url, {"action": "send_again", "_selected_action": [foreign.pk]})
    foreign.refresh_from_db()
    assert foreign.status == Status.FAILED


def test_failed_notifications_for_the_dashboard_are_scoped():
    mine, theirs = StreetFactory(), StreetFactory()
    worker = StaffUserFactory(streets=[mine])
    with override_settings(
        EMAIL_BACKEND="tests.services.notification_backends.FailingBackend", NOTIFICATIONS={"MAX_ATTEMPTS": 1}
    ):
        here = engine.book_event(
            user=UserFactory(notify_in_portal=False),
            event=event_in(3 * D, space=SpaceFactory(station__building__street=mine)),
        )
        engine.book_event(
            user=UserFactory(notify_in_portal=False),
            event=event_in(3 * D, space=SpaceFactory(station__building__street=theirs)),
        )
        process_due(worker_id="t")
    assert [r.subject_id for r in failed_notifications(user=worker)] == [here.pk]


def test_dashboard_shows_the_territorys_failures_and_hides_counselling(client, settings):
    settings.EMAIL_BACKEND = "tests.services.notification_backends.FailingBackend"
    settings.NOTIFICATIONS = {"MAX_ATTEMPTS": 1}
    mine, theirs = StreetFactory(), StreetFactory()
    worker = StaffUserFactory(streets=[mine])
    here = event_in(3 * D, title="安全讲座A", space=SpaceFactory(station__building__street=mine))
    counselling = event_in(
        4 * D,
        title="心理咨询B",
        kind=Event.Kind.COUNSELLING,
        capacity=1,
        space=SpaceFactory(station__building__street=mine),
    )
    elsewhere = event_in(3 * D, title="青年联谊C", space=SpaceFactory(station__building__street=theirs))
    for event in (here, counselling, elsewhere):
        engine.book_event(user=UserFactory(notify_in_portal=False), event=event)
    process_due(worker_id="t")
    client.force_login(worker)
    html = client.get(reverse("admin_dashboard")).content.decode()
    assert "有 1 条通知多次发送失败" in html
    assert "《安全讲座A》" in html and "心理咨询B" not in html and "青年联谊C" not in html


def test_no_notification_to_a_deactivated_account(mailoutbox):
    user = UserFactory()
    booking = engine.book_event(user=user, event=event_in(3 * D))
    user.is_active = False
    user.save()
    assert process_due(worker_id="t").skipped == 1
    assert mailoutbox == []
    assert rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get().skip_reason == "接收人账号已停用。"


def test_relevant_event_changes_for_the_admin():
    event = event_in(3 * D)
    before = Event.objects.get(pk=event.pk)
    event.title = "新标题"
    event.ends_at = event.ends_at + H
    event.space = SpaceFactory(station=event.space.station)
    assert set(notifications.relevant_event_changes(before, event)) == {"ends_at", "space"}
    assert notifications.relevant_event_changes(before, before) == {}


def test_beat_task_fans_out_one_send_task_per_batch(monkeypatch, settings):
    from core.notifications import tasks

    settings.NOTIFICATIONS = {"BATCH_SIZE": 2, "MAX_FANOUT": 50}
    sent = []
    monkeypatch.setattr(tasks.send_due_notifications_task, "delay", lambda *a, **k: sent.append(1))
    event = event_in(3 * D)
    for _ in range(5):
        engine.book_event(user=UserFactory(), event=event)
    assert tasks.dispatch_due_notifications_task.apply().get() == 5
    assert len(sent) == 3


def test_tasks_send_and_scan_in_process(mailoutbox):
    from core.notifications import tasks

    street = StreetFactory()
    StaffUserFactory(streets=[street])
    PartyOrganizationFactory(street=street, term_ends_on=timezone.localdate() + datetime.timedelta(days=10))
    assert tasks.run_scans_task.apply().get() == 1
    assert tasks.run_scans_task.apply().get() == 0
    assert tasks.send_due_notifications_task.apply().get() == 1
    assert tasks.send_due_notifications_task.apply().get() == 0
    assert len(mailoutbox) == 1


def test_a_prepared_write_inserts_its_rows_once_and_kicks_after_commit_when_one_is_due(
    monkeypatch, django_capture_on_commit_callbacks
):
    """``prepare(rows).execute()`` is ``write(rows)`` run later: the rows inserted (a second
    time nothing), the count returned, a kick once the transaction commits; no rows, no work."""
    kicks = []
    monkeypatch.setattr(notification_outbox, "kick", lambda: kicks.append(1) or True)
    user = UserFactory()
    now = timezone.now()

    def made():
        return [
            notification_outbox.row(
                recipient_id=user.pk, kind=Kind.TERM_ENDING, cause="prepared:1", due_at=now
            )
        ]

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_outbox.prepare([], now=now).execute() == 0
    assert kicks == []
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_outbox.prepare(made(), now=now).execute() == 1
        assert kicks == []
    assert kicks == [1]
    with django_capture_on_commit_callbacks(execute=True):
        notification_outbox.prepare(made(), now=now).execute()
    assert NotificationOutbox.objects.filter(recipient_id=user.pk, cause="prepared:1").count() == 1


def test_write_inserts_a_thousand_rows_per_statement(monkeypatch, django_assert_num_queries):
    """Large fan-outs go in statements of at most 1,000 rows (a bounded statement size)."""
    monkeypatch.setattr(notification_outbox, "kick_after_commit", lambda: None)
    user = UserFactory()
    now = timezone.now()

    def made(n, tag):
        return [
            notification_outbox.row(
                recipient_id=user.pk, kind=Kind.TERM_ENDING, cause=f"{tag}:{i}", due_at=now
            )
            for i in range(n)
        ]

    first, second = made(1000, "a"), made(1001, "b")
    with django_assert_num_queries(1):
        assert notification_outbox.write(first, now=now) == 1000
    with django_assert_num_queries(2):
        assert notification_outbox.write(second, now=now) == 1001
    assert NotificationOutbox.objects.filter(recipient_id=user.pk).count() == 2001


@pytest.mark.parametrize("how", ["write", "prepare"])
def test_a_row_due_at_the_given_now_kicks_and_one_due_after_it_does_not(how, monkeypatch):
    """ "Due now" is judged at the caller's ``now`` (not the clock), the instant itself included."""
    kicks = []
    monkeypatch.setattr(notification_outbox, "kick_after_commit", lambda: kicks.append(1))
    user = UserFactory()
    later = timezone.now() + 3 * D  # the caller's now, days ahead of the clock

    def put(due_at, cause):
        rows_ = [
            notification_outbox.row(recipient_id=user.pk, kind=Kind.TERM_ENDING, cause=cause, due_at=due_at)
        ]
        if how == "write":
            notification_outbox.write(rows_, now=later)
        else:
            notification_outbox.prepare(rows_, now=later).execute()

    for due_at, cause, expected in [
        (later + datetime.timedelta(microseconds=1), "after", []),
        (later, "at", [1]),
        (later - 2 * D, "before", [1]),
    ]:
        kicks.clear()
        put(due_at, cause)
        assert kicks == expected, cause


# --- found by mutation testing (issue 20): the kinds' reasons and contexts ----------------------------


def test_enqueue_booking_made_writes_the_bookings_rows_and_judges_due_now_at_the_given_now(monkeypatch):
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    before = keys(rows(booking=booking))
    rows(booking=booking).delete()
    kicks = []
    monkeypatch.setattr(notification_outbox, "kick_after_commit", lambda: kicks.append(1))
    later = timezone.now() + D  # the caller's now, a day ahead of the clock: the confirmation is due then
    assert enqueue_booking_made(booking=booking, now=later) == len(before)
    assert keys(rows(booking=booking)) == before
    assert rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get().due_at == later
    assert kicks == [1]


def kind_of(name: str):
    from core.notifications import registry

    return registry.get(name)


def test_each_kind_is_registered_under_its_name_and_label():
    for kind in notifications.Kind:
        registered = kind_of(kind.value)
        assert (registered.name, str(registered.label)) == (kind.value, str(kind.label))


def test_a_waitlist_notice_is_skipped_once_the_booking_left_the_waitlist_and_tells_the_place():
    event = event_in(3 * D, capacity=1)
    engine.book_event(user=UserFactory(), event=event)
    first = engine.book_event(user=UserFactory(), event=event)
    second = engine.book_event(user=UserFactory(), event=event)
    kind = kind_of(Kind.WAITLISTED)
    row = rows(booking=second, kind=Kind.WAITLISTED).get()
    now = timezone.now()
    assert kind.skip_reason(row, now) == ""
    context = kind.context(row)
    assert (context["position"], context["booking"], context["event"]) == (2, second, event)
    assert context["place"] == notifications.place_label(event.space)

    engine.cancel_booking(booking=first, by=first.user)
    row = rows(booking=second, kind=Kind.WAITLISTED).get()
    assert kind.context(row)["position"] == 1
    engine.cancel_booking(booking=second, by=second.user)
    row = rows(booking=second, kind=Kind.WAITLISTED).get()
    assert kind.skip_reason(row, now) == "已不在候补中。"
    assert kind.context(NotificationOutbox(kind=Kind.WAITLISTED)) == {}


def test_a_change_notice_goes_to_active_bookings_only_and_shows_each_change():
    event = event_in(3 * D, capacity=1)
    confirmed = engine.book_event(user=UserFactory(), event=event)
    waiting = engine.book_event(user=UserFactory(), event=event)
    old_start, old_end, old_space = event.starts_at, event.ends_at, event.space
    new_space = SpaceFactory(station=old_space.station)
    Event.objects.filter(pk=event.pk).update(starts_at=old_start + D, ends_at=old_end + D, space=new_space)
    after = Event.objects.get(pk=event.pk)
    notify_event_changed(event=after, changes=notifications.relevant_event_changes(event, after))
    kind = kind_of(Kind.EVENT_CHANGED)
    now = timezone.now()
    for booking in (confirmed, waiting):
        assert kind.skip_reason(rows(booking=booking, kind=Kind.EVENT_CHANGED).get(), now) == ""
    row = rows(booking=confirmed, kind=Kind.EVENT_CHANGED).get()
    changes = kind.context(row)["changes"]
    assert changes == {
        "starts_at": [old_start, old_start + D],
        "ends_at": [old_end, old_end + D],
        "place": [notifications.place_label(old_space), notifications.place_label(new_space)],
    }
    engine.cancel_booking(booking=waiting, by=waiting.user)
    assert kind.skip_reason(rows(booking=waiting, kind=Kind.EVENT_CHANGED).get(), now) == "预约已取消。"


def test_a_change_notice_shows_a_missing_value_as_empty_and_reads_the_places_at_once(
    django_assert_num_queries,
):
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    kind = kind_of(Kind.EVENT_CHANGED)
    start = event.starts_at.isoformat()
    booking = Booking.objects.select_related(*kind.subject_related).get(pk=booking.pk)
    row = NotificationOutbox(
        kind=Kind.EVENT_CHANGED,
        subject=booking,
        context={"changes": {"starts_at": ["", start], "space": [None, event.space_id]}},
    )
    with django_assert_num_queries(1):  # the places named, with their stations and buildings
        changes = kind.context(row)["changes"]
    assert changes == {
        "starts_at": [None, event.starts_at],
        "place": ["", notifications.place_label(event.space)],
    }
    assert (
        kind.context(NotificationOutbox(kind=Kind.EVENT_CHANGED, subject=booking, context={}))["changes"]
        == {}
    )


US = datetime.timedelta(microseconds=1)


def reminder_row(booking, minutes):
    return rows(booking=booking, kind=Kind.EVENT_REMINDER).get(context__offset_minutes=minutes)


def test_a_reminder_is_skipped_from_the_instant_the_event_starts_or_a_nearer_one_is_due():
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    kind = kind_of(Kind.EVENT_REMINDER)
    day_before, two_hours = reminder_row(booking, 1440), reminder_row(booking, 120)
    nearer_due = event.starts_at - 2 * H
    assert kind.skip_reason(day_before, nearer_due - US) == ""
    assert kind.skip_reason(day_before, nearer_due) == "已由更临近的提醒取代。"
    assert kind.skip_reason(two_hours, nearer_due) == ""
    assert kind.skip_reason(two_hours, event.starts_at - US) == ""
    assert kind.skip_reason(two_hours, event.starts_at) == "活动已开始。"
    engine.cancel_booking(booking=booking, by=booking.user)
    booking.refresh_from_db()
    assert kind.skip_reason(reminder_row(booking, 120), nearer_due - H) == "预约已取消或已签到。"


@override_settings(NOTIFICATIONS={"REMINDER_OFFSETS": {"default": [1440, 120], "counselling": [1440, 30]}})
def test_a_reminder_is_superseded_by_the_nearer_reminders_of_its_events_kind():
    event = event_in(3 * D, kind=Event.Kind.COUNSELLING, capacity=1, waitlist_limit=0)
    booking = engine.book_event(user=UserFactory(), event=event)
    kind = kind_of(Kind.EVENT_REMINDER)
    day_before = reminder_row(booking, 1440)
    # two hours before: a default event's nearer reminder would be due, a counselling slot's is not
    assert kind.skip_reason(day_before, event.starts_at - 2 * H) == ""
    assert kind.skip_reason(day_before, event.starts_at - datetime.timedelta(minutes=30)) == (
        "已由更临近的提醒取代。"
    )


def test_a_reminder_without_its_offset_reads_as_zero_minutes():
    """A row written before reminders carried their offset: never superseded, no hours shown."""
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    kind = kind_of(Kind.EVENT_REMINDER)
    row = reminder_row(booking, 120)
    row.context = {}
    assert kind.skip_reason(row, event.starts_at - H) == ""
    context = kind.context(row)
    assert (context["hours"], context["minutes"]) == (0, 0)


def test_a_reminder_tells_hours_when_whole_and_minutes_always():
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    kind = kind_of(Kind.EVENT_REMINDER)
    row = reminder_row(booking, 120)
    context = kind.context(row)
    assert (context["hours"], context["minutes"], context["booking"]) == (2, 120, booking)
    row.context = {"offset_minutes": 90}
    context = kind.context(row)
    assert (context["hours"], context["minutes"]) == (None, 90)


# --- the paths the engine does not take (issue 20) -----------------------------------------------------


def test_a_cancellation_without_its_bookings_reads_the_events_active_ones_with_their_street(monkeypatch):
    event = event_in(3 * D, capacity=1)
    confirmed = engine.book_event(user=UserFactory(), event=event)
    waiting = engine.book_event(user=UserFactory(), event=event)
    gone = engine.book_event(user=UserFactory(), event=event)
    engine.cancel_booking(booking=gone, by=gone.user)
    elsewhere = engine.book_event(user=UserFactory(), event=event_in(4 * D))
    kicks = []
    monkeypatch.setattr(notification_outbox, "kick_after_commit", lambda: kicks.append(1))
    later = timezone.now() + D  # due "now" for the caller, though not yet by the clock

    assert notifications.notify_event_cancelled(event=event, now=later) == 2

    cancelled = rows(kind=Kind.EVENT_CANCELLED)
    assert sorted(row.subject_id for row in cancelled) == sorted([confirmed.pk, waiting.pk])
    assert {(row.due_at, row.street_id) for row in cancelled} == {(later, event.space.station.street_id)}
    assert event.space.station.street_id is not None
    assert not rows(booking=elsewhere, kind=Kind.EVENT_CANCELLED).exists()
    assert kicks == [1]


def test_a_notice_whose_booking_is_gone_describes_nothing():
    kind = kind_of(Kind.BOOKING_CONFIRMED)
    assert kind.describe(NotificationOutbox(kind=Kind.BOOKING_CONFIRMED)) == ""
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D, title="消防演练"))
    assert kind.describe(rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()) == "《消防演练》"


def test_a_reminder_without_its_offset_is_due_again_at_the_start():
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    kind = kind_of(Kind.EVENT_REMINDER)
    row = NotificationOutbox(kind=Kind.EVENT_REMINDER, subject=booking, context={})
    assert kind.due_again_at(row, timezone.now()) == event.starts_at
    row = NotificationOutbox(kind=Kind.EVENT_REMINDER, subject=booking, context={"offset_minutes": 90})
    assert kind.due_again_at(row, timezone.now()) == event.starts_at - 90 * datetime.timedelta(minutes=1)
    assert kind.due_again_at(NotificationOutbox(kind=Kind.EVENT_REMINDER, context={}), timezone.now()) is None


def test_a_change_to_a_partners_place_reads_the_place_with_its_partner_at_once(django_assert_num_queries):
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    kind = kind_of(Kind.EVENT_CHANGED)
    booking = Booking.objects.select_related(*kind.subject_related).get(pk=booking.pk)
    canteen = SpaceFactory(station=CommunityPlaceFactory())
    row = NotificationOutbox(
        kind=Kind.EVENT_CHANGED,
        subject=booking,
        context={"changes": {"space": [event.space_id, canteen.pk]}},
    )
    with django_assert_num_queries(1):  # both places, with their stations, buildings and partners
        changes = kind.context(row)["changes"]
    assert changes == {"place": [notifications.place_label(event.space), notifications.place_label(canteen)]}
    assert canteen.station.partner.name in changes["place"][1]


# --- the continuation run's open survivors (issue 20) ----------------------------------------------


def move(event: Event, by: datetime.timedelta) -> datetime.datetime:
    """Move ``event`` by ``by`` in the database (as an edit would) and return its old start."""
    old_start = event.starts_at
    Event.objects.filter(pk=event.pk).update(
        starts_at=event.starts_at + by,
        ends_at=event.ends_at + by,
        booking_closes_at=event.booking_closes_at + by,
        cancel_deadline=event.cancel_deadline + by,
    )
    event.refresh_from_db()
    return old_start


def test_every_kinds_rows_carry_the_events_street():
    """The admin's street filter reads ``street``: a confirmation and its reminder and a waitlist
    notice written without the engine's street, a promotion and its reminder, a change notice
    and the reminder a move adds."""
    event = event_in(3 * H, capacity=1)  # three hours ahead: only the 2-hour reminder at first
    street = event.space.station.street_id
    assert street is not None
    first = engine.book_event(user=UserFactory(), event=event)
    waiting = engine.book_event(user=UserFactory(), event=event)
    rows(event=event).delete()
    enqueue_booking_made(booking=first)
    enqueue_booking_made(booking=waiting)
    assert {(r.kind, r.street_id) for r in rows(event=event)} == {
        (Kind.BOOKING_CONFIRMED, street),
        (Kind.EVENT_REMINDER, street),
        (Kind.WAITLISTED, street),
    }

    engine.cancel_booking(booking=first)  # the seat goes to the waitlist's head
    promoted = rows(booking=waiting).exclude(kind=Kind.WAITLISTED)
    assert {(r.kind, r.street_id) for r in promoted} == {
        (Kind.WAITLIST_PROMOTED, street),
        (Kind.EVENT_REMINDER, street),
    }

    old_start = move(event, 3 * D)
    notify_event_changed(event=event, changes={"starts_at": (old_start, event.starts_at)})
    changed = rows(booking=waiting, kind__in=[Kind.EVENT_CHANGED, Kind.EVENT_REMINDER])
    assert sorted((r.kind, r.context.get("offset_minutes"), r.street_id) for r in changed) == [
        (Kind.EVENT_CHANGED, None, street),
        (Kind.EVENT_REMINDER, 120, street),
        (Kind.EVENT_REMINDER, 1440, street),  # added by the move
    ]


@pytest.fixture
def kicks(monkeypatch):
    """The worker's "look now" requests of the test's writes."""
    asked: list[int] = []
    monkeypatch.setattr(notification_outbox, "kick_after_commit", lambda: asked.append(1))
    return asked


def test_a_prepared_booking_and_a_promotion_judge_due_now_at_the_callers_now(kicks):
    event = event_in(3 * D, capacity=1)
    booked = engine.book_event(user=UserFactory(), event=event)
    promoted = engine.book_event(user=UserFactory(), event=event)
    rows(event=event).delete()
    later = timezone.now() + D  # the caller's now, a day ahead of the clock: the notices are due then
    kicks.clear()

    street = event.space.station.street_id  # the engine passes it: a prepared write takes plain values
    assert notifications.prepare_booking_made(booking=booked, now=later, street_id=street).execute() == 3
    assert kicks == [1]
    kicks.clear()
    assert notifications.enqueue_waitlist_promoted(bookings=[promoted], now=later) == 3
    assert kicks == [1]
    assert {(r.kind, r.due_at) for r in rows(event=event).exclude(kind=Kind.EVENT_REMINDER)} == {
        (Kind.BOOKING_CONFIRMED, later),
        (Kind.WAITLIST_PROMOTED, later),
    }


def test_a_change_judges_due_now_and_the_reminders_at_the_callers_now(kicks):
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    old_start = move(event, H)
    later = event.starts_at - 3 * H  # days ahead of the clock: the day-before reminder is past then
    kicks.clear()

    # the notice and the 2-hour reminder (already written: a no-op)
    assert (
        notify_event_changed(event=event, changes={"starts_at": (old_start, event.starts_at)}, now=later) == 2
    )
    assert kicks == [1]
    assert rows(booking=booking, kind=Kind.EVENT_CHANGED).get().due_at == later
    day_before, two_hours = reminder_row(booking, 1440), reminder_row(booking, 120)
    assert (day_before.status, day_before.skip_reason) == (Status.SKIPPED, "活动时间变更后，该提醒已无意义。")
    assert (two_hours.status, two_hours.due_at) == (Status.PENDING, event.starts_at - 2 * H)


def test_a_change_to_the_same_value_or_of_a_cancelled_event_tells_nobody():
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    space, start = event.space, event.starts_at
    for changes in (
        {"space": (space, space.pk)},  # the place as an object on one side, as its id on the other
        {"space": (space.pk, space)},
        {"starts_at": (start, start.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")))},  # one instant
        {"title": ("旧标题", "新标题")},  # not a change its bookers hear about
    ):
        assert notify_event_changed(event=event, changes=changes) == 0, changes
    assert not rows(event=event, kind=Kind.EVENT_CHANGED).exists()

    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    old_start = move(event, D)
    assert notify_event_changed(event=event, changes={"starts_at": (old_start, event.starts_at)}) == 0
    assert not rows(event=event, kind=Kind.EVENT_CHANGED).exists()
    assert reminder_row(booking, 120).due_at == old_start - 2 * H  # not moved either


def test_a_change_is_told_once_per_change_and_per_save():
    """The notice's key is the change and the event's ``updated_at``: two changes reported for
    one save are two notices; a place changed back and then again (each a save) is told each time."""
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    first, second = event.space, SpaceFactory(station=event.space.station)
    notify_event_changed(event=event, changes={"space": (first, second)})
    notify_event_changed(event=event, changes={"ends_at": (event.ends_at, event.ends_at + H)})
    assert rows(booking=booking, kind=Kind.EVENT_CHANGED).count() == 2

    instant = timezone.now().replace(microsecond=0)
    for minutes, (old, new) in enumerate([(second, first), (first, second)], start=1):
        with time_machine.travel(instant + minutes * datetime.timedelta(minutes=1), tick=False):
            event.space = new
            event.save()
            notify_event_changed(event=event, changes={"space": (old, new)})
    assert rows(booking=booking, kind=Kind.EVENT_CHANGED).count() == 4


def test_a_change_notice_spells_its_instants_in_utc():
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    old_start = move(event, H)
    in_shanghai = old_start.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    notify_event_changed(event=event, changes={"starts_at": (in_shanghai, event.starts_at)})
    changes = rows(booking=booking, kind=Kind.EVENT_CHANGED).get().context["changes"]
    assert changes == {
        "starts_at": [
            old_start.astimezone(datetime.UTC).isoformat(),
            event.starts_at.astimezone(datetime.UTC).isoformat(),
        ]
    }
    assert changes["starts_at"][0].endswith("+00:00")


def test_moving_an_event_moves_its_own_pending_reminders_only():
    """Not another event's reminders, not the event's seat notices, not a reminder already sent."""
    event, other = event_in(3 * D), event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    elsewhere = engine.book_event(user=UserFactory(), event=other)
    NotificationOutbox.objects.filter(pk=reminder_row(booking, 1440).pk).update(
        status=Status.SENT, sent_at=timezone.now()
    )
    before = {r.pk: (r.status, r.due_at) for r in rows(booking=booking) | rows(booking=elsewhere)}
    move(event, D)

    assert notifications.reschedule_reminders(event=event, now=timezone.now()) == 1

    moved = reminder_row(booking, 120)
    assert (moved.status, moved.due_at, moved.next_attempt_at) == (
        Status.PENDING,
        event.starts_at - 2 * H,
        event.starts_at - 2 * H,
    )
    after = {r.pk: (r.status, r.due_at) for r in rows(booking=booking) | rows(booking=elsewhere)}
    del before[moved.pk], after[moved.pk]
    assert after == before


def test_a_reminder_without_its_offset_is_moved_to_the_start():
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    row = reminder_row(booking, 120)
    NotificationOutbox.objects.filter(pk=row.pk).update(context={})
    move(event, D)
    assert notifications.reschedule_reminders(event=event, now=timezone.now()) == 2
    row.refresh_from_db()
    assert (row.status, row.due_at, row.next_attempt_at) == (Status.PENDING, event.starts_at, event.starts_at)


def test_a_reminder_due_at_the_instant_of_the_booking_or_the_move_is_not_written_or_kept():
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    two_hours_before = event.starts_at - 2 * H

    made = notifications.booking_made_rows(booking=booking, now=two_hours_before)
    assert [r.kind for r in made] == [Kind.BOOKING_CONFIRMED]
    made = notifications.booking_made_rows(booking=booking, now=two_hours_before - US)
    assert [(r.kind, r.context) for r in made] == [
        (Kind.BOOKING_CONFIRMED, {}),
        (Kind.EVENT_REMINDER, {"offset_minutes": 120}),
    ]

    assert notifications.reschedule_reminders(event=event, now=two_hours_before) == 2
    row = reminder_row(booking, 120)
    assert (row.status, row.skip_reason, row.due_at) == (
        Status.SKIPPED,
        "活动时间变更后，该提醒已无意义。",
        two_hours_before,
    )


@pytest.mark.parametrize("registered", [True, False], ids=["confirmation", "a kind without its own rule"])
def test_a_booking_notice_is_skipped_without_its_booking_once_the_event_ended_or_was_cancelled(registered):
    kind = (
        kind_of(Kind.BOOKING_CONFIRMED)
        if registered
        else notifications.BookingNoticeKind(Kind.BOOKING_CONFIRMED)
    )
    now = timezone.now()
    assert (
        kind.skip_reason(NotificationOutbox(kind=Kind.BOOKING_CONFIRMED), now) == "关联的活动或预约已不存在。"
    )
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    row = rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get()
    assert kind.skip_reason(row, now) == ""
    assert kind.skip_reason(row, event.ends_at - US) == ""
    assert kind.skip_reason(row, event.ends_at) == "活动已结束。"
    engine.cancel_event(event=event)
    assert kind.skip_reason(rows(booking=booking, kind=Kind.BOOKING_CONFIRMED).get(), now) == "活动已取消。"


@pytest.mark.parametrize("kind", [Kind.BOOKING_CONFIRMED, Kind.WAITLIST_PROMOTED])
def test_a_seat_notice_is_told_only_while_the_seat_is_held(kind):
    """ "Booked" and "you have a seat": sent for a confirmed or attended booking, skipped with its
    reason once the seat is no longer held (cancelled, a no-show)."""
    booking = engine.book_event(user=UserFactory(), event=event_in(3 * D))
    row = NotificationOutbox(kind=kind, subject=booking)
    now = timezone.now()
    for status, reason in [
        (Booking.Status.CONFIRMED, ""),
        (Booking.Status.ATTENDED, ""),
        (Booking.Status.CANCELLED, "预约已取消。"),
        (Booking.Status.NO_SHOW, "预约已取消。"),
    ]:
        booking.status = status
        assert kind_of(kind).booking_skip_reason(booking, row, now) == reason


def test_a_cancelled_bookings_own_notices_are_skipped_at_its_now_and_a_change_notice_is_left():
    """The change notice is not the booking's own: the sender's re-check skips it later."""
    event = event_in(3 * D)
    booking = engine.book_event(user=UserFactory(), event=event)
    old_start = move(event, H)
    notify_event_changed(event=event, changes={"starts_at": (old_start, event.starts_at)})
    when = timezone.now().replace(microsecond=0) + H

    assert notifications.skip_cancelled_booking_notices(booking=booking, now=when) == 3

    assert sorted(
        (r.kind, r.status, r.skip_reason, r.updated_at)
        for r in rows(booking=booking).exclude(kind=Kind.EVENT_CHANGED)
    ) == sorted(
        [
            (kind, Status.SKIPPED, "预约已取消。", when)
            for kind in (Kind.BOOKING_CONFIRMED, *[Kind.EVENT_REMINDER] * 2)
        ]
    )
    assert rows(booking=booking, kind=Kind.EVENT_CHANGED).get().status == Status.PENDING


def test_no_place_is_written_as_nothing():
    assert notifications.place_label(None) == ""


@override_settings(NOTIFICATIONS={"REMINDER_OFFSETS": {"default": [120, 0, 1, 1440, "120", -30]}})
def test_reminder_offsets_are_whole_minutes_above_zero_each_once_largest_first():
    assert notifications.reminder_offsets(Event.Kind.SAFETY_LECTURE) == [1440, 120, 1]
