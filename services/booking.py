"""The booking engine: every write to bookings, event capacity and check-in goes through here.

The portal views, the admin actions, the API and the Celery tasks call these
functions; none of them re-implements a rule. Each function runs in one
transaction that locks the event row (``SELECT ... FOR UPDATE``), so for
one event all bookings, cancellations, promotions and check-ins happen one
after the other. Booking, the one that a rush repeats hundreds of times, takes
the lock last: it reads and prepares everything first, then one statement locks,
decides and writes, and the transaction commits (``book_event``). That is what
keeps, under any concurrency:

* confirmed bookings <= capacity (also a CHECK constraint on the counters),
* one active booking per (event, person) (also a partial unique index),
* the waitlist first-come first-served: a freed seat goes to the head of the
  waitlist in the same transaction that freed it.

``Event.confirmed_count`` counts the seats taken: confirmed, attended and
no-show bookings (a person who checked in still holds their seat).
``Event.waitlist_count`` counts waitlisted bookings. Both are written only
here, under the event lock.

A rule broken raises ``BookingError`` (machine ``code`` + translated
``message``) before anything is written; the transaction leaves no trace.

Every function that reads the clock takes ``now`` (keyword-only, default the
current time), so that tests can hold it at a boundary to the microsecond.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import re

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from core import bench
from core.errors import DomainError
from core.notifications import outbox
from core.prepared import PreparedQuery
from core.scoping import in_scope

from . import notifications, pagecache, volunteering
from .models import Booking, Event, Space
from .selectors import waitlist_position

# Staff may check people in from this long before the start until the end.
CHECKIN_OPENS_BEFORE = datetime.timedelta(hours=1)

# How many events mark_no_shows locks per transaction.
_NO_SHOW_CHUNK = 200


class BookingError(DomainError):
    """A booking rule refused an action; nothing was changed.

    ``code`` is stable and machine-readable (API clients, tests); ``message``
    is translated and meant for the person in front of the screen.
    """


@dataclasses.dataclass(frozen=True)
class BookingAction:
    """What the one button on an event page says and does for a given person."""

    kind: str  # book, waitlist, not_open, closed, full, members_only, employees_only, booked, login, cancelled, past
    label: str
    enabled: bool
    reason: str


# --- helpers ------------------------------------------------------------------------------------


def _local(dt: datetime.datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(dt).strftime(fmt)


def _lock_event(event_id: int) -> Event:
    """The event row, locked until the end of the current transaction, with fresh counters."""
    return Event.objects.select_for_update().get(pk=event_id)


def _save_counts(event: Event) -> None:
    # update(), not save(): only the counters change, and save() would rewrite every
    # column (and bump updated_at, which means "an editor changed the event").
    Event.objects.filter(pk=event.pk).update(
        confirmed_count=event.confirmed_count, waitlist_count=event.waitlist_count
    )


def _copy_counts(target: Event, source: Event) -> None:
    """Keep the caller's event instance in step with the locked row we changed."""
    if target is not source:
        for field in ("capacity", "status", "confirmed_count", "waitlist_count"):
            setattr(target, field, getattr(source, field))


def _is_staff_in_scope(user, event: Event, *, perm: str) -> bool:
    """A staff member holding ``perm`` whose territory includes the event (core.scoping.in_scope).

    District staff read their district's bookings but change none: the model permission
    (their group has ``view`` only) keeps them from cancelling or checking in.
    """
    return in_scope(event, user, perm=perm)


def _refusal_to_book(event: Event, user, now: datetime.datetime) -> BookingError | None:
    """Why ``user`` may not book ``event`` now, ignoring seats and existing bookings."""
    if event.status == Event.Status.CANCELLED:
        return BookingError("event_cancelled", _("该活动已取消。"))
    if event.status == Event.Status.DRAFT:
        return BookingError("event_draft", _("该活动尚未发布。"))
    if now >= event.ends_at:
        return BookingError("event_past", _("该活动已结束。"))
    if now < event.booking_opens_at:
        return BookingError(
            "booking_not_open",
            _("报名尚未开始，将于 %(time)s 开放。") % {"time": _local(event.booking_opens_at)},
        )
    if now >= event.booking_closes_at:
        return BookingError(
            "booking_closed", _("报名已于 %(time)s 截止。") % {"time": _local(event.booking_closes_at)}
        )
    if event.audience == Event.Audience.PARTY_MEMBERS and user.party_member_id is None:
        return BookingError(
            "members_only", _("该活动仅限党员报名。如您是党员，请先在“我的账号”中申请关联党员档案。")
        )
    if not _open_to_person(event, user):
        return BookingError(
            "employees_only",
            _("该活动面向楼宇白领；骑手和社区居民可报名社区场所的活动和“面向社区开放”的活动。"),
        )
    return None


def _is_community_place(event: Event) -> bool:
    """Whether the event is at a community partner's place (read from the snapshot when it has it)."""
    partner_id = getattr(event, "station_partner", _UNREAD)
    if partner_id is _UNREAD:
        partner_id = event.space.station.partner_id
    return partner_id is not None


_UNREAD = object()


def _open_to_person(event: Event, user) -> bool:
    """Places both ways: a building's events are for the people who work there unless opened to
    the community; a partner's places and community events are open to riders and residents too."""
    if user.person_type == "employee":
        return True
    return event.audience == Event.Audience.COMMUNITY or _is_community_place(event)


def _promote(event: Event, now: datetime.datetime) -> list[Booking]:
    """Give free seats to the head of the waitlist. The caller holds the event lock and saves counts."""
    if event.status != Event.Status.PUBLISHED or now >= event.ends_at:
        return []
    free = event.capacity - event.confirmed_count
    if free <= 0 or event.waitlist_count <= 0:
        return []
    heads = list(
        Booking.objects.filter(event_id=event.pk, status=Booking.Status.WAITLISTED).order_by(
            "created_at", "id"
        )[:free]
    )
    if not heads:
        return []
    Booking.objects.filter(pk__in=[b.pk for b in heads]).update(
        status=Booking.Status.CONFIRMED, confirmed_at=now
    )
    for booking in heads:
        booking.status = Booking.Status.CONFIRMED
        booking.confirmed_at = now
        booking.event = event
    event.confirmed_count += len(heads)
    event.waitlist_count -= len(heads)
    # "You have a seat" and the reminders, in the transaction that gave the seat.
    notifications.enqueue_waitlist_promoted(bookings=heads, now=now)
    return heads


# --- booking and cancelling ---------------------------------------------------------------------


# The one statement that takes a seat: it locks the event row (FOR UPDATE: it waits for any
# booking, cancellation or edit of the event in progress and then reads the row as that left
# it), checks again that the event is open to this person, counts the booking in, inserts it
# and inserts its notices (the outbox rows prepared for that outcome, ``{notices}``). The
# booking's created_at is read from the clock after the lock is taken, so the order of
# created_at is the order in which the lock let people in: the waitlist's first come, first
# served (services.selectors.waitlist_position) is that order. ``locked_at`` and ``written_at``
# (PostgreSQL's clock when the lock was taken and when everything was written) say how long the
# statement held the lock before its COMMIT (core.bench). No row comes back when the
# event is no longer open to this person; ``booked`` is null when it is full with its
# waitlist full (the lock is then held until the rollback).
_TAKE_SEAT_SQL = """
WITH cur AS (
    SELECT id, confirmed_count < capacity AS seat, clock_timestamp() AS locked_at
    FROM services_event
    WHERE id = %(event)s
      AND status = %(published)s
      AND booking_opens_at <= %(now)s AND booking_closes_at > %(now)s AND ends_at > %(now)s
      AND (audience <> %(members_only)s OR %(member)s)
      AND (%(open_to_person)s OR audience = %(community)s)
      -- what the prepared notices were made from (the reminders' times, the street)
      AND starts_at = %(starts_at)s AND kind = %(kind)s AND space_id = %(space)s
    FOR UPDATE
), counted AS (
    UPDATE services_event AS e
    SET confirmed_count = e.confirmed_count + CASE WHEN cur.seat THEN 1 ELSE 0 END,
        waitlist_count = e.waitlist_count + CASE WHEN cur.seat THEN 0 ELSE 1 END
    FROM cur
    WHERE e.id = cur.id AND (cur.seat OR e.waitlist_count < e.waitlist_limit)
    RETURNING cur.seat, e.capacity, e.confirmed_count, e.waitlist_count
), booked AS (
    INSERT INTO services_booking (id, event_id, user_id, status, created_at, confirmed_at)
    SELECT %(booking)s, %(event)s, %(user)s,
           CASE WHEN seat THEN %(confirmed)s ELSE %(waitlisted)s END,
           clock_timestamp(),
           CASE WHEN seat THEN %(now)s::timestamptz END
    FROM counted
    RETURNING status, created_at
){notices}
SELECT cur.locked_at, booked.status, booked.created_at,
       counted.capacity, counted.confirmed_count, counted.waitlist_count,
       {notices_written} AS notices,
       clock_timestamp() AS written_at
FROM cur LEFT JOIN counted ON true LEFT JOIN booked ON true
"""

# Attempts at the seat statement when the event changed between the read and the lock and the
# read after it finds nothing to refuse (it changed back): practically never a second one.
_SEAT_ATTEMPTS = 3


def _booking_snapshot(event_id: int, user_id: int) -> Event:
    """The event as committed now, without a lock, with what booking it needs to know beforehand.

    One statement: the event row, whether the person already holds an active booking of it
    (``already``), the event's street (for the notices) and the new booking's id from the
    sequence (``next_id``), so that everything about the booking but its status can be
    prepared before the lock.
    """
    found = _BOOKING_SNAPSHOT.run(event_id, user_id)
    if not found:
        raise Event.DoesNotExist("Event matching query does not exist.")
    return found[0]


def _booking_snapshot_queryset(event_id: int, user_id: int):
    mine = Booking.objects.filter(event_id=OuterRef("pk"), user_id=user_id, status__in=Booking.ACTIVE)
    return (
        Event.objects.filter(pk=event_id)
        .annotate(
            already=Exists(mine),
            street=F("space__station__street_id"),
            station_partner=F("space__station__partner_id"),
            next_id=RawSQL("nextval(pg_get_serial_sequence('services_booking', 'id'))", []),
        )
        .order_by()[:2]  # as QuerySet.get() runs it (by primary key: one row or none)
    )


# Built once per process (core.prepared): every booking runs it, a rush hundreds a second.
_BOOKING_SNAPSHOT = PreparedQuery(_booking_snapshot_queryset)


def book_event(*, user, event: Event, now: datetime.datetime | None = None) -> Booking:
    """Book a seat: confirmed if one is free, else a place on the waitlist, else refused.

    Everything that does not need the event's lock happens before it: the event is read as
    committed (the refusals, an existing booking of the person, a full waitlist are answered
    from that read, exact as of that moment), the booking's id is drawn and its notices for
    either outcome are compiled. Then one statement locks the event, checks again what the
    read found (open to this person, the time, kind and place the notices were made from),
    decides seat or waitlist, counts, inserts the booking and the notices of that outcome.
    Outside a caller's transaction that statement is its own transaction, committed by
    PostgreSQL when it ends: the lock is held for the statement and the COMMIT only, never
    across a round trip. If the event changed in between, the read is made again. Pressing
    twice (or twenty times at once)
    gives one booking: a press that passed the read while another was being booked is
    refused "already_booked" by the one-active-booking index.
    """
    if not (user and user.is_authenticated):
        raise BookingError("login_required", _("请先登录再预约。"))
    now = now or timezone.now()
    # Called outside any transaction (a request, a task), the seat statement is a transaction of
    # its own: PostgreSQL commits it as soon as it has run, so the lock is never held across a
    # round trip to this process. Inside a caller's transaction it is a savepoint of it.
    own_transaction = connection.get_autocommit() and not connection.in_atomic_block
    for _attempt in range(_SEAT_ATTEMPTS):
        with contextlib.nullcontext() if own_transaction else transaction.atomic():
            current = _booking_snapshot(event.pk, user.pk)
            refusal = _refusal_to_book(current, user, now)
            if refusal is not None:
                raise refusal
            if current.already:
                raise BookingError("already_booked", _("您已预约过该活动。"))
            if (
                current.confirmed_count >= current.capacity
                and current.waitlist_count >= current.waitlist_limit
            ):
                raise BookingError("waitlist_full", _("名额已满，候补人数也已达上限。"))
            booking = Booking(pk=current.next_id, event=current, user=user)
            notices = {}
            for status in Booking.ACTIVE:
                booking.status = status
                notices[status] = notifications.prepare_booking_made(
                    booking=booking, now=now, street_id=current.street
                )
            # The lock, last: taken by the one statement that also writes everything.
            row = _take_seat(booking, user, now, notices)
            if row is None:
                continue  # the event changed before the lock: read it again
            locked_at, status, created_at, capacity, confirmed_count, waitlist_count, _n, written_at = row
            if status is None:
                raise BookingError("waitlist_full", _("名额已满，候补人数也已达上限。"))
            if notices[status].due_now:
                outbox.kick_after_commit()
        bench.record_lock_hold(locked_at, written_at)
        booking.status, booking.created_at = status, created_at
        booking.confirmed_at = now if status == Booking.Status.CONFIRMED else None
        booking._state.adding, booking._state.db = False, connection.alias  # as if read back
        current.capacity, current.confirmed_count, current.waitlist_count = (
            capacity,
            confirmed_count,
            waitlist_count,
        )
        _copy_counts(event, current)
        return booking
    raise BookingError("event_changed", _("活动信息刚刚发生变化，请刷新后重试。"))


def _take_seat(booking: Booking, user, now: datetime.datetime, notices: dict) -> tuple | None:
    """Run ``_TAKE_SEAT_SQL`` with the notices of each outcome: lock, decide, write, one round trip."""
    params = {
        "event": booking.event_id,
        "starts_at": booking.event.starts_at,
        "kind": booking.event.kind,
        "space": booking.event.space_id,
        "booking": booking.pk,
        "user": user.pk,
        "now": now,
        "member": user.party_member_id is not None,
        # riders and residents: a partner's place, or a building's event opened to the community
        "open_to_person": user.person_type == "employee" or _is_community_place(booking.event),
        "community": Event.Audience.COMMUNITY,
        "published": Event.Status.PUBLISHED,
        "members_only": Event.Audience.PARTY_MEMBERS,
        "confirmed": Booking.Status.CONFIRMED,
        "waitlisted": Booking.Status.WAITLISTED,
    }
    parts, written = [], []
    for n, (status, prepared) in enumerate(notices.items()):
        if not prepared.rows:
            continue
        sql, values = prepared.insert_sql(
            where=f"EXISTS (SELECT 1 FROM booked WHERE booked.status = %(status_{n})s)",
            prefix=f"notice_{n}",
            returning="1",
        )
        params.update(values)
        params[f"status_{n}"] = status
        parts.append(f", notices_{n} AS ({sql})")
        # Read by the final SELECT, so that they are written before its written_at is read.
        written.append(f"(SELECT count(*) FROM notices_{n})")
    sql = _TAKE_SEAT_SQL.format(notices="".join(parts), notices_written=" + ".join(written) or "0")
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except IntegrityError as exc:
        if _ONE_ACTIVE in str(exc):
            # Another press of the same person's was booked between the read and the lock.
            raise BookingError("already_booked", _("您已预约过该活动。")) from None
        raise


_ONE_ACTIVE = "services_booking_one_active_per_user"


def _refusal_to_cancel(
    booking: Booking, event: Event, now: datetime.datetime, *, as_staff: bool = False
) -> BookingError | None:
    """Why ``booking`` may not be cancelled now: the one cancel rule (the engine and the pages).

    A confirmed seat until the cancellation deadline (staff in scope also after it);
    leaving the waitlist until the event ends.
    """
    if booking.status not in Booking.ACTIVE:
        return BookingError(
            "not_cancellable",
            _("该预约当前状态为“%(status)s”，不能取消。") % {"status": booking.get_status_display()},
        )
    if now >= event.ends_at:
        return BookingError("event_past", _("活动已结束，预约不能再取消。"))
    if booking.status == Booking.Status.CONFIRMED and not as_staff and now > event.cancel_deadline:
        return BookingError(
            "cancel_deadline_passed",
            _("已过取消截止时间（%(time)s），不能取消。如确有困难，请联系服务站。")
            % {"time": _local(event.cancel_deadline)},
        )
    return None


def cancel_booking(*, booking: Booking, by=None, now: datetime.datetime | None = None) -> Booking:
    """Cancel a booking; a freed seat goes to the head of the waitlist in the same transaction.

    ``by=None`` means the caller already knows it is the booker's own booking.
    The booker is bound by the cancellation deadline (for a confirmed seat;
    leaving the waitlist is always allowed before the event ends). Staff whose
    territory includes the event may cancel after the deadline too.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = _lock_event(booking.event_id)
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        as_staff = False
        if by is not None and by.pk != current.user_id:
            if not _is_staff_in_scope(by, event, perm="services.change_booking"):
                raise BookingError("not_owner", _("只能取消本人的预约。"))
            as_staff = True
        refusal = _refusal_to_cancel(current, event, now, as_staff=as_staff)
        if refusal is not None:
            raise refusal
        if current.status == Booking.Status.CONFIRMED:
            event.confirmed_count -= 1
        else:
            event.waitlist_count -= 1
        current.status = Booking.Status.CANCELLED
        current.cancelled_at = now
        current.save(update_fields=["status", "cancelled_at"])
        notifications.skip_cancelled_booking_notices(booking=current, now=now)
        _promote(event, now)
        _save_counts(event)
    current.event = event
    booking.status, booking.cancelled_at = current.status, current.cancelled_at
    return current


def promote_waitlist(*, event: Event, now: datetime.datetime | None = None) -> list[Booking]:
    """Fill the free seats of ``event`` from its waitlist, first come first served.

    The engine calls this internally under its own lock; called from outside
    (the admin's "promote" action) it takes the lock itself, so it is safe
    either way. Returns the bookings promoted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_event(event.pk)
        promoted = _promote(locked, now)
        if promoted:
            _save_counts(locked)
    _copy_counts(event, locked)
    return promoted


def change_capacity(*, event: Event, capacity: int, now: datetime.datetime | None = None) -> Event:
    """Change the number of seats; never below the seats already taken; an increase promotes."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_event(event.pk)
        if locked.status == Event.Status.CANCELLED:
            raise BookingError("event_cancelled", _("该活动已取消。"))
        if now >= locked.ends_at:
            raise BookingError("event_past", _("该活动已结束。"))
        if capacity is None or capacity < 1:
            raise BookingError("capacity_invalid", _("名额必须大于0。"))
        if locked.kind == Event.Kind.COUNSELLING and capacity != 1:
            raise BookingError("counselling_one_person", _("心理咨询为一对一，名额必须为1。"))
        space_capacity = Space.objects.values_list("capacity", flat=True).get(pk=locked.space_id)
        if capacity > space_capacity:
            raise BookingError(
                "capacity_exceeds_space", _("名额不能超过空间容纳人数（%(n)s人）。") % {"n": space_capacity}
            )
        if capacity < locked.confirmed_count:
            raise BookingError(
                "capacity_below_confirmed",
                _("名额不能少于已确认的人数（%(n)s人）。") % {"n": locked.confirmed_count},
            )
        if capacity != locked.capacity:
            locked.capacity = capacity
            Event.objects.filter(pk=locked.pk).update(capacity=capacity, updated_at=now)
            _promote(locked, now)
            _save_counts(locked)
            pagecache.bump_events_version()
    _copy_counts(event, locked)
    return locked


def cancel_event(*, event: Event, by=None, now: datetime.datetime | None = None) -> Event:
    """Cancel the event and every active booking of it; the space becomes free.

    ``by`` (optional) must be staff whose territory includes the event.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_event(event.pk)
        if by is not None and not _is_staff_in_scope(by, locked, perm="services.change_event"):
            raise BookingError("forbidden", _("您无权管理该活动。"))
        if locked.status == Event.Status.CANCELLED:
            raise BookingError("event_cancelled", _("该活动已取消。"))
        if now >= locked.ends_at:
            raise BookingError("event_past", _("该活动已结束，不能取消。"))
        # Everyone booked or waiting hears of it; written before their bookings are cancelled.
        notifications.notify_event_cancelled(
            event=locked,
            bookings=Booking.objects.filter(event_id=locked.pk, status__in=Booking.ACTIVE),
            now=now,
        )
        active = Booking.objects.filter(event_id=locked.pk)
        confirmed = active.filter(status=Booking.Status.CONFIRMED).update(
            status=Booking.Status.CANCELLED, cancelled_at=now
        )
        waitlisted = active.filter(status=Booking.Status.WAITLISTED).update(
            status=Booking.Status.CANCELLED, cancelled_at=now
        )
        # Attended bookings (checked in before the cancellation) keep their seat on record.
        locked.confirmed_count -= confirmed
        locked.waitlist_count -= waitlisted
        locked.status = Event.Status.CANCELLED
        Event.objects.filter(pk=locked.pk).update(
            status=locked.status,
            confirmed_count=locked.confirmed_count,
            waitlist_count=locked.waitlist_count,
            updated_at=now,
        )
        # A cancelled event leaves the portal's list (services.pagecache).
        pagecache.bump_events_version()
    _copy_counts(event, locked)
    return locked


# --- check-in -----------------------------------------------------------------------------------

_CHECKIN_SALT = "services.booking.checkin"
_CHECKIN_SIGNATURE_LENGTH = 12  # base32 characters: 60 bits, far beyond guessing at a station
# The signature alphabet (base32) has no 0, 1 or 8; people typing a code often mean O, I and B,
# so those digits are accepted in the signature and read as the letters.
_CHECKIN_CODE = re.compile(r"^(?P<booking>\d{1,18})-(?P<event>\d{1,18})\.(?P<sig>[A-Z2-7018]+)$")
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


class _CheckinSigner(signing.Signer):
    """django.core.signing's HMAC, shortened and upper-case so it can be read aloud and typed."""

    def signature(self, value, key=None):
        digest = salted_hmac(self.salt + "signer", value, key or self.key, algorithm=self.algorithm).digest()
        return base64.b32encode(digest).decode("ascii")[:_CHECKIN_SIGNATURE_LENGTH]


def _checkin_signer() -> _CheckinSigner:
    return _CheckinSigner(sep=".", salt=_CHECKIN_SALT, algorithm="sha256")


def checkin_code(booking: Booking) -> str:
    """The booking's signed code for the QR code, e.g. ``1234-56.K7QX3M2PZ4HT``: booking id, event id, signature.

    Signed with the SECRET_KEY (and its fallbacks on verification), so it cannot be guessed
    or forged. Cameras read it; people type the short ``typed_checkin_code`` instead.
    """
    return _checkin_signer().sign(f"{booking.pk}-{booking.event_id}")


# --- The typed code ------------------------------------------------------------------------------
# Short enough to read aloud ("K7-3M2P-QX4" for booking 1234), typed in any case, with any spaces
# or separators. Crockford's base32 (no I, L, O or U; those typed are read as 1, 1, 0 and V):
# the booking id, a 6-character signature (30 bits: a staff-only page, guesses are one at a time)
# and one check character (Luhn mod 32) that catches every single mistyped character and every
# swap of two neighbours. So a typo answers "not recognised — check the code"; only a code whose
# check character is right but whose signature is wrong — made by someone without the key — is
# reported as tampered.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_VALUE = {c: i for i, c in enumerate(_CROCKFORD)}
_CROCKFORD_VALUE.update({"I": 1, "L": 1, "O": 0, "U": _CROCKFORD_VALUE["V"]})
_TYPED_SIGNATURE_LENGTH = 6
_TYPED_SALT = "services.booking.checkin.typed"


def _crockford(number: int, width: int = 1) -> str:
    digits = []
    while number or len(digits) < width:
        number, rest = divmod(number, 32)
        digits.append(_CROCKFORD[rest])
    return "".join(reversed(digits))


def _luhn32(values: list[int]) -> int:
    """The Luhn mod 32 check value of ``values`` (appended, the whole then sums to 0 mod 32)."""
    total, factor = 0, 2
    for value in reversed(values):
        addend = factor * value
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return (32 - total % 32) % 32


def _typed_signature(booking_id: int, event_id: int) -> str:
    digest = salted_hmac(_TYPED_SALT, f"{booking_id}-{event_id}", algorithm="sha256").digest()
    return _crockford(int.from_bytes(digest[:4]) >> 2, _TYPED_SIGNATURE_LENGTH)[-_TYPED_SIGNATURE_LENGTH:]


def typed_checkin_code(booking: Booking) -> str:
    """The code people read out at the desk, grouped for reading: e.g. ``K7-3M2P-QX4``."""
    body = _crockford(booking.pk) + _typed_signature(booking.pk, booking.event_id)
    body += _CROCKFORD[_luhn32([_CROCKFORD_VALUE[c] for c in body])]
    tail = body[-8:]
    head = body[:-8]
    return "-".join(part for part in (head, tail[:4], tail[4:]) if part)


def _parse_typed_code(code: str) -> tuple[int, str]:
    """(booking id, signature) of a typed code, or the "not recognised" refusal."""
    unrecognised = BookingError("checkin_unrecognised", _("未识别，请核对签到码。"))
    letters = re.sub(r"[^0-9A-Z]", "", code.upper())
    if len(letters) < _TYPED_SIGNATURE_LENGTH + 2 or len(letters) > _TYPED_SIGNATURE_LENGTH + 14:
        raise unrecognised
    if any(c not in _CROCKFORD_VALUE for c in letters):
        raise unrecognised
    values = [_CROCKFORD_VALUE[c] for c in letters]
    if _luhn32(values[:-1]) != values[-1]:
        raise unrecognised
    body = "".join(_CROCKFORD[v] for v in values[:-1])
    booking_id = 0
    for c in body[:-_TYPED_SIGNATURE_LENGTH]:
        booking_id = booking_id * 32 + _CROCKFORD_VALUE[c]
    return booking_id, body[-_TYPED_SIGNATURE_LENGTH:]


def checkin_qr(booking: Booking):
    """The check-in code as a QR code (segno). Never a Micro QR, which phone cameras and jsQR can't read."""
    import segno

    return segno.make(checkin_code(booking), error="m", micro=False)


def checkin_qr_svg(booking: Booking) -> str:
    """The QR code as inline SVG for the booking page (no external service, no image file), scaled by CSS."""
    return checkin_qr(booking).svg_inline(
        scale=6, border=2, dark="#000", light="#fff", svgclass="qr", omitsize=True
    )


def _parse_checkin_code(code: str) -> tuple[int, int]:
    """(booking id, event id) of a scanned or typed code (a typed one's event is read from the
    booking). Refusals: not recognised (a typo), tampered (a forged signature)."""
    normalized = re.sub(r"\s+", "", code or "").upper()
    if not normalized:
        raise BookingError("checkin_unrecognised", _("未识别，请核对签到码。"))
    match = _CHECKIN_CODE.match(normalized)
    if match is not None:  # the QR code's long form, read by a camera
        value = f"{int(match['booking'])}-{int(match['event'])}"
        signed = f"{value}.{match['sig'].translate(_LOOKALIKES)}"
        try:
            _checkin_signer().unsign(signed)
        except signing.BadSignature:
            raise BookingError("checkin_tampered", _("签到码已被篡改。")) from None
        return int(match["booking"]), int(match["event"])
    booking_id, signature = _parse_typed_code(normalized)
    event_id = Booking.objects.filter(pk=booking_id).values_list("event_id", flat=True).first()
    if event_id is None or not constant_time_compare(signature, _typed_signature(booking_id, event_id)):
        raise BookingError("checkin_tampered", _("签到码已被篡改。"))
    return booking_id, event_id


def check_in(
    *, code: str, event: Event | None = None, by=None, now: datetime.datetime | None = None
) -> Booking:
    """Mark the booking behind ``code`` (scanned or typed) as attended.

    ``event`` is the event the station staff is checking people in for; a code
    of another event is refused with that event's title. Check-in is open from
    ``CHECKIN_OPENS_BEFORE`` the start until the end of the event.
    """
    booking_id, event_id = _parse_checkin_code(code)
    return _check_in(booking_id=booking_id, event_id=event_id, event=event, by=by, now=now or timezone.now())


def check_in_booking(*, booking: Booking, by, now: datetime.datetime | None = None) -> Booking:
    """Mark ``booking`` attended from the staff's list (a person without their phone): the same
    rules as a code — staff in scope, the booking confirmed, the check-in window open."""
    return _check_in(
        booking_id=booking.pk, event_id=booking.event_id, event=None, by=by, now=now or timezone.now()
    )


def _check_in(*, booking_id: int, event_id: int, event: Event | None, by, now: datetime.datetime) -> Booking:
    with transaction.atomic():
        try:
            locked = _lock_event(event_id)
        except Event.DoesNotExist:
            raise BookingError("checkin_invalid", _("签到码无效。")) from None
        # Scope first: another street's event is not named to staff who may not see it.
        if by is not None and not _is_staff_in_scope(by, locked, perm="services.change_booking"):
            raise BookingError("forbidden", _("您无权为该活动签到。"))
        if event is not None and locked.pk != event.pk:
            raise BookingError(
                "checkin_wrong_event", _("该签到码属于另一场活动《%(title)s》。") % {"title": locked.title}
            )
        current = Booking.objects.select_for_update().filter(pk=booking_id, event_id=locked.pk).first()
        if current is None:
            raise BookingError("checkin_invalid", _("签到码无效。"))
        if current.status == Booking.Status.ATTENDED:
            raise BookingError(
                "checkin_already_used",
                _("该预约已于 %(time)s 签到。") % {"time": _local(current.checked_in_at, "%H:%M")},
            )
        if current.status != Booking.Status.CONFIRMED:
            messages = {
                Booking.Status.CANCELLED: _("该预约已取消，不能签到。"),
                Booking.Status.WAITLISTED: _("该预约仍在候补中，尚未获得名额，不能签到。"),
                Booking.Status.NO_SHOW: _("该预约已被记为未到场，不能签到。"),
            }
            raise BookingError("checkin_not_confirmed", messages[current.status])
        if locked.status == Event.Status.CANCELLED:
            raise BookingError("event_cancelled", _("该活动已取消。"))
        opens = locked.starts_at - CHECKIN_OPENS_BEFORE
        if now < opens:
            raise BookingError("checkin_too_early", _("签到将于 %(time)s 开始。") % {"time": _local(opens)})
        if now >= locked.ends_at:
            raise BookingError("checkin_closed", _("活动已结束，签到已关闭。"))
        current.status = Booking.Status.ATTENDED
        current.checked_in_at = now
        current.save(update_fields=["status", "checked_in_at"])
        # A volunteer shift credits its hours with the check-in, in the same transaction.
        volunteering.credit_attendance(booking=current, event=locked, now=now)
    current.event = locked
    return current


def mark_no_shows(*, now: datetime.datetime | None = None) -> int:
    """Confirmed bookings of events that have ended become no-shows. Returns how many.

    Safe to run any number of times and concurrently with check-ins: each
    batch of events is locked (in primary-key order) before its bookings change.
    """
    now = now or timezone.now()
    event_ids = list(
        Booking.objects.filter(status=Booking.Status.CONFIRMED, event__ends_at__lte=now)
        .order_by("event_id")
        .values_list("event_id", flat=True)
        .distinct()
    )
    marked = 0
    for start in range(0, len(event_ids), _NO_SHOW_CHUNK):
        chunk = event_ids[start : start + _NO_SHOW_CHUNK]
        with transaction.atomic():
            locked = list(
                Event.objects.select_for_update()
                .filter(pk__in=chunk, ends_at__lte=now)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            marked += Booking.objects.filter(event_id__in=locked, status=Booking.Status.CONFIRMED).update(
                status=Booking.Status.NO_SHOW
            )
    return marked


# --- reads for the event page -------------------------------------------------------------------


_READ_MINE = object()


def booking_action(
    *, user, event: Event, now: datetime.datetime | None = None, mine: Booking | None | object = _READ_MINE
) -> BookingAction:
    """What the event page's one button should say and whether it works, changing nothing.

    ``mine``: the person's active booking of the event when the caller has read it already
    (None: they have none; a waitlisted one may carry its ``queue_position``); read here
    otherwise.
    """
    now = now or timezone.now()
    if event.status == Event.Status.CANCELLED:
        return BookingAction("cancelled", _("活动已取消"), False, _("该活动已取消。"))
    if now >= event.ends_at:
        return BookingAction("past", _("活动已结束"), False, _("该活动已结束。"))
    if not (user and user.is_authenticated):
        return BookingAction("login", _("登录后预约"), True, _("请先登录再预约。"))
    if mine is _READ_MINE:
        mine = (
            Booking.objects.filter(event_id=event.pk, user_id=user.pk, status__in=Booking.ACTIVE)
            .order_by("-created_at")
            .first()
        )
    if mine is not None:
        if mine.status == Booking.Status.WAITLISTED:
            position = getattr(mine, "queue_position", None) or waitlist_position(mine)
            return BookingAction(
                "booked",
                _("候补中（第%(n)s位）") % {"n": position},
                False,
                _("有人取消时，将按候补顺序自动为您确认。"),
            )
        return BookingAction("booked", _("已预约"), False, _("您已预约该活动，可在“我的预约”中取消。"))
    if event.status == Event.Status.DRAFT:
        return BookingAction("not_open", _("尚未发布"), False, _("该活动尚未发布。"))
    refusal = _refusal_to_book(event, user, now)
    if refusal is not None:
        kind = {
            "booking_not_open": "not_open",
            "booking_closed": "closed",
            "members_only": "members_only",
            "employees_only": "employees_only",
        }[refusal.code]
        labels = {
            "not_open": _("报名未开始"),
            "closed": _("报名已截止"),
            "members_only": _("仅限党员"),
            "employees_only": _("面向楼宇白领"),
        }
        return BookingAction(kind, labels[kind], False, refusal.message)
    if event.confirmed_count < event.capacity:
        return BookingAction(
            "book",
            _("立即预约"),
            True,
            _("剩余%(n)s个名额。") % {"n": event.capacity - event.confirmed_count},
        )
    if event.waitlist_count < event.waitlist_limit:
        return BookingAction(
            "waitlist",
            _("加入候补"),
            True,
            _("名额已满，目前有%(n)s人候补；有人取消时按先后顺序递补。") % {"n": event.waitlist_count},
        )
    return BookingAction("full", _("名额已满"), False, _("名额已满，候补人数也已达上限。"))


@dataclasses.dataclass(frozen=True)
class CancelAction:
    """Whether the booker's "cancel" button works now, and if not, why (shown beside it)."""

    enabled: bool
    reason: str


def cancel_action(*, booking: Booking, now: datetime.datetime | None = None) -> CancelAction:
    """What the booker's cancel button says, by the same rule as ``cancel_booking``, changing nothing.

    A booking that is no longer active shows no reason (there is nothing to cancel).
    """
    now = now or timezone.now()
    if booking.status not in Booking.ACTIVE:
        return CancelAction(False, "")
    refusal = _refusal_to_cancel(booking, booking.event, now)
    return CancelAction(refusal is None, "" if refusal is None else str(refusal.message))
