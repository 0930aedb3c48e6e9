"""The booking e-mails as a mail reader sees them (issue 15, item 10): the bytes Django sends,
parsed back with the standard library's e-mail parser — a text part and an HTML part with the
same words, the booking's .ics attached (read with icalendar and vobject), the floor written as
on every page ("6层", in English "floor 6")."""

import datetime
import email
from email import policy

import pytest
import vobject
from django.utils import timezone
from icalendar import Calendar

from core.notifications.sender import send_due
from services import booking as engine
from services.events import update_event
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory, ServiceStationFactory

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


def sent(mail) -> email.message.EmailMessage:
    """The message as it leaves the portal (the bytes an SMTP server receives), parsed again."""
    return email.message_from_bytes(mail.message().as_bytes(), policy=policy.default)


def an_event(**kwargs):
    starts = datetime.datetime(2030, 3, 5, 6, 0, tzinfo=datetime.UTC)  # 14:00 in Shanghai
    station = ServiceStationFactory(name="南京西路党群服务站", floor=6, building__name="静安嘉里中心")
    return EventFactory(
        space__station=station,
        space__name="多功能厅",
        starts_at=starts,
        ends_at=starts + 2 * H,
        booking_opens_at=timezone.now() - 24 * H,
        booking_closes_at=starts - H,
        cancel_deadline=starts - 12 * H,
        **kwargs,
    )


def test_a_confirmation_has_text_html_and_the_bookings_calendar_file(mailoutbox, settings):
    settings.PORTAL_BASE_URL = "https://dangjian.example.org"
    event = an_event(title="党课：新质生产力, 第二讲")
    booking = engine.book_event(user=UserFactory(email="zhang@example.com"), event=event)
    assert send_due(worker_id="t") == 1
    message = sent(mailoutbox[0])
    assert message.get_content_type() == "multipart/mixed"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None and text is not html
    text, html = text.get_content(), html.get_content()
    url = f"https://dangjian.example.org/bookings/{booking.pk}/"
    assert url in text
    assert f'<a href="{url}"' in html and "<p>" in html and '<html lang="zh-hans">' in html
    assert "党课：新质生产力, 第二讲" in html and "2030年3月5日（星期二）14:00–16:00（北京时间）" in html
    # The floor as the pages and the calendar write it.
    for part in (text, html):
        assert "6层" in part and "6F" not in part
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == f"booking-{booking.pk}.ics"
    body = attachment.get_payload(decode=True)
    (vevent,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(vevent["UID"]) == f"booking-{booking.pk}@dangjian.example.org"
    assert vevent.decoded("DTSTART") == event.starts_at and str(vevent["STATUS"]) == "CONFIRMED"
    card = vobject.readOne(body.decode("utf-8"))
    assert card.vevent.uid.value == str(vevent["UID"])
    assert card.vevent.summary.value == "党课：新质生产力, 第二讲"
    assert "6层" in card.vevent.location.value


def test_the_english_mail_and_its_calendar_file_are_in_english(mailoutbox):
    event = an_event()
    engine.book_event(user=UserFactory(language="en"), event=event)
    send_due(worker_id="t")
    message = sent(mailoutbox[0])
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert '<html lang="en">' in html and "View details" in html
    for part in (text, html):
        assert "floor 6" in part and "层" not in part
    (attachment,) = list(message.iter_attachments())
    card = vobject.readOne(attachment.get_payload(decode=True).decode("utf-8"))
    assert "Booking status: Confirmed" in card.vevent.description.value
    assert "floor 6" in card.vevent.location.value


def test_a_moved_event_mails_the_calendar_file_with_a_higher_sequence(mailoutbox):
    event = an_event()
    booking = engine.book_event(user=UserFactory(), event=event)
    send_due(worker_id="t")
    (first,) = list(sent(mailoutbox[0]).iter_attachments())
    mailoutbox.clear()
    event.starts_at += H
    event.ends_at += H
    update_event(event=event, fields=["starts_at", "ends_at"])
    send_due(worker_id="t")
    (second,) = list(sent(mailoutbox[0]).iter_attachments())
    old, new = (Calendar.from_ical(a.get_payload(decode=True)).walk("VEVENT")[0] for a in (first, second))
    assert str(old["UID"]) == str(new["UID"]) == f"booking-{booking.pk}@{new['UID'].split('@')[1]}"
    assert new.decoded("SEQUENCE") > old.decoded("SEQUENCE")
    assert new.decoded("DTSTART") == event.starts_at


def test_html_part_escapes_what_people_typed(mailoutbox):
    event = an_event(title='<script>alert("x")</script> & 党课')
    engine.book_event(user=UserFactory(), event=event)
    send_due(worker_id="t")
    html = sent(mailoutbox[0]).get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
