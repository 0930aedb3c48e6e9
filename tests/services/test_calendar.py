"""Calendar files (services/calendar.py): the .ics per booking and the private, revocable feed."""

import datetime
import hashlib
import hmac

import pytest
import vobject
from django.urls import reverse
from icalendar import Calendar, vText

from members import accounts
from members.models import User
from services import booking as engine
from services.calendar import booking_ics, feed_ics
from services.events import update_event
from services.models import Booking, Event
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory, ServiceStationFactory, SpaceFactory

pytestmark = pytest.mark.django_db


def vevents(body: bytes):
    return [c for c in Calendar.from_ical(body).walk("VEVENT")]


def test_booking_ics_has_the_event_in_utc_with_place_and_a_stable_uid():
    station = ServiceStationFactory(name="南京西路党群服务站", floor=6, building__name="静安嘉里中心")
    event = EventFactory(space__station=station, space__name="多功能厅", title="党课：新质生产力")
    booking = engine.book_event(user=UserFactory(), event=event)
    body = booking_ics(
        booking, language="zh-hans", domain="portal.example", base_url="https://portal.example"
    )
    assert b"BEGIN:VCALENDAR" in body and b"VERSION:2.0" in body
    (vevent,) = vevents(body)
    assert vevent["UID"] == f"booking-{booking.pk}@portal.example"
    assert vevent.decoded("DTSTART") == event.starts_at
    assert vevent.decoded("DTEND") == event.ends_at
    assert vevent.decoded("DTSTART").utcoffset() == datetime.timedelta(0)
    assert str(vevent["SUMMARY"]) == "党课：新质生产力"
    assert "静安嘉里中心" in str(vevent["LOCATION"]) and "6层" in str(vevent["LOCATION"])
    assert "多功能厅" in str(vevent["LOCATION"])
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["URL"]) == f"https://portal.example/bookings/{booking.pk}/"


def test_waitlisted_booking_is_tentative():
    event = EventFactory(capacity=1)
    engine.book_event(user=UserFactory(), event=event)
    waiting = engine.book_event(user=UserFactory(), event=event)
    (vevent,) = vevents(booking_ics(waiting, language="zh-hans", domain="x", base_url="http://x"))
    assert str(vevent["STATUS"]) == "TENTATIVE"
    assert str(vevent["SUMMARY"]).startswith("【候补】")


def test_download_is_an_attachment_for_the_booker_only(client):
    user = UserFactory()
    booking = engine.book_event(user=user, event=EventFactory())
    url = reverse("portal:booking_calendar", args=[booking.pk])
    assert client.get(url).status_code == 302  # login first
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="booking-{booking.pk}.ics"'
    assert len(vevents(response.content)) == 1
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_feed_lists_my_active_bookings_and_not_cancelled_ones():
    user = UserFactory()
    kept = engine.book_event(user=user, event=EventFactory(title="保留的"))
    gone = engine.book_event(user=user, event=EventFactory(title="取消的"))
    engine.cancel_booking(booking=gone, by=user)
    engine.book_event(user=UserFactory(), event=EventFactory(title="别人的"))
    from services.selectors import feed_bookings

    body = feed_ics(feed_bookings(user=user), language="zh-hans", domain="x", base_url="http://x")
    assert [str(v["SUMMARY"]) for v in vevents(body)] == ["保留的"]
    assert vevents(body)[0]["UID"] == f"booking-{kept.pk}@x"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in body


def test_private_feed_url_works_until_reset_or_revoked(client):
    user = UserFactory()
    engine.book_event(user=user, event=EventFactory(title="订阅里的活动"))
    old = accounts.reset_calendar_token(user=user)
    url = reverse("portal:calendar_feed", args=[old])
    response = client.get(url)  # no login: calendar apps have no session
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Content-Disposition" not in response
    assert [str(v["SUMMARY"]) for v in vevents(response.content)] == ["订阅里的活动"]
    new = accounts.reset_calendar_token(user=user)
    assert new != old and len(new) >= 40
    assert client.get(url).status_code == 404
    assert client.get(reverse("portal:calendar_feed", args=[new])).status_code == 200
    accounts.revoke_calendar_token(user=user)
    assert client.get(reverse("portal:calendar_feed", args=[new])).status_code == 404
    assert client.get("/calendar/.ics").status_code == 404


def test_feed_of_an_inactive_user_is_gone(client):
    user = UserFactory()
    token = accounts.reset_calendar_token(user=user)
    user.is_active = False
    user.save()
    assert client.get(reverse("portal:calendar_feed", args=[token])).status_code == 404


def test_feed_query_count_does_not_grow(client, django_assert_max_num_queries):
    user = UserFactory()
    token = accounts.reset_calendar_token(user=user)
    for _ in range(3):
        engine.book_event(user=user, event=EventFactory())
    with django_assert_max_num_queries(2) as few:
        client.get(reverse("portal:calendar_feed", args=[token]))
    for _ in range(20):
        engine.book_event(user=user, event=EventFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("portal:calendar_feed", args=[token]))
    assert len(vevents(response.content)) == 23
    assert Booking.objects.filter(user=user).count() == 23


# --- the feed's key (issue 14) ---------------------------------------------------------------


@pytest.mark.parametrize("token", ["%00", "%00abc", "a%00" + "b" * 40, "x" * 5, "é" * 43, "a.b" * 15])
def test_a_value_that_cannot_be_a_key_is_not_found(client, token):
    """/calendar/%00.ics answered 500 (PostgreSQL refuses a NUL in a string); now 404, without a query."""
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 404


def test_only_the_keys_digest_is_stored_and_it_is_no_key(client):
    user = UserFactory()
    token = accounts.reset_calendar_token(user=user)
    user.refresh_from_db()
    assert user.calendar_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(User.objects.filter(pk=user.pk).values().get())
    # The stored digest opens nothing (a database reader cannot subscribe).
    assert client.get(reverse("portal:calendar_feed", args=[user.calendar_token_hash])).status_code == 404


def test_the_key_is_compared_in_constant_time(client, monkeypatch):
    user = UserFactory()
    token = accounts.reset_calendar_token(user=user)
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("members.selectors.hmac.compare_digest", spy)
    assert client.get(reverse("portal:calendar_feed", args=[token])).status_code == 200
    assert compared == [(user.calendar_token_hash, user.calendar_token_hash)]


def test_the_key_is_never_shown_or_exported_in_the_admin(superuser, client):
    """Not on the account's page, not in its list or export, not in its history (superuser)."""
    user = UserFactory(username="with_feed")
    accounts.reset_calendar_token(user=user)
    user.refresh_from_db()
    digest = user.calendar_token_hash
    client.force_login(superuser)
    change = client.get(reverse("admin:members_user_change", args=[user.pk]))
    assert change.status_code == 200 and digest not in change.content.decode()
    listing = client.get(reverse("admin:members_user_changelist"))
    assert digest not in listing.content.decode()
    export = client.post(
        reverse("admin:members_user_changelist"),
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": [str(user.pk)]},
    )
    assert export.status_code == 200 and digest not in b"".join(export.streaming_content).decode("utf-8-sig")
    for field in ("calendar_token_hash", "calendar_token_hash__startswith", "o"):
        params = {field: digest[:1]} if field != "o" else {"o": "99"}
        response = client.get(reverse("admin:members_user_changelist"), params)
        assert response.status_code in (200, 302, 400)
        if response.status_code == 200:  # an unknown sort column is ignored: the whole list
            assert digest not in response.content.decode()
        else:
            assert response.status_code == 400 or response["Location"].endswith("?e=1")


# --- what other software reads (issue 15, item 9): parsed with icalendar AND vobject ----------


def both_parsers(body: bytes) -> tuple[Calendar, vobject.base.Component]:
    """The file as icalendar and as vobject read it; vobject is the stricter about escaping."""
    return Calendar.from_ical(body), vobject.readOne(body.decode("utf-8"))


def test_a_calendar_name_with_commas_and_semicolons_is_escaped():
    """A title with a comma was written raw: strict parsers (vobject) cut the name at the comma."""
    title = "党课, 讲座; 青年联谊，第二期"
    booking = engine.book_event(user=UserFactory(), event=EventFactory(title=title))
    body = booking_ics(booking, language="zh-hans")
    assert "X-WR-CALNAME:党课\\, 讲座\\; 青年联谊，第二期".encode() in body
    ical, vcal = both_parsers(body)
    assert vcal.contents["x-wr-calname"][0].value == title
    # icalendar keeps an X- property as written: it must be a TEXT value as icalendar escapes one.
    assert ical["X-WR-CALNAME"].to_ical() == vText(title).to_ical()
    assert str(ical.walk("VEVENT")[0]["SUMMARY"]) == title
    assert vcal.vevent.summary.value == title


def test_uids_take_the_configured_site_address_not_the_request_host(client, settings):
    """A portal reached under two names gave subscribers every event twice (the UID held the host)."""
    settings.PORTAL_BASE_URL = "https://dangjian.example.org"
    settings.ALLOWED_HOSTS = ["portal-a.example", "portal-b.example", "testserver"]
    user = UserFactory()
    booking = engine.book_event(user=user, event=EventFactory())
    token = accounts.reset_calendar_token(user=user)
    url = reverse("portal:calendar_feed", args=[token])
    uids = set()
    for host in ("portal-a.example", "portal-b.example"):
        body = client.get(url, HTTP_HOST=host).content
        ical, vcal = both_parsers(body)
        uids.add(str(ical.walk("VEVENT")[0]["UID"]))
        assert vcal.vevent.uid.value == f"booking-{booking.pk}@dangjian.example.org"
        assert vcal.vevent.url.value == f"https://dangjian.example.org/bookings/{booking.pk}/"
    assert uids == {f"booking-{booking.pk}@dangjian.example.org"}
    client.force_login(user)
    download = client.get(reverse("portal:booking_calendar", args=[booking.pk]), HTTP_HOST="portal-a.example")
    assert both_parsers(download.content)[1].vevent.uid.value == f"booking-{booking.pk}@dangjian.example.org"


def sequence_of(booking: Booking) -> int:
    booking = Booking.objects.select_related("event__space__station__building").get(pk=booking.pk)
    body = booking_ics(booking, language="zh-hans")
    ical, vcal = both_parsers(body)
    value = ical.walk("VEVENT")[0].decoded("SEQUENCE")
    assert int(vcal.vevent.sequence.value) == value
    return value


def test_sequence_rises_on_every_change_of_the_event_or_the_booking():
    """SEQUENCE was the booking's last-change time: moving the event left it unchanged."""
    event = EventFactory(capacity=5)
    user = UserFactory()
    booking = engine.book_event(user=user, event=event)
    seen = [sequence_of(booking)]
    assert seen == [0]

    def changed(**values):
        for name, value in values.items():
            setattr(event, name, value)
        update_event(event=event, fields=list(values))
        seen.append(sequence_of(booking))
        assert seen[-1] > seen[-2], values

    changed(starts_at=event.starts_at + datetime.timedelta(hours=1))  # a later start
    changed(ends_at=event.ends_at + datetime.timedelta(hours=2))
    changed(space=SpaceFactory(station=event.space.station, capacity=50))  # another room
    changed(title="改期后的党课")
    # Another person booking moves the seat counters on the event's row: not a change to show.
    engine.book_event(user=UserFactory(), event=event)
    assert sequence_of(booking) == seen[-1]
    # A description edit is not a calendar change either (the next full refresh carries it).
    event.description = "新的介绍"
    update_event(event=event, fields=["description"])
    assert sequence_of(booking) == seen[-1]
    engine.cancel_booking(booking=booking, by=user)  # the booking's status
    seen.append(sequence_of(booking))
    assert seen[-1] > seen[-2]
    other = engine.book_event(user=UserFactory(), event=event)
    before = sequence_of(other)
    event.status = Event.Status.CANCELLED  # the event's status
    update_event(event=event, fields=["status"])
    assert sequence_of(other) > before
    # A small counter, never a timestamp (which overflows 32-bit readers after 2038).
    assert seen[-1] < 10 and seen == sorted(set(seen))


def test_a_stale_save_cannot_lower_the_sequence():
    """The admin's save() writes back the value it loaded; the database keeps the higher one."""
    event = EventFactory()
    stale = Event.objects.get(pk=event.pk)
    Event.objects.filter(pk=event.pk).update(starts_at=event.starts_at + datetime.timedelta(minutes=30))
    Event.objects.filter(pk=event.pk).update(status=Event.Status.PUBLISHED, title="新标题")
    assert Event.objects.get(pk=event.pk).sequence == 2  # two changes, whatever wrote them
    stale.description = "只改介绍"
    stale.starts_at = Event.objects.get(pk=event.pk).starts_at
    stale.status, stale.title = Event.Status.PUBLISHED, "新标题"
    stale.save()  # carries sequence=0
    assert Event.objects.get(pk=event.pk).sequence == 2
    Event.objects.filter(pk=event.pk).update(sequence=0)  # nor can anyone set it back by hand
    assert Event.objects.get(pk=event.pk).sequence == 2
    booking = engine.book_event(user=UserFactory(), event=EventFactory())
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CONFIRMED)
    assert Booking.objects.get(pk=booking.pk).sequence == 2


def test_the_feed_is_written_in_its_owners_language(client):
    """A calendar app sends no session: the feed was in the site's language, not the owner's."""
    user = UserFactory(language="en")
    engine.book_event(user=user, event=EventFactory(title="党课"))
    token = accounts.reset_calendar_token(user=user)
    body = client.get(reverse("portal:calendar_feed", args=[token]), HTTP_ACCEPT_LANGUAGE="zh-hans").content
    ical, vcal = both_parsers(body)
    assert vcal.contents["x-wr-calname"][0].value == "My party-mass events"
    assert "Booking status: Confirmed" in vcal.vevent.description.value
    assert "Booking status: Confirmed" in str(ical.walk("VEVENT")[0]["DESCRIPTION"])
    chinese = UserFactory(language="zh-hans")
    engine.book_event(user=chinese, event=EventFactory())
    token = accounts.reset_calendar_token(user=chinese)
    body = client.get(reverse("portal:calendar_feed", args=[token]), HTTP_ACCEPT_LANGUAGE="en").content
    assert both_parsers(body)[1].contents["x-wr-calname"][0].value == "我的党群活动"


def test_a_feed_of_many_bookings_reads_the_same_in_both_parsers():
    user = UserFactory()
    for title in ("一, 二", "三; 四", "五\\六"):
        engine.book_event(user=user, event=EventFactory(title=title))
    from services.selectors import feed_bookings

    ical, vcal = both_parsers(feed_ics(feed_bookings(user=user), language="zh-hans"))
    by_icalendar = [(str(v["UID"]), str(v["SUMMARY"]), v.decoded("DTSTART")) for v in ical.walk("VEVENT")]
    by_vobject = [(v.uid.value, v.summary.value, v.dtstart.value) for v in vcal.vevent_list]
    assert by_icalendar == by_vobject
    assert sorted(s for _, s, _ in by_vobject) == sorted(["一, 二", "三; 四", "五\\六"])
