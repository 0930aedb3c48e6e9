"""iCalendar (RFC 5545) files: one .ics per booking, and a person's private feed.

Times are written in UTC (``...Z``), which Outlook, Apple and Google calendars
all read without a VTIMEZONE block. Each booking keeps one UID, so a feed
refresh updates (or, when cancelled, removes) the entry instead of duplicating it.
The UID's domain is the configured site address (``PORTAL_BASE_URL``), never the
host a request came in on, so one portal reached under two names is one calendar.
``SEQUENCE`` is the event's plus the booking's revision counter (``sequence``, raised
by the database on every change of the event's time, place, title or status and of
the booking's status): it grows with every change a calendar app must take.
The words in a file (the calendar's name, the status lines) are in the owner's language.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, vText
from icalendar import Event as ICalEvent

from .models import Booking, Event, Space

PRODID = "-//building-party-portal//楼宇党建//ZH"


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.astimezone(datetime.UTC)


def site_domain() -> str:
    """The domain of the configured site address (``PORTAL_BASE_URL``): the UIDs' right-hand side."""
    return urlsplit(settings.PORTAL_BASE_URL).hostname or "localhost"


def site_base_url() -> str:
    return settings.PORTAL_BASE_URL.rstrip("/")


def booking_sequence(booking: Booking) -> int:
    """The iCalendar SEQUENCE of a booking's entry: it grows on every change of either row."""
    return booking.event.sequence + booking.sequence


def event_location(event: Event) -> str:
    return space_location(event.space)


def space_location(space: Space) -> str:
    """ "Building (address) 6层 station · room" (in English "floor 6"), as every page writes a place."""
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
    # Grows with every change of the event or the booking, so calendar apps take the update.
    vevent.add("sequence", booking_sequence(booking))
    return vevent


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # vText: escaped like every TEXT value (a comma or semicolon in a title is not a separator).
    cal.add("x-wr-calname", vText(name))
    cal.add("x-wr-timezone", "Asia/Shanghai")
    return cal


def booking_ics(
    booking: Booking,
    *,
    language: str,
    domain: str | None = None,
    base_url: str | None = None,
    now: datetime.datetime | None = None,
) -> bytes:
    """One booking as an .ics file (the 'add to calendar' download, the e-mail's attachment).

    ``language``: the owner's (``user.language``); ``domain`` and ``base_url`` default to the
    configured site address.
    """
    with translation.override(language):
        cal = _calendar(booking.event.title)
        cal.add_component(
            _vevent(
                booking,
                domain=domain or site_domain(),
                base_url=base_url or site_base_url(),
                now=now or timezone.now(),
            )
        )
        return cal.to_ical()


def feed_ics(
    bookings: Iterable[Booking],
    *,
    language: str,
    domain: str | None = None,
    base_url: str | None = None,
    now: datetime.datetime | None = None,
) -> bytes:
    """A person's private calendar feed: their confirmed, waitlisted and attended bookings.

    ``language``: the owner's (``user.language``) — a calendar app sends no session or cookie.
    """
    now = now or timezone.now()
    domain = domain or site_domain()
    base_url = base_url or site_base_url()
    with translation.override(language):
        cal = _calendar(_("我的党群活动"))
        cal.add("refresh-interval", datetime.timedelta(hours=1), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT1H")
        for booking in bookings:
            cal.add_component(_vevent(booking, domain=domain, base_url=base_url, now=now))
        return cal.to_ical()
