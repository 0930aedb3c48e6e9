"""Cancelling asks once, without JavaScript, and a cancelled booking can be booked again (issue 15, item 4).

GET /bookings/<id>/cancel/ shows the question and changes nothing; POST cancels through the
engine. The booking page and "my bookings" link to the question instead of cancelling in one
tap. A cancelled booking's page offers booking again (through ``book_event``) while seats or
waitlist places are open, and not otherwise.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from services import booking as engine
from services.models import Booking
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db


def _one_tap_cancel_forms(html: str) -> list[str]:
    return re.findall(r'<form[^>]*action="[^"]*/cancel/"', html)


def test_the_cancel_button_leads_to_a_question_that_changes_nothing(client):
    user = UserFactory()
    booking = engine.book_event(user=user, event=EventFactory(title="党课：宪法"))
    client.force_login(user)
    url = reverse("portal:booking_cancel", args=[booking.pk])
    for page in (reverse("portal:booking_detail", args=[booking.pk]), reverse("portal:my_bookings")):
        html = client.get(page).content.decode()
        assert f'href="{url}"' in html
        assert _one_tap_cancel_forms(html) == []  # no one-tap cancel any more
    question = client.get(url)
    assert question.status_code == 200
    html = question.content.decode()
    assert "确定取消这个预约吗？" in html and "党课：宪法" in html
    assert re.search(rf'<form method="post" action="{re.escape(url)}"', html)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED  # asking changed nothing

    response = client.post(url, follow=True)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert "已取消“党课：宪法”的预约。" in response.content.decode()


def test_the_question_in_english_and_for_a_waitlist_place(client):
    event = EventFactory(capacity=1, waitlist_limit=3)
    engine.book_event(user=UserFactory(), event=event)
    user = UserFactory(language="en")
    waiting = engine.book_event(user=user, event=event)
    assert waiting.status == Booking.Status.WAITLISTED
    client.force_login(user)
    html = client.get(
        reverse("portal:booking_cancel", args=[waiting.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Leave the waitlist?" in html


def test_a_booking_that_can_no_longer_be_cancelled_says_why_and_offers_no_button(client):
    user = UserFactory()
    booking = engine.book_event(user=user, event=EventFactory())
    engine.cancel_booking(booking=booking, by=user)
    client.force_login(user)
    html = client.get(reverse("portal:booking_cancel", args=[booking.pk])).content.decode()
    assert "该预约已不能取消。" in html
    assert "确认取消" not in html


def test_someone_elses_question_is_not_found(client):
    booking = engine.book_event(user=UserFactory(), event=EventFactory())
    client.force_login(UserFactory())
    assert client.get(reverse("portal:booking_cancel", args=[booking.pk])).status_code == 404


def test_a_cancelled_booking_offers_booking_again_while_seats_are_open(client):
    user = UserFactory()
    event = EventFactory(capacity=2)
    booking = engine.book_event(user=user, event=event)
    engine.cancel_booking(booking=booking, by=user)
    client.force_login(user)
    html = client.get(reverse("portal:booking_detail", args=[booking.pk])).content.decode()
    book_url = reverse("portal:event_book", args=[event.pk])
    assert f'action="{book_url}"' in html and "再次预约" in html
    response = client.post(book_url)
    again = Booking.objects.get(user=user, event=event, status=Booking.Status.CONFIRMED)
    assert again.pk != booking.pk
    assert response.url == reverse("portal:booking_detail", args=[again.pk])
    # The old booking's page now points to the new one instead of offering to book twice.
    html = client.get(reverse("portal:booking_detail", args=[booking.pk])).content.decode()
    assert f'action="{book_url}"' not in html
    assert reverse("portal:booking_detail", args=[again.pk]) in html


def test_no_book_again_when_the_event_is_full(client):
    user = UserFactory()
    event = EventFactory(capacity=1, waitlist_limit=0)
    booking = engine.book_event(user=user, event=event)
    engine.cancel_booking(booking=booking, by=user)
    engine.book_event(user=UserFactory(), event=event)  # the seat is taken
    client.force_login(user)
    html = client.get(reverse("portal:booking_detail", args=[booking.pk])).content.decode()
    assert reverse("portal:event_book", args=[event.pk]) not in html
