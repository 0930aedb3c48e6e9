"""Editing an event: one write function, which the admin (and any other editor) calls.

Field edits are saved under the event's lock, never as a full save (the booking
engine's counters on the row may have moved since a form loaded them). A new time or
place is announced to everyone booked or waiting and their reminders follow it, in
the same transaction. Capacity and cancellation go through the booking engine, whose
rules they are (services/booking.py).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.scoping import in_scope

from . import booking, notifications
from .models import Event

# Written by the booking engine only: the seat counters, and capacity/cancellation by their rules.
ENGINE_FIELDS = frozenset({"capacity", "confirmed_count", "waitlist_count"})


def _unchanged_to_the_minute(before: Event, event: Event, name: str) -> bool:
    """A time shown to the minute (the admin's inputs) came back without its seconds: not an edit."""
    old, new = getattr(before, name), getattr(event, name)
    if not isinstance(old, datetime.datetime) or new is None or old == new:
        return False
    return new == old.replace(second=0, microsecond=0)


def update_event(*, event: Event, fields: Iterable[str], by=None, times_to_the_minute: bool = False) -> Event:
    """Save ``fields`` of ``event`` (an instance carrying the new values); returns the event as stored.

    ``status`` set to cancelled cancels the event with all its bookings (``cancel_event``);
    ``capacity`` changes through ``change_capacity``. ``by`` (optional) must be staff whose
    territory includes the event and who may change events. ``times_to_the_minute``: the
    caller shows times to the minute, so a stored time with seconds that comes back cut
    to the minute is kept as it is (bookers are not told of a move by a few seconds).
    """
    fields = list(dict.fromkeys(fields))
    with transaction.atomic():
        # The row as it is now, not as the form loaded it; locked, as the booking engine
        # locks it, so no booking slips between this read and the notices below.
        before = Event.objects.select_for_update().get(pk=event.pk)
        if by is not None and not in_scope(before, by, perm="services.change_event"):
            raise booking.BookingError("forbidden", _("您无权管理该活动。"))
        cancelling = (
            "status" in fields
            and event.status == Event.Status.CANCELLED
            and (before.status != Event.Status.CANCELLED)
        )
        plain = [
            name for name in fields if name not in ENGINE_FIELDS and not (cancelling and name == "status")
        ]
        if times_to_the_minute:
            for name in [n for n in plain if _unchanged_to_the_minute(before, event, n)]:
                setattr(event, name, getattr(before, name))
                plain.remove(name)
        if plain:
            event.save(update_fields=[*plain, "updated_at"])
            changes = {
                f: c for f, c in notifications.relevant_event_changes(before, event).items() if f in plain
            }
            if changes and not cancelling:  # a cancellation sends its own notice
                notifications.notify_event_changed(event=event, changes=changes)
        if cancelling:
            booking.cancel_event(event=event, by=by)
        elif "capacity" in fields and event.capacity != before.capacity:
            booking.change_capacity(event=event, capacity=event.capacity)
    event.refresh_from_db()
    return event
