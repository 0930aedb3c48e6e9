"""The employee portal: browse and book events, my bookings, calendar files, check-in, stations.

Thin views: reads come from ``services.selectors``, writes go through
``services.booking`` and ``services.reservations``; a ``BookingError`` (or
``ReservationError``) becomes a message with its exact text, never a 500.
"""

from __future__ import annotations

import datetime
import functools
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buildings.models import Street
from core import punctuation
from core.forms import parse_id
from core.notifications.selectors import unread_count
from core.scoping import can_view_confidential, has_staff_scope, scope_queryset
from members.selectors import user_for_calendar_token

from . import booking as engine
from . import pagecache, reservations, selectors
from .calendar import booking_ics, event_location, feed_ics
from .filtersets import EventFilterSet, ServiceStationFilterSet
from .forms import CheckInForm, ReservationRequestForm
from .models import Booking, Event

EVENTS_PER_PAGE = 12
BOOKINGS_PER_PAGE = 20
STATIONS_PER_PAGE = 20


def _querystring_without(request: HttpRequest, *keys: str) -> str:
    params = request.GET.copy()
    for key in keys:
        params.pop(key, None)
    return params.urlencode()


#: Parameters that belong to a filter shown as another one's part (removed with it).
_FILTER_COMPANIONS = {"building": ("building_text",)}


def _active_filters(request: HttpRequest, filterset) -> list[tuple[str, str]]:
    """Each filter in use as (label, the list's address without it): shown above the results,
    each removable on its own, while the form itself stays folded away."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    chips = []
    for name, field in filterset.form.fields.items():
        value = filterset.form.cleaned_data.get(name)
        if value in (None, "", False, [], ()):
            continue
        if isinstance(value, bool):
            text = str(field.label)
        else:
            if isinstance(value, datetime.date):
                shown = value.isoformat()
            elif getattr(field, "choices", None) is not None and not hasattr(value, "pk"):
                shown = str(dict(field.choices).get(value, value))
            elif hasattr(field, "label_from_instance"):
                shown = field.label_from_instance(value)
            else:
                shown = str(value)
            text = f"{field.label}{punctuation.colon()}{shown}"
        url = reverse("portal:event_list")
        query = _querystring_without(request, "page", name, *_FILTER_COMPANIONS.get(name, ()))
        chips.append((text, f"{url}?{query}" if query else url))
    return chips


def _local(dt: datetime.datetime) -> str:
    return date_format(timezone.localtime(dt), "SHORT_DATETIME_FORMAT")


# --- Browse ---------------------------------------------------------------------------------
#
# The event list and the event page are what people refresh in a rush. Their shared content
# comes from the cache (services.pagecache: a shell keyed by what it shows); the seats and the
# person's own state are filled in from the one query that reads the events with the person's
# booking (selectors.with_my_booking). Both answer conditional requests (ETag / 304) computed
# from the same values, so a refresh that would show the same page is answered before anything
# is rendered.

_SEATS = pagecache.marker("seats")
_ACTION = pagecache.marker("action")
_LIST_PARAMS = {"page"}  # the unfiltered list (any page) keeps its rows in the cache
_MAX_CACHED_PAGE = 1000


def _personal(request: HttpRequest, bell: int | None) -> tuple:
    """What else a page shows of the person, for its ETag: who, their bell, their CSRF secret
    (the forms' tokens), the language and the address."""
    user = request.user
    return (
        user.pk,
        getattr(user, "party_member_id", None),
        getattr(user, "person_type", None),
        bell,
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        translation.get_language(),
        request.get_full_path(),
    )


def _bell(request: HttpRequest) -> int | None:
    return unread_count(user=request.user) if request.user.is_authenticated else None


def _etag(*values) -> str:
    return f'W/"{pagecache.digest(values)}"'


def _not_modified(request: HttpRequest, etag: str) -> bool:
    """The browser holds this very page, and no message waits to be shown on it."""
    held = request.headers.get("If-None-Match", "")
    if not held or len(messages.get_messages(request)):
        return False
    return etag in {tag.strip() for tag in held.split(",")}


def _conditional(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    # Private (it shows the person), and checked again on every view.
    response["Cache-Control"] = "private, no-cache"
    return response


def _not_modified_response(etag: str) -> HttpResponse:
    return _conditional(HttpResponseNotModified(), etag)


@functools.lru_cache(maxsize=4096)
def _card_seats(language: str, seats_left: int, capacity: int, waitlist_count: int) -> str:
    """A card's seats line: a pure function of its numbers (and the language), rendered once each."""
    event = SimpleNamespace(seats_left=seats_left, capacity=capacity, waitlist_count=waitlist_count)
    with translation.override(language):
        return render_to_string("portal/_card_seats.html", {"event": event})


@functools.lru_cache(maxsize=64)
def _card_mine(language: str, status: str | None) -> str:
    mine = SimpleNamespace(status=status) if status else None
    with translation.override(language):
        return render_to_string("portal/_card_mine.html", {"my_booking": mine})


@functools.lru_cache(maxsize=1024)
def _event_seats(
    language: str,
    timezone_name: str,
    over: bool,
    seats_left: int,
    capacity: int,
    waitlist_count: int,
    waitlist_limit: int,
    opens: datetime.datetime,
    closes: datetime.datetime,
    deadline: datetime.datetime,
) -> str:
    """The event page's seats box: a pure function of these values, rendered once each (a refresh
    in a rush shows the same numbers again and again)."""
    seats = SimpleNamespace(
        seats_left=seats_left,
        capacity=capacity,
        waitlist_count=waitlist_count,
        waitlist_limit=waitlist_limit,
        booking_opens_at=opens,
        booking_closes_at=closes,
        cancel_deadline=deadline,
    )
    # Its own names ("seats", "over"): not the page's "event" and "action" (tests read those).
    with translation.override(language), timezone.override(timezone_name):
        return render_to_string("portal/_event_seats.html", {"seats": seats, "over": over})


def _card_values(event) -> tuple:
    """What a card's shell shows of an event (its key); seats and "booked" are filled in."""
    station = event.space.station
    return (
        event.pk,
        event.kind,
        event.audience,
        event.title,
        event.starts_at,
        event.ends_at,
        station.owner_name,
        station.floor,
        station.name,
        event.space.name,
        station.street.name,
    )


def _list_rows(request: HttpRequest, version: str | None):
    """The unfiltered list's page from the cache: (count, page number, events) or None."""
    page_param = request.GET.get("page", "")
    if version is None or not (
        page_param == "" or (page_param.isdigit() and 0 < int(page_param) <= _MAX_CACHED_PAGE)
    ):
        return None
    entry = pagecache.get(f"{pagecache.PREFIX}:list:{version}:{page_param}")
    if entry is None:
        return None
    count, number, ids, valid_until = entry
    now = timezone.now()
    if valid_until is not None and now >= valid_until:
        return None  # an event of the list has ended since
    found = selectors.events_by_ids(ids, user=request.user)
    events = [found.get(pk) for pk in ids]
    if any(e is None or e.status != Event.Status.PUBLISHED or e.ends_at <= now for e in events):
        return None  # belt and braces: the rows must still be listed now
    return count, number, events


def _store_list_rows(request: HttpRequest, version: str, page) -> None:
    page_param = request.GET.get("page", "")
    if not (page_param == "" or (page_param.isdigit() and 0 < int(page_param) <= _MAX_CACHED_PAGE)):
        return
    first_end = selectors.upcoming_event_list().aggregate(first=Min("ends_at"))["first"]
    entry = (page.paginator.count, page.number, [e.pk for e in page.object_list], first_end)
    pagecache.put(f"{pagecache.PREFIX}:list:{version}:{page_param}", entry, pagecache.IDS_TIMEOUT)


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    language = translation.get_language()
    shareable = set(request.GET) <= _LIST_PARAMS
    versions = pagecache.versions() if shareable else None
    cached = _list_rows(request, versions[0]) if versions else None

    def make_filterset() -> EventFilterSet:
        return EventFilterSet(request.GET or None, queryset=selectors.upcoming_event_list())

    if cached is not None:
        count, number, events = cached
        page = Paginator(range(count), EVENTS_PER_PAGE).page(number)
        # Served from the cache: the form and its queryset are not needed (the shell is kept);
        # built only if something reads the context (tests).
        filterset = SimpleLazyObject(make_filterset)
    else:
        filterset = make_filterset()
        qs = selectors.with_my_booking(filterset.qs, user=request.user)
        page = Paginator(qs, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
        events = list(page.object_list)
        if versions:
            _store_list_rows(request, versions[0], page)
    cards = [(e, pagecache.marker("mine", e.pk), pagecache.marker("seats", e.pk)) for e in events]
    querystring = _querystring_without(request, "page")
    filtered = any(v for k, v in request.GET.items() if k not in {"page", "building_text"})
    shell_values = (
        language,
        timezone.get_current_timezone_name(),
        versions[1] if versions else None,
        bool(request.GET),
        querystring,
        page.number,
        page.paginator.num_pages,
        page.paginator.count,
        [_card_values(e) for e in events],
    )
    key = pagecache.shell_key("list", shell_values)
    dynamic = [(e.pk, e.seats_left, e.capacity, e.waitlist_count, e.my_booking_status) for e in events]
    bell = _bell(request)
    etag = _etag(key, dynamic, _personal(request, bell))
    if _not_modified(request, etag):
        return _not_modified_response(etag)

    def render_shell() -> str:
        form = make_filterset() if cached is not None else filterset  # the real one, not the proxy
        return render_to_string(
            "portal/_event_list_shell.html",
            {
                "filter": form,
                "page": page,
                "shell_cards": cards,
                "querystring": querystring,
                "filtered": filtered,
                "active_filters": _active_filters(request, form) if filtered else [],
            },
        )

    # Only the unfiltered list's shell is kept (its form is the same for everyone); a filtered
    # one is rendered for this request.
    shell = pagecache.cached_shell(key, render_shell) if versions else render_shell()
    parts = {}
    for event in events:
        parts[pagecache.marker("mine", event.pk)] = _card_mine(language, event.my_booking_status)
        parts[pagecache.marker("seats", event.pk)] = _card_seats(
            language, event.seats_left, event.capacity, event.waitlist_count
        )
    content = pagecache.fill(shell, parts)
    response = render(
        request,
        "portal/event_list.html",
        {
            "content": content,
            "notification_unread_count": bell,
            # What the page shows, for whoever reads the context (tests); the template needs only content.
            "filter": filterset,
            "page": page,
            "cards": [(e, selectors.my_booking(e)) for e in events],
        },
    )
    return _conditional(response, etag)


def _event_shell_values(event, language: str) -> tuple:
    """Everything the event page's shell shows (its key)."""
    station = event.space.station
    organizer = event.organizer
    return (
        language,
        timezone.get_current_timezone_name(),
        event.pk,
        event.title,
        event.kind,
        event.audience,
        event.status,
        event.starts_at,
        event.ends_at,
        event.description,
        event.speaker,
        organizer.pk if organizer else None,
        organizer.name if organizer else None,
        station.pk,
        station.name,
        station.floor,
        station.owner_name,
        station.address,
        event.space.name,
    )


@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.portal_event(pk=pk, user=request.user)
    if event is None:
        raise Http404(_("活动不存在或尚未发布。"))
    mine = selectors.my_booking(event, position=True) if request.user.is_authenticated else None
    action = engine.booking_action(user=request.user, event=event, mine=mine)
    # No active booking: the person's earlier one (attended, cancelled...) is still theirs to see.
    last = selectors.my_last_booking(user=request.user, event=event) if mine is None else None
    language = translation.get_language()
    key = pagecache.shell_key("event", _event_shell_values(event, language))
    bell = _bell(request)
    etag = _etag(
        key,
        (event.capacity, event.confirmed_count, event.waitlist_count, event.waitlist_limit),
        (event.booking_opens_at, event.booking_closes_at, event.cancel_deadline),
        (action.kind, str(action.label), action.enabled, str(action.reason)),
        (mine.pk, mine.status, mine.queue_position) if mine else None,
        (last.pk, last.status) if last else None,
        _personal(request, bell),
    )
    if _not_modified(request, etag):
        return _not_modified_response(etag)
    shell = pagecache.cached_shell(
        key,
        lambda: render_to_string(
            "portal/_event_detail_shell.html",
            {"event": event, "seats_marker": _SEATS, "action_marker": _ACTION},
        ),
    )
    box = {"event": event, "action": action, "my_booking": mine, "last_booking": last}
    content = pagecache.fill(
        shell,
        {
            _SEATS: _event_seats(
                language,
                timezone.get_current_timezone_name(),
                action.kind in ("past", "cancelled"),
                event.seats_left,
                event.capacity,
                event.waitlist_count,
                event.waitlist_limit,
                event.booking_opens_at,
                event.booking_closes_at,
                event.cancel_deadline,
            ),
            _ACTION: render_to_string("portal/_event_action.html", box, request=request),
        },
    )
    response = render(
        request,
        "portal/event_detail.html",
        {
            "event": event,
            "content": content,
            "notification_unread_count": bell,
            "action": action,
            "my_booking": mine,
        },
    )
    return _conditional(response, etag)


@require_POST
def event_book(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.portal_event(pk=pk)
    if event is None:
        raise Http404(_("活动不存在或尚未发布。"))
    if not request.user.is_authenticated:
        messages.info(request, _("请先登录，再预约活动。"))
        return redirect(
            f"{reverse('login')}?{urlencode({'next': reverse('portal:event_detail', args=[pk])})}"
        )
    try:
        booking = engine.book_event(user=request.user, event=event)
    except engine.BookingError as exc:
        messages.error(request, exc.message)
        return redirect("portal:event_detail", pk=pk)
    if booking.status == Booking.Status.WAITLISTED:
        position = selectors.waitlist_position(booking)
        messages.success(
            request,
            _("名额已满，您已加入候补，目前排第%(n)s位。有人取消时将按顺序为您递补。") % {"n": position},
        )
    else:
        messages.success(request, _("预约成功！请在活动开始时出示签到二维码。"))
    return redirect("portal:booking_detail", pk=booking.pk)


# --- My bookings ----------------------------------------------------------------------------


def _cancel_state(booking: Booking, now: datetime.datetime) -> tuple[bool, str]:
    action = engine.cancel_action(booking=booking, now=now)
    return action.enabled, action.reason


@login_required
@require_GET
def my_bookings(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    upcoming_page = Paginator(
        selectors.user_booking_list(user=request.user, past=False, now=now), BOOKINGS_PER_PAGE
    ).get_page(request.GET.get("page"))
    past_page = Paginator(
        selectors.user_booking_list(user=request.user, past=True, now=now), BOOKINGS_PER_PAGE
    ).get_page(request.GET.get("past_page"))
    upcoming = [(b, *_cancel_state(b, now)) for b in upcoming_page.object_list]
    return render(
        request,
        "portal/my_bookings.html",
        {
            "upcoming": upcoming,
            "upcoming_page": upcoming_page,
            "past_page": past_page,
            # each list's page links keep the other list on its page
            "upcoming_query": urlencode({"past_page": past_page.number}) if past_page.number > 1 else "",
            "past_query": urlencode({"page": upcoming_page.number}) if upcoming_page.number > 1 else "",
            "now": now,
        },
    )


def _own_booking(request: HttpRequest, pk: int) -> Booking:
    booking = selectors.user_booking(user=request.user, pk=pk)
    if booking is None:
        raise Http404(_("预约不存在。"))
    return booking


@login_required
@require_GET
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _own_booking(request, pk)
    now = timezone.now()
    can_cancel, cancel_reason = _cancel_state(booking, now)
    code = qr = ""
    rebook = current = None
    if booking.status == Booking.Status.CANCELLED:
        # Booking again goes through the engine like any booking; offered while it would work.
        action = engine.booking_action(user=request.user, event=booking.event, now=now)
        if action.enabled and action.kind in ("book", "waitlist"):
            rebook = action
        elif action.kind == "booked":
            current = selectors.active_booking_map(user=request.user, events=[booking.event]).get(
                booking.event_id
            )
    if booking.status == Booking.Status.CONFIRMED and booking.event.ends_at > now:
        code = engine.typed_checkin_code(booking)
        qr = mark_safe(engine.checkin_qr_svg(booking))  # segno's own SVG markup, no user input in it
    return render(
        request,
        "portal/booking_detail.html",
        {
            "booking": booking,
            "event": booking.event,
            "location": event_location(booking.event),
            "can_cancel": can_cancel,
            "cancel_reason": cancel_reason,
            "code": code,
            "qr": qr,
            "rebook": rebook,
            "current": current,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks once (a page that works without JavaScript); POST cancels through the engine."""
    booking = _own_booking(request, pk)
    if request.method == "GET":
        can_cancel, cancel_reason = _cancel_state(booking, timezone.now())
        return render(
            request,
            "portal/booking_cancel.html",
            {
                "booking": booking,
                "event": booking.event,
                "location": event_location(booking.event),
                "can_cancel": can_cancel,
                "cancel_reason": cancel_reason,
            },
        )
    try:
        engine.cancel_booking(booking=booking, by=request.user)
    except engine.BookingError as exc:
        messages.error(request, exc.message)
        return redirect("portal:booking_detail", pk=pk)
    messages.success(request, _("已取消“%(title)s”的预约。") % {"title": booking.event.title})
    return redirect("portal:my_bookings")


def _calendar_response(body: bytes, *, filename: str | None) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=0, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_GET
def booking_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _own_booking(request, pk)
    return _calendar_response(
        booking_ics(booking, language=request.user.language), filename=f"booking-{booking.pk}.ics"
    )


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's private feed, for Outlook/Apple/Google calendars; the token is the only key."""
    user = user_for_calendar_token(token)
    if user is None:
        raise Http404(_("订阅地址无效或已被重置。"))
    return _calendar_response(
        feed_ics(selectors.feed_bookings(user=user), language=user.language), filename=None
    )


# --- Check-in -------------------------------------------------------------------------------


def _require_staff_scope(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_staff and user.has_perm("services.change_booking") and has_staff_scope(user)):
        raise PermissionDenied(_("只有负责该服务站的工作人员可以签到。"))


def _booker_label(request: HttpRequest, booking: Booking) -> str:
    if booking.event.is_confidential and not can_view_confidential(request.user):
        return _("预约人信息保密")
    user = booking.user
    return user.display_name


@login_required
def checkin(request: HttpRequest) -> HttpResponse:
    """Staff scan or type a booking's code; the booking becomes attended (services.booking.check_in)."""
    _require_staff_scope(request)
    events = selectors.checkin_event_choices(user=request.user)
    initial_event = request.GET.get("event", "")
    form = CheckInForm(
        request.POST or None,
        event_queryset=events,
        initial={"event": parse_id(initial_event)},
    )
    if request.method == "POST" and "booking" in request.POST:
        return _checkin_from_roll(request, events)
    if request.method == "POST":
        if form.is_valid():
            event = form.cleaned_data["event"]
            try:
                booking = engine.check_in(code=form.cleaned_data["code"], event=event, by=request.user)
            except engine.BookingError as exc:
                messages.error(request, exc.message)
            else:
                booking = (
                    scope_queryset(Booking.objects.select_related("event", "user"), request.user)
                    .filter(pk=booking.pk)
                    .first()
                    or booking
                )
                messages.success(
                    request,
                    _("签到成功：%(who)s · %(title)s（%(time)s）")
                    % {
                        "who": _booker_label(request, booking),
                        "title": booking.event.title,
                        "time": _local(booking.checked_in_at or timezone.now()),
                    },
                )
                query = f"?{urlencode({'event': event.pk})}" if event else ""
                return redirect(reverse("portal:checkin") + query)
        elif "code" in form.errors:
            messages.error(request, _("请输入签到码。"))
        else:
            messages.error(request, form.errors["event"][0])
    selected = None
    event_id = parse_id(str(form["event"].value() or ""))
    if event_id is not None:
        selected = events.filter(pk=event_id).first()
    attended = waiting = 0
    roll = None
    if selected is not None:
        attended = selected.bookings.filter(status=Booking.Status.ATTENDED).count()
        # confirmed_count counts every seat taken, checked in or not.
        waiting = max(selected.confirmed_count - attended, 0)
        # Names of a confidential event's bookers are for those who may see them only.
        if not selected.is_confidential or can_view_confidential(request.user):
            roll = list(selectors.checkin_roll(event=selected))
    return render(
        request,
        "portal/checkin.html",
        {"form": form, "selected": selected, "attended": attended, "waiting": waiting, "roll": roll},
    )


def _checkin_from_roll(request: HttpRequest, events) -> HttpResponse:
    """Staff mark a person attended from the event's list (they came without their phone)."""
    booking_id = parse_id(request.POST.get("booking", ""))
    booking = None
    if booking_id is not None:
        booking = (
            scope_queryset(Booking.objects.select_related("event", "user"), request.user)
            .filter(pk=booking_id)
            .first()
        )
    if booking is None:
        messages.error(request, _("预约不存在。"))
        return redirect("portal:checkin")
    query = f"?{urlencode({'event': booking.event_id})}"
    try:
        booking = engine.check_in_booking(booking=booking, by=request.user)
    except engine.BookingError as exc:
        messages.error(request, exc.message)
    else:
        booking = Booking.objects.select_related("event", "user").get(pk=booking.pk)
        messages.success(
            request,
            _("签到成功：%(who)s · %(title)s（%(time)s）")
            % {
                "who": _booker_label(request, booking),
                "title": booking.event.title,
                "time": _local(booking.checked_in_at or timezone.now()),
            },
        )
    return redirect(reverse("portal:checkin") + query)


# --- Stations and space reservations --------------------------------------------------------


@require_GET
def station_list(request: HttpRequest) -> HttpResponse:
    """Open stations, by street: through the stations' FilterSet, the same as the API's."""
    filterset = ServiceStationFilterSet(request.GET, queryset=selectors.station_list(), request=request)
    chosen = filterset.form.cleaned_data.get("street") if filterset.is_valid() else None
    street_id = chosen[0] if chosen else None
    page = Paginator(filterset.qs, STATIONS_PER_PAGE).get_page(request.GET.get("page"))
    streets = Street.objects.select_related("district").order_by("district__code", "name")
    return render(
        request,
        "portal/station_list.html",
        {
            "page": page,
            "streets": streets,
            "street_id": street_id,
            "querystring": _querystring_without(request, "page"),
        },
    )


@require_GET
def station_detail(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.station_detail(pk=pk)
    if station is None:
        raise Http404(_("服务站不存在。"))
    today = timezone.localdate()
    week_param = request.GET.get("week", "")
    week = datetime.timedelta(days=7)
    try:
        day = datetime.date.fromisoformat(week_param) if week_param else today
    except ValueError:
        messages.error(request, _("日期格式应为 年-月-日，如 %(example)s；已显示本周。") % {"example": today})
        day = today
    try:
        # The week shown, and the weeks behind the two arrows with theirs, must be real dates.
        selectors.week_start_for(day) - week
        selectors.week_start_for(day) + 2 * week
    except OverflowError:
        messages.error(request, _("日期超出可显示的范围；已显示本周。"))
        day = today
    week_start = selectors.week_start_for(day)
    days, spaces = selectors.station_week(station=station, week_start=week_start)
    return render(
        request,
        "portal/station_detail.html",
        {
            "station": station,
            "days": days,
            "spaces": spaces,
            "today": today,
            "week_start": week_start,
            "prev_week": week_start - week,
            "next_week": week_start + week,
            "can_reserve": selectors.secretary_organizations(user=request.user).exists()
            if request.user.is_authenticated
            else False,
        },
    )


@login_required
def reservation_request(request: HttpRequest, pk: int) -> HttpResponse:
    station = selectors.station_detail(pk=pk)
    if station is None:
        raise Http404(_("服务站不存在。"))
    organizations = selectors.secretary_organizations(user=request.user)
    if not organizations.exists():
        return render(request, "portal/reservation_not_allowed.html", {"station": station}, status=403)
    form = ReservationRequestForm(
        request.POST or None,
        organizations=organizations,
        station=station,
        initial={"space": request.GET.get("space")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reservation = reservations.request_reservation(
                user=request.user,
                organization=data["organization"],
                space=data["space"],
                purpose=data["purpose"],
                attendees=data["attendees"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
            )
        except reservations.ReservationError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("场地预约申请已提交（%(space)s，%(time)s），请等待服务站审批。")
                % {"space": reservation.space.name, "time": _local(reservation.starts_at)},
            )
            return redirect("portal:my_reservations")
    return render(request, "portal/reservation_form.html", {"station": station, "form": form})


@login_required
@require_POST
def reservation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw a request, or give back an approved slot (services.reservations.cancel_reservation)."""
    reservation = selectors.reservation_list(user=request.user).filter(pk=pk).first()
    if reservation is None:
        raise Http404(_("场地预约不存在。"))
    try:
        reservations.cancel_reservation(reservation=reservation, by=request.user)
    except reservations.ReservationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤销场地预约：%(purpose)s。") % {"purpose": reservation.purpose})
    return redirect("portal:my_reservations")


@login_required
@require_GET
def my_reservations(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.user_reservation_list(user=request.user), BOOKINGS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/my_reservations.html",
        {
            "page": page,
            "is_secretary": selectors.secretary_organizations(user=request.user).exists(),
            "now": timezone.now(),
        },
    )


@login_required
@require_GET
def volunteer_record(request: HttpRequest) -> HttpResponse:
    """The person's own volunteer hours per year and the list behind them; ``?print=1`` for paper."""
    years, rows = selectors.volunteer_record(user=request.user)
    total = sum((y["hours"] for y in years), start=0)
    template = (
        "portal/volunteer_record_print.html" if request.GET.get("print") else "portal/volunteer_record.html"
    )
    response = render(
        request,
        template,
        {"years": years, "rows": rows, "total": total, "printed_on": timezone.localdate()},
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def partner_members(request: HttpRequest) -> HttpResponse:
    """双报到 for a partner's staff: the members registered with their partner and the hours
    they earned at its places. Nobody else has a partner here: 404."""
    if not (request.user.is_staff and getattr(request.user, "partner_id", None)):
        raise Http404
    rows = selectors.partner_registered_members(user=request.user)
    page = Paginator(rows, BOOKINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/partner_members.html", {"page": page, "partner": request.user.partner})
