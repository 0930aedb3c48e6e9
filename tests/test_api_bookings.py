"""Booking through the API: POST /events/{id}/bookings/, POST /bookings/{id}/cancel/, GET /bookings/."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from services.booking import book_event
from services.models import Booking, Event
from tests.members.factories import StaffUserFactory, UserFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def book(user, event):
    return client_of(user).post(reverse("api:event-book", args=[event.pk]))


def cancel(user, booking):
    return client_of(user).post(reverse("api:booking-cancel", args=[booking.pk]))


def test_book_confirmed_then_waitlisted_in_order():
    event = EventFactory(capacity=1, waitlist_limit=5)
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    r1 = book(first, event)
    assert r1.status_code == 201
    body = r1.json()
    assert body["status"] == "confirmed" and body["waitlist_position"] is None
    assert body["id"] == Booking.objects.get(user=first).pk
    assert body["event"]["id"] == event.pk and body["is_mine"] is True
    r2, r3 = book(second, event), book(third, event)
    assert (r2.status_code, r2.json()["status"], r2.json()["waitlist_position"]) == (201, "waitlisted", 1)
    assert (r3.status_code, r3.json()["status"], r3.json()["waitlist_position"]) == (201, "waitlisted", 2)
    # The list shows the same positions.
    listed = client_of(third).get(reverse("api:booking-list")).json()["results"]
    assert [(b["id"], b["waitlist_position"]) for b in listed] == [(r3.json()["id"], 2)]


def assert_refused(response, code: str):
    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"code", "detail"}
    assert body["code"] == code
    assert body["detail"] and "Error" not in body["detail"]


def test_waitlist_full_is_409_and_changes_nothing():
    event = EventFactory(capacity=1, waitlist_limit=0)
    book(UserFactory(), event)
    late = UserFactory()
    assert_refused(book(late, event), "waitlist_full")
    assert not Booking.objects.filter(user=late).exists()
    event.refresh_from_db()
    assert (event.confirmed_count, event.waitlist_count) == (1, 0)


def test_already_booked_is_409():
    event, user = EventFactory(), UserFactory()
    assert book(user, event).status_code == 201
    assert_refused(book(user, event), "already_booked")
    assert Booking.objects.filter(user=user).count() == 1


def test_booking_closed_cancelled_and_members_only_are_409():
    now = timezone.now()
    starts = (now + datetime.timedelta(days=3)).replace(microsecond=0)
    closed = EventFactory(
        starts_at=starts,
        booking_opens_at=now - datetime.timedelta(days=2),
        booking_closes_at=now - datetime.timedelta(hours=1),
    )
    cancelled = EventFactory(status=Event.Status.CANCELLED)
    members_only = EventFactory(audience=Event.Audience.PARTY_MEMBERS)
    user = UserFactory()
    assert_refused(book(user, closed), "booking_closed")
    assert_refused(book(user, cancelled), "event_cancelled")
    assert_refused(book(user, members_only), "members_only")
    assert not Booking.objects.filter(user=user).exists()


def test_draft_event_is_not_found_for_employees():
    assert book(UserFactory(), EventFactory(status=Event.Status.DRAFT)).status_code == 404


def test_unknown_or_malformed_event_id():
    user = UserFactory()
    assert client_of(user).post(reverse("api:event-book", args=[999999])).status_code == 404
    assert client_of(user).post("/api/v1/events/abc/bookings/").status_code == 404


def test_anonymous_booking_is_401():
    response = APIClient().post(reverse("api:event-book", args=[EventFactory().pk]))
    assert response.status_code == 401


def test_session_booking_needs_csrf():
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    assert client.post(reverse("api:event-book", args=[EventFactory().pk])).status_code == 403
    assert not Booking.objects.exists()


def test_cancel_promotes_the_head_of_the_waitlist():
    event = EventFactory(capacity=1)
    holder, waiting = UserFactory(), UserFactory()
    seat = book_event(user=holder, event=event)
    queued = book_event(user=waiting, event=event)
    response = cancel(holder, seat)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["cancelled_at"]
    queued.refresh_from_db()
    assert queued.status == Booking.Status.CONFIRMED


def test_cancel_after_deadline_is_409_and_keeps_the_seat():
    now = timezone.now()
    event = EventFactory(cancel_deadline=now - datetime.timedelta(minutes=5))
    user = UserFactory()
    booking = book_event(user=user, event=event)
    assert_refused(cancel(user, booking), "cancel_deadline_passed")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_cancel_twice_is_409():
    user = UserFactory()
    booking = book_event(user=user, event=EventFactory())
    assert cancel(user, booking).status_code == 200
    assert_refused(cancel(user, booking), "not_cancellable")


def test_cannot_cancel_other_peoples_bookings(street_a):
    event = EventFactory(space__station__building__street=street_a)
    owner = UserFactory()
    booking = book_event(user=owner, event=event)
    # Another employee does not even see it.
    assert cancel(UserFactory(), booking).status_code == 404
    # A social worker of the street sees it, but cancels in the admin, not here.
    worker = StaffUserFactory(streets=[street_a])
    response = cancel(worker, booking)
    assert response.status_code == 403
    assert response.json()["code"] == "not_owner"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_own_counselling_booking_is_visible_to_oneself_only(street_a):
    event = EventFactory(kind=Event.Kind.COUNSELLING, capacity=1, space__station__building__street=street_a)
    user = UserFactory()
    response = book(user, event)
    assert response.status_code == 201
    mine = client_of(user).get(reverse("api:booking-list")).json()["results"]
    assert [b["id"] for b in mine] == [response.json()["id"]]
    worker = StaffUserFactory(streets=[street_a])
    assert client_of(worker).get(reverse("api:booking-list")).json()["count"] == 0
    assert (
        client_of(worker).get(reverse("api:booking-detail", args=[response.json()["id"]])).status_code == 404
    )


def test_token_holder_books_with_the_key(district_a, street_a):
    from members.tokens import issue_token

    staff = StaffUserFactory(district=district_a)
    _token, key = issue_token(user=staff, name="对接")
    event = EventFactory(space__station__building__street=street_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(reverse("api:event-book", args=[event.pk]))  # no CSRF needed with a key
    assert response.status_code == 201
    assert Booking.objects.get(pk=response.json()["id"]).user == staff


def test_history_records_the_key_holder_as_who(district_a, street_a):
    """A booking made with an API key is recorded in the change history with the key's user."""
    from django.apps import apps

    from members.tokens import issue_token

    staff = StaffUserFactory(district=district_a)
    _token, key = issue_token(user=staff, name="对接")
    event = EventFactory(space__station__building__street=street_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    booking_id = client.post(reverse("api:event-book", args=[event.pk])).json()["id"]
    BookingEvent = apps.get_model("services", "BookingEvent")
    inserted = BookingEvent.objects.get(pgh_obj_id=booking_id, pgh_label="insert")
    assert inserted.pgh_context.metadata["user"] == staff.pk
    assert inserted.pgh_context.metadata["url"] == f"/api/v1/events/{event.pk}/bookings/"
