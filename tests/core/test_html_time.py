"""``<time datetime>`` values are valid HTML (issue 15, item 12): no microseconds, an offset.

Swept over the portal pages that show times: the notifications page (whose rows' times carry
microseconds), an event, my bookings, a booking.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.notifications.sender import send_due
from core.templatetags.html_time import html_datetime
from services import booking as engine
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory

pytestmark = pytest.mark.django_db

# HTML's "valid global date and time string", to the second, with the offset written out.
VALID = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


def test_the_filter_drops_microseconds_and_keeps_shanghai_time():
    value = datetime.datetime(2026, 12, 7, 2, 3, 4, 567890, tzinfo=datetime.UTC)
    assert html_datetime(value) == "2026-12-07T10:03:04+08:00"
    assert html_datetime(None) == ""


def test_every_time_element_on_the_portal_pages_has_a_valid_datetime(client):
    user = UserFactory()
    starts = (timezone.now() + datetime.timedelta(days=3)).replace(microsecond=123456)
    event = EventFactory(starts_at=starts, ends_at=starts + datetime.timedelta(hours=2))
    booking = engine.book_event(user=user, event=event)
    send_due(worker_id="t")  # the confirmation into the bell; its time has microseconds
    client.force_login(user)
    pages = [
        reverse("notifications:list"),
        reverse("portal:event_detail", args=[event.pk]),
        reverse("portal:my_bookings"),
        reverse("portal:booking_detail", args=[booking.pk]),
        reverse("portal:event_list"),
    ]
    seen = 0
    for url in pages:
        html = client.get(url).content.decode()
        values = re.findall(r'<time[^>]*\sdatetime="([^"]*)"', html)
        assert values, url
        seen += len(values)
        assert [v for v in values if not VALID.match(v)] == [], url
    assert seen >= 5
