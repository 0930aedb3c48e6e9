"""iCalendar (RFC 5545) files: one .ics per booking, and a person's private feed.

Times are written in UTC (``...Z``), which Outlook, Apple and Google calendars
all read without a VTIMEZONE block. Each booking keeps one UID, so a feed
refresh updates (or, when cancelled, removes) the entry instead of duplicating it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as ICalEvent

from .models import Booking, Event

PRODID = "-//building-party-portal//楼宇党建//ZH"


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.astimezone(datetime.UTC)


def event_location(event: Event) -> str:
    space = event.space
    station = space.station
    return _("%(building)s（%(address)s）%(floor)s层 %(station)s · %(space)s") % {
        "building": station.owner_name,
        "address": station.address,
        "floor": station.floor,
        "station": station.name,
        "space": space.name,
    }


def _status(booking: Booking) -> str:
    if booking.status == Booking.Status.CANCELLED or booking.event.status == Event.Status.CANCELLED:
        return "CANCELLED"
    if booking.status == Booking.Status.WAITLISTED:
        return "TENTATIVE"
    return "CONFIRMED"


def _vevent(booking: Booking, *, domain: str, base_url: str, now: datetime.datetime) -> ICalEvent:
    event = booking.event
    vevent = ICalEvent()
    vevent.add("uid", f"booking-{booking.pk}@{domain}")
    vevent.add("dtstamp", _utc(now))
    vevent.add("dtstart", _utc(event.starts_at))
    vevent.add("dtend", _utc(event.ends_at))
    summary = event.title
    if booking.status == Booking.Status.WAITLISTED:
        summary = _("【候补】%(title)s") % {"title": summary}
    vevent.add("summary", summary)
    vevent.add("location", event_location(event))
    lines = [event.get_kind_display()]
    if event.speaker:
        lines.append(_("主讲：%(speaker)s") % {"speaker": event.speaker})
    lines.append(_("预约状态：%(status)s") % {"status": booking.get_status_display()})
    if event.description:
        lines.append(event.description)
    url = f"{base_url}/bookings/{booking.pk}/"
    lines.append(url)
    vevent.add("description", "\n".join(lines))
    vevent.add("url", url)
    vevent.add("status", _status(booking))
    vevent.add("transp", "OPAQUE")
    # SEQUENCE grows when the booking changes (confirmed, cancelled), so clients take the update.
    vevent.add(
        "sequence", int((booking.cancelled_at or booking.confirmed_at or booking.created_at).timestamp())
    )
    return vevent


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    return cal


def booking_ics(
    booking: Booking, *, domain: str, base_url: str, now: datetime.datetime | None = None
) -> bytes:
    """One booking as an .ics file (the 'add to calendar' download)."""
    cal = _calendar(booking.event.title)
    cal.add_component(_vevent(booking, domain=domain, base_url=base_url, now=now or timezone.now()))
    return cal.to_ical()


def feed_ics(
    bookings: Iterable[Booking], *, domain: str, base_url: str, now: datetime.datetime | None = None
) -> bytes:
    """A person's private calendar feed: their confirmed, waitlisted and attended bookings."""
    now = now or timezone.now()
    cal = _calendar(_("我的党群活动"))
    cal.add("refresh-interval", datetime.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for booking in bookings:
        cal.add_component(_vevent(booking, domain=domain, base_url=base_url, now=now))
    return cal.to_ical()
