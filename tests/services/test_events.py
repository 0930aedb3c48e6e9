"""Editing an event (services/events.py ``update_event``), as the event admin calls it.

Through the admin client, as a street social worker edits an event: everyone
booked or waiting gets one EVENT_CHANGED outbox row, pending reminders follow the
new start, and a save that changes nothing announces nothing.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from core.notifications.models import Outbox as NotificationOutbox
from services import booking as engine
from services.events import update_event
from services.models import Booking, Event
from services.notifications import Kind
from tests.admin_helpers import admin_url, form_post_data, make_territory
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory, SpaceFactory, outbox_rows

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)
Status = NotificationOutbox.Status


@pytest.fixture
def a(street_a):
    return make_territory(street_a, "甲")


@pytest.fixture
def sw(social_worker):
    client = Client()
    client.force_login(social_worker)
    return client


def split(value: datetime.datetime, name: str) -> dict[str, str]:
    """What a browser posts in the admin's split date/time inputs: local time, to the minute."""
    local = timezone.localtime(value)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M")}


def post_change(client, event, **changes):
    url = admin_url("services_event", "change", event.pk)
    data = form_post_data(client.get(url))
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


@pytest.fixture
def booked(a):
    """An event with one confirmed booker, one waiting, and one who cancelled."""
    start = (a.event.starts_at + 2 * D).replace(second=0)  # the admin shows minutes
    event = EventFactory(space=a.space, capacity=1, starts_at=start)
    confirmed = engine.book_event(user=UserFactory(), event=event)
    gone = engine.book_event(user=UserFactory(), event=event)
    engine.cancel_booking(booking=gone)
    waiting = engine.book_event(user=UserFactory(), event=event)
    assert (confirmed.status, waiting.status) == (Booking.Status.CONFIRMED, Booking.Status.WAITLISTED)
    gone.refresh_from_db()
    assert gone.status == Booking.Status.CANCELLED
    return event, confirmed, waiting, gone


def changed_rows(event):
    return outbox_rows(event=event, kind=Kind.EVENT_CHANGED)


def test_moving_the_start_notifies_every_booker_once_and_moves_the_reminders(sw, booked):
    event, confirmed, waiting, gone = booked
    new_start = event.starts_at + D
    post_change(sw, event, **split(new_start, "starts_at"), **split(event.ends_at + D, "ends_at"))

    event.refresh_from_db()
    assert event.starts_at == new_start
    notices = changed_rows(event)
    assert sorted(notices.values_list("recipient_id", flat=True)) == sorted(
        [confirmed.user_id, waiting.user_id]
    )
    assert not notices.filter(recipient_id=gone.user_id).exists()
    assert set(notices.values_list("status", flat=True)) == {Status.PENDING}
    assert set(notices[0].context["changes"]) == {"starts_at", "ends_at"}

    reminders = outbox_rows(booking=confirmed, kind=Kind.EVENT_REMINDER)
    assert {r.context["offset_minutes"]: r.due_at for r in reminders} == {
        1440: new_start - 24 * H,
        120: new_start - 2 * H,
    }
    assert all(r.next_attempt_at == r.due_at and r.status == Status.PENDING for r in reminders)
    # Nobody waiting or gone is reminded.
    assert not outbox_rows(bookings=[waiting, gone], kind=Kind.EVENT_REMINDER).exists()

    # Saving the page again as loaded changes nothing and announces nothing.
    before = NotificationOutbox.objects.count()
    post_change(sw, event)
    post_change(sw, event, title="改了标题，时间地点不变")
    assert NotificationOutbox.objects.count() == before
    assert changed_rows(event).count() == 2


def test_a_new_place_is_announced(sw, a, booked):
    event, confirmed, waiting, _gone = booked
    hall = SpaceFactory(station=a.station, name="甲二号活动室")
    post_change(sw, event, space=str(hall.pk))
    notices = changed_rows(event)
    assert sorted(notices.values_list("recipient_id", flat=True)) == sorted(
        [confirmed.user_id, waiting.user_id]
    )
    assert notices[0].context["changes"] == {"space": [a.space.pk, hall.pk]}


def test_moving_and_cancelling_at_once_sends_only_the_cancellation(sw, booked):
    event, confirmed, waiting, _gone = booked
    post_change(
        sw,
        event,
        status=Event.Status.CANCELLED,
        **split(event.starts_at + D, "starts_at"),
        **split(event.ends_at + D, "ends_at"),
    )
    assert not changed_rows(event).exists()
    cancelled = outbox_rows(event=event, kind=Kind.EVENT_CANCELLED)
    assert sorted(cancelled.values_list("recipient_id", flat=True)) == sorted(
        [confirmed.user_id, waiting.user_id]
    )


def test_a_refused_save_leaves_no_notice(sw, booked, monkeypatch):
    """The notices are written in the admin's transaction: a refusal rolls them back with the edit."""
    event, *_ = booked

    def refuse(**kwargs):
        raise engine.BookingError("capacity_below_confirmed", "名额不能少于已确认的人数（9人）。")

    monkeypatch.setattr(engine, "change_capacity", refuse)
    url = admin_url("services_event", "change", event.pk)
    data = form_post_data(sw.get(url))
    data.update(
        capacity="4", **split(event.starts_at + D, "starts_at"), **split(event.ends_at + D, "ends_at")
    )
    assert sw.post(url, data).status_code == 200
    assert not changed_rows(event).exists()
    reminders = outbox_rows(event=event, kind=Kind.EVENT_REMINDER)
    assert {r.due_at for r in reminders} == {event.starts_at - 24 * H, event.starts_at - 2 * H}


def test_seconds_the_form_cannot_show_are_not_a_move(sw, a):
    """The zh-hans admin shows times to the minute; a start with seconds (from the API) comes
    back cut to the minute on any save. That is kept as it was and announced to nobody."""
    start = (a.event.starts_at + 2 * D).replace(second=42)
    event = EventFactory(space=a.space, starts_at=start, ends_at=start + 2 * H)
    engine.book_event(user=UserFactory(), event=event)
    post_change(sw, event, title="只改标题")
    event.refresh_from_db()
    assert (event.title, event.starts_at, event.ends_at) == ("只改标题", start, start + 2 * H)
    assert not changed_rows(event).exists()
    # A real move of such an event is announced.
    post_change(sw, event, **split(start + D, "starts_at"), **split(start + D + 2 * H, "ends_at"))
    event.refresh_from_db()
    assert event.starts_at == (start + D).replace(second=0)
    assert changed_rows(event).count() == 1


# --- update_event called directly (any editor, not only the admin) -------------------------------


def test_update_event_refuses_an_editor_outside_the_territory_and_changes_nothing(a, street_b):
    from tests.members.factories import SocialWorkerFactory

    stranger = SocialWorkerFactory(streets=[street_b])
    event = Event.objects.get(pk=a.event.pk)
    old_title = event.title
    event.title = "改名"
    with pytest.raises(engine.BookingError) as refused:
        update_event(event=event, fields=["title"], by=stranger)
    assert refused.value.code == "forbidden"
    assert Event.objects.get(pk=a.event.pk).title == old_title


def test_update_event_saves_only_the_named_fields_and_cancels_through_the_engine(social_worker, booked):
    event = Event.objects.get(pk=booked[0].pk)
    Event.objects.filter(pk=event.pk).update(description="别人刚改的说明")
    event.title, event.status = "新标题", Event.Status.CANCELLED
    update_event(event=event, fields=["title", "status"], by=social_worker)
    stored = Event.objects.get(pk=event.pk)
    assert (stored.title, stored.status, stored.description) == (
        "新标题",
        Event.Status.CANCELLED,
        "别人刚改的说明",
    )
    assert not Booking.objects.filter(event=stored, status__in=Booking.ACTIVE).exists()
    assert stored.confirmed_count == 0 and stored.waitlist_count == 0
    assert outbox_rows(event=stored, kind=Kind.EVENT_CANCELLED).count() == 2
    assert not outbox_rows(event=stored, kind=Kind.EVENT_CHANGED).exists()
