"""The employee portal pages (services/views.py): browse, book, my bookings, check-in, stations.

The views are thin; these tests check what a person sees and that every action
ends in a message, that other people's bookings are invisible, and that the
lists keep a fixed number of queries as rows grow.
"""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from services import booking as engine
from services.models import Booking, Event, SpaceReservation
from tests.buildings.factories import BuildingFactory
from tests.members.factories import (
    PartyMemberFactory,
    PartyOrganizationFactory,
    SocialWorkerFactory,
    UserFactory,
)
from tests.services.factories import (
    BookingFactory,
    EventFactory,
    ServiceStationFactory,
    SpaceFactory,
    SpaceReservationFactory,
)

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)
LIST = reverse("portal:event_list")


def shift(event: Event, delta: datetime.timedelta) -> Event:
    fields = ("starts_at", "ends_at", "booking_opens_at", "booking_closes_at", "cancel_deadline")
    Event.objects.filter(pk=event.pk).update(**{f: getattr(event, f) + delta for f in fields})
    event.refresh_from_db()
    return event


def event_in(street, **kwargs) -> Event:
    return EventFactory(space__station__building__street=street, **kwargs)


def card_titles(response) -> list[str]:
    return [event.title for event, _ in response.context["cards"]]


# --- Browse -------------------------------------------------------------------------------------


def test_list_shows_upcoming_published_events_only(client):
    upcoming = EventFactory(title="即将开始的党课")
    EventFactory(title="草稿活动", status=Event.Status.DRAFT)
    EventFactory(title="已取消的活动", status=Event.Status.CANCELLED)
    shift(EventFactory(title="上周的活动"), -7 * D)
    response = client.get(LIST)
    assert response.status_code == 200
    assert card_titles(response) == [upcoming.title]


def test_card_shows_time_place_kind_seats_and_waitlist(client):
    station = ServiceStationFactory(name="南京西路党群服务站", floor=6, building__name="静安嘉里中心")
    event = EventFactory(
        space__station=station, space__name="多功能厅", capacity=2, kind=Event.Kind.YOUTH_SOCIAL
    )
    engine.book_event(user=UserFactory(), event=event)
    engine.book_event(user=UserFactory(), event=event)
    engine.book_event(user=UserFactory(), event=event)  # waitlisted
    html = client.get(LIST).content.decode()
    assert "静安嘉里中心 · 6层 南京西路党群服务站 · 多功能厅" in html
    assert "青年联谊" in html
    assert "已满（共 2 个名额）" in html
    assert "候补 1 人" in html
    start = timezone.localtime(event.starts_at)
    assert f"{start:%H:%M}" in html


def test_cards_are_soonest_first_and_paginated(client):
    events = [EventFactory(starts_at=timezone.now() + (i + 1) * D) for i in range(14)]
    page1 = client.get(LIST)
    assert card_titles(page1) == [e.title for e in events[:12]]
    page2 = client.get(LIST, {"page": 2})
    assert card_titles(page2) == [e.title for e in events[12:]]
    assert client.get(LIST, {"page": "abc"}).status_code == 200


def test_filter_by_street_building_kind_and_seats(client, street_a, street_b):
    a = event_in(street_a, title="A党课")
    b = event_in(street_b, title="B讲座", kind=Event.Kind.SAFETY_LECTURE)
    full = event_in(street_b, title="B已满", capacity=1, kind=Event.Kind.SAFETY_LECTURE)
    engine.book_event(user=UserFactory(), event=full)
    assert card_titles(client.get(LIST, {"street": street_a.pk})) == [a.title]
    assert set(card_titles(client.get(LIST, {"kind": "safety_lecture"}))) == {b.title, full.title}
    assert card_titles(client.get(LIST, {"kind": "safety_lecture", "has_seats": "on"})) == [b.title]
    building = b.space.station.building
    assert card_titles(client.get(LIST, {"building": building.pk})) == [b.title]
    # Without JavaScript the typed building name is resolved on the server.
    assert card_titles(client.get(LIST, {"building": "", "building_text": building.name})) == [b.title]


def test_filter_by_date_range_uses_shanghai_days(client):
    tz = timezone.get_current_timezone()
    day = timezone.localdate() + 5 * D
    early = EventFactory(starts_at=datetime.datetime.combine(day, datetime.time(0, 30), tzinfo=tz))
    late = EventFactory(starts_at=datetime.datetime.combine(day + D, datetime.time(23, 0), tzinfo=tz))
    assert card_titles(client.get(LIST, {"date_from": day.isoformat(), "date_to": day.isoformat()})) == [
        early.title
    ]
    assert card_titles(client.get(LIST, {"date_from": (day + D).isoformat()})) == [late.title]


def test_keyword_filter(client):
    EventFactory(title="消防安全讲座")
    EventFactory(title="青年读书会")
    assert card_titles(client.get(LIST, {"q": "消防"})) == ["消防安全讲座"]


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "not-a-date"},
        {"street": "abc"},
        {"street": "999999"},
        {"building": "999999"},
        {"building_text": "不存在的大厦"},
        {"kind": "<script>"},
        {"date_from": "2030-01-10", "date_to": "2030-01-01"},
    ],
)
def test_bad_filter_parameters_show_errors_not_500(client, params):
    EventFactory()
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert response.context["filter"].errors
    assert "部分筛选条件有误" in response.content.decode()


def test_end_date_before_start_date_is_explained(client):
    response = client.get(LIST, {"date_from": "2030-01-10", "date_to": "2030-01-01"})
    assert "结束日期不能早于开始日期。" in response.content.decode()


def test_empty_states_say_what_to_do_next(client):
    html = client.get(LIST).content.decode()
    assert "近期还没有发布的活动。" in html and reverse("portal:station_list") in html
    EventFactory()
    html = client.get(LIST, {"q": "没有这个活动"}).content.decode()
    assert "没有符合条件的活动。" in html and "清除全部筛选条件" in html


def test_title_with_script_is_shown_as_text(client):
    event = EventFactory(title="<script>alert(1)</script>党课", description="<img src=x onerror=alert(1)>")
    for url in (LIST, reverse("portal:event_detail", args=[event.pk])):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;党课" in html
        assert "<img src=x" not in html


def _make_events(n: int, users) -> None:
    for _ in range(n):
        event = EventFactory()
        for user in users:
            BookingFactory(event=event, user=user)


def test_event_list_query_count_does_not_grow_with_events(client, django_assert_max_num_queries):
    user = UserFactory()
    _make_events(3, [user])
    street_id = EventFactory().space.station.building.street_id
    client.force_login(user)
    # session, user, street (filter), count, page, my bookings on the page, streets (form)
    with django_assert_max_num_queries(8) as few:
        client.get(LIST, {"street": street_id})
    with django_assert_max_num_queries(7):
        client.get(LIST)
    _make_events(20, [user, UserFactory()])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(LIST, {"street": street_id})
    with django_assert_max_num_queries(7):
        response = client.get(LIST)
    assert len(response.context["cards"]) == 12


def test_anonymous_event_list_query_count(client, django_assert_max_num_queries):
    _make_events(15, [])
    with django_assert_max_num_queries(4):
        client.get(LIST)


def test_cards_mark_my_bookings(client):
    user = UserFactory()
    mine = EventFactory(capacity=1)
    engine.book_event(user=user, event=mine)
    waiting = EventFactory(capacity=1)
    engine.book_event(user=UserFactory(), event=waiting)
    engine.book_event(user=user, event=waiting)
    EventFactory()
    client.force_login(user)
    html = client.get(LIST).content.decode()
    assert html.count("我已预约") == 1
    assert html.count("我在候补") == 1


# --- Event page and its one button ---------------------------------------------------------------


def button(response) -> tuple[str, str]:
    action = response.context["action"]
    return action.kind, str(action.label)


def test_event_page_has_everything_to_decide(client):
    event = EventFactory(speaker="王教授", organizer=PartyOrganizationFactory(name="嘉里中心联合党委"))
    html = client.get(reverse("portal:event_detail", args=[event.pk])).content.decode()
    for text in ("王教授", "嘉里中心联合党委", event.space.station.building.address, "取消截止", "报名时间"):
        assert text in html


def test_event_page_button_follows_the_engine(client):
    url = lambda e: reverse("portal:event_detail", args=[e.pk])  # noqa: E731
    event = EventFactory(capacity=1)
    assert button(client.get(url(event))) == ("login", "登录后预约")
    user = UserFactory()
    client.force_login(user)
    assert button(client.get(url(event))) == ("book", "立即预约")
    engine.book_event(user=UserFactory(), event=event)
    response = client.get(url(event))
    assert button(response) == ("waitlist", "加入候补")
    assert 'data-action="waitlist"' in response.content.decode()
    not_open = EventFactory(booking_opens_at=timezone.now() + D, starts_at=timezone.now() + 3 * D)
    response = client.get(url(not_open))
    assert button(response) == ("not_open", "报名未开始")
    assert "disabled" in response.content.decode()
    members = EventFactory(audience=Event.Audience.PARTY_MEMBERS)
    response = client.get(url(members))
    assert button(response) == ("members_only", "仅限党员")
    assert reverse("member_link_request") in response.content.decode()


def test_draft_event_page_is_404_and_cancelled_page_says_so(client):
    assert (
        client.get(reverse("portal:event_detail", args=[EventFactory(status="draft").pk])).status_code == 404
    )
    cancelled = EventFactory(status=Event.Status.CANCELLED)
    response = client.get(reverse("portal:event_detail", args=[cancelled.pk]))
    assert button(response) == ("cancelled", "活动已取消")


# --- Booking -------------------------------------------------------------------------------------


def test_booking_confirms_and_shows_the_qr_code(client):
    user = UserFactory()
    event = EventFactory()
    client.force_login(user)
    response = client.post(reverse("portal:event_book", args=[event.pk]), follow=True)
    booking = Booking.objects.get(event=event, user=user)
    assert booking.status == Booking.Status.CONFIRMED
    assert response.redirect_chain[-1][0] == reverse("portal:booking_detail", args=[booking.pk])
    assert "预约成功！请在活动开始时出示签到二维码。" in response.content.decode()
    html = response.content.decode()
    assert 'class="qr"' in html and engine.typed_checkin_code(booking) in html


def test_full_event_puts_me_on_the_waitlist_with_my_position(client):
    event = EventFactory(capacity=1)
    engine.book_event(user=UserFactory(), event=event)
    engine.book_event(user=UserFactory(), event=event)
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("portal:event_book", args=[event.pk]), follow=True)
    booking = Booking.objects.get(event=event, user=user)
    assert booking.status == Booking.Status.WAITLISTED
    html = response.content.decode()
    assert "您已加入候补，目前排第2位" in html
    assert 'class="qr"' not in html  # no check-in code while waiting


def test_refused_booking_shows_the_engine_message_and_changes_nothing(client):
    event = shift(EventFactory(), -3 * D + 30 * datetime.timedelta(minutes=1))  # booking closed
    client.force_login(UserFactory())
    response = client.post(reverse("portal:event_book", args=[event.pk]), follow=True)
    closes = timezone.localtime(event.booking_closes_at).strftime("%Y-%m-%d %H:%M")
    assert f"报名已于 {closes} 截止。" in response.content.decode()
    assert not Booking.objects.filter(event=event).exists()


def test_booking_needs_login_and_post(client):
    event = EventFactory()
    response = client.post(reverse("portal:event_book", args=[event.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(UserFactory())
    assert client.get(reverse("portal:event_book", args=[event.pk])).status_code == 405
    assert not Booking.objects.exists()


# --- My bookings ---------------------------------------------------------------------------------


def test_my_bookings_lists_upcoming_and_past_with_status_and_position(client):
    user = UserFactory()
    confirmed = engine.book_event(user=user, event=EventFactory(title="确认的活动"))
    full = EventFactory(title="候补的活动", capacity=1)
    engine.book_event(user=UserFactory(), event=full)
    engine.book_event(user=UserFactory(), event=full)
    engine.book_event(user=user, event=full)
    past = shift(EventFactory(title="上月的活动"), -40 * D)
    BookingFactory(event=past, user=user, status=Booking.Status.ATTENDED, checked_in_at=past.starts_at)
    BookingFactory(event=EventFactory(title="别人的活动"))
    client.force_login(user)
    response = client.get(reverse("portal:my_bookings"))
    html = response.content.decode()
    assert [b.event.title for b, *_ in response.context["upcoming"]] == ["确认的活动", "候补的活动"]
    assert [b.event.title for b in response.context["past_page"].object_list] == ["上月的活动"]
    assert "候补中（第 2 位）" in html
    assert "已签到" in html
    assert "别人的活动" not in html
    assert reverse("portal:booking_calendar", args=[confirmed.pk]) in html


def test_my_bookings_pages_each_list_and_keeps_the_others_page(client):
    user = UserFactory()
    for n in range(21):
        BookingFactory(event=EventFactory(title=f"将来{n}"), user=user)
        past = shift(EventFactory(title=f"过去{n}"), -40 * D)
        BookingFactory(event=past, user=user, status=Booking.Status.NO_SHOW)
    client.force_login(user)
    html = client.get(reverse("portal:my_bookings"), {"page": 2, "past_page": 2}).content.decode()
    assert 'href="?past_page=2&amp;page=1"' in html  # upcoming: back to page 1, past stays on 2
    assert 'href="?page=2&amp;past_page=1"' in html  # past: back to page 1, upcoming stays on 2


def test_my_bookings_query_count_does_not_grow(client, django_assert_max_num_queries):
    user = UserFactory()
    for _ in range(2):
        event = EventFactory(capacity=1)
        engine.book_event(user=UserFactory(), event=event)
        engine.book_event(user=user, event=event)
    BookingFactory(event=shift(EventFactory(), -30 * D), user=user, status=Booking.Status.NO_SHOW)
    client.force_login(user)
    # session, user, notification bell, count + page of upcoming, count + page of past
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("portal:my_bookings"))
    for _ in range(15):
        event = EventFactory(capacity=1)
        engine.book_event(user=UserFactory(), event=event)
        engine.book_event(user=user, event=event)
        past = shift(EventFactory(), -30 * D)
        BookingFactory(event=past, user=user, status=Booking.Status.NO_SHOW)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("portal:my_bookings"))
    assert len(response.context["upcoming"]) == 17


def test_my_bookings_empty_state(client):
    client.force_login(UserFactory())
    html = client.get(reverse("portal:my_bookings")).content.decode()
    assert "您还没有即将参加的活动。" in html and "去看看近期活动" in html


def test_cancel_before_the_deadline(client):
    user = UserFactory()
    booking = engine.book_event(user=user, event=EventFactory())
    client.force_login(user)
    response = client.post(reverse("portal:booking_cancel", args=[booking.pk]), follow=True)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert f"已取消“{booking.event.title}”的预约。" in response.content.decode()


def test_cancel_after_the_deadline_is_disabled_with_the_reason(client):
    user = UserFactory()
    event = EventFactory()
    booking = engine.book_event(user=user, event=event)
    event = shift(event, -3 * D + 6 * H)  # starts in 6 hours; the deadline was 12 hours before
    client.force_login(user)
    html = client.get(reverse("portal:my_bookings")).content.decode()
    deadline = timezone.localtime(event.cancel_deadline).strftime("%H:%M")
    assert "已过取消截止时间" in html and deadline in html
    assert reverse("portal:booking_cancel", args=[booking.pk]) not in html
    # Posting anyway gets the engine's message and changes nothing.
    response = client.post(reverse("portal:booking_cancel", args=[booking.pk]), follow=True)
    assert "已过取消截止时间" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_other_peoples_bookings_are_invisible(client):
    booking = engine.book_event(user=UserFactory(), event=EventFactory())
    client.force_login(UserFactory())
    for name in ("portal:booking_detail", "portal:booking_calendar"):
        assert client.get(reverse(name, args=[booking.pk])).status_code == 404
    assert client.post(reverse("portal:booking_cancel", args=[booking.pk])).status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_my_pages_need_login(client):
    for name in ("portal:my_bookings", "portal:my_reservations", "portal:checkin"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- Check-in ------------------------------------------------------------------------------------


def started(street, **kwargs) -> Event:
    """An event in ``street`` that started ten minutes ago (check-in is open)."""
    start = timezone.now().replace(microsecond=0) - 10 * datetime.timedelta(minutes=1)
    return event_in(street, starts_at=start, **kwargs)


@pytest.fixture
def today_event(street_a):
    return started(street_a, title="今天的党课")


def _booked(event, user=None):
    """A confirmed booking made earlier (the booking window is closed now), counters in step."""
    booking = BookingFactory(event=event, user=user or UserFactory(first_name="张伟"))
    Event.objects.filter(pk=event.pk).update(
        confirmed_count=event.bookings.filter(status="confirmed").count()
    )
    return booking


def test_checkin_page_is_for_staff_in_scope(client, social_worker):
    client.force_login(UserFactory())
    assert client.get(reverse("portal:checkin")).status_code == 403
    client.force_login(social_worker)
    response = client.get(reverse("portal:checkin"))
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()


def test_staff_checks_a_booking_in_by_its_code(client, social_worker, today_event):
    booking = _booked(today_event)
    client.force_login(social_worker)
    page = client.get(reverse("portal:checkin"), {"event": today_event.pk})
    assert "今天的党课" in page.content.decode()
    response = client.post(
        reverse("portal:checkin"),
        {"code": engine.checkin_code(booking), "event": today_event.pk},
        follow=True,
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    assert "签到成功：张伟 · 今天的党课" in response.content.decode()
    # The same code again: the engine's message, exactly.
    again = client.post(reverse("portal:checkin"), {"code": engine.checkin_code(booking)})
    time = timezone.localtime(booking.checked_in_at).strftime("%H:%M")
    assert f"该预约已于 {time} 签到。" in again.content.decode()


@pytest.mark.parametrize(
    ("code", "message"),
    [("garbage", "未识别，请核对签到码。"), ("1-1.AAAAAAAAAAAA", "签到码已被篡改。"), ("", "请输入签到码。")],
)
def test_checkin_errors_are_shown_exactly(client, social_worker, code, message):
    client.force_login(social_worker)
    response = client.post(reverse("portal:checkin"), {"code": code})
    assert response.status_code == 200
    assert message in response.content.decode()


def test_checkin_for_another_event_or_outside_scope_is_refused(client, social_worker, today_event, street_b):
    booking = _booked(today_event)
    other = started(social_worker.streets.first(), title="另一场")
    client.force_login(social_worker)
    response = client.post(
        reverse("portal:checkin"), {"code": engine.checkin_code(booking), "event": other.pk}
    )
    assert "该签到码属于另一场活动《今天的党课》。" in response.content.decode()
    outsider = SocialWorkerFactory(streets=[street_b])
    client.force_login(outsider)
    response = client.post(reverse("portal:checkin"), {"code": engine.checkin_code(booking)})
    assert "您无权为该活动签到。" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_checkin_does_not_name_another_streets_event(client, today_event, street_b):
    """Issue 14: staff of street B, checking people in at their own event, typed a code of a
    street A event and were told its title; now they are told only that it is not theirs."""
    booking = _booked(today_event)
    outsider = SocialWorkerFactory(streets=[street_b])
    own = started(street_b, title="陆家嘴的活动")
    client.force_login(outsider)
    response = client.post(reverse("portal:checkin"), {"code": engine.checkin_code(booking), "event": own.pk})
    html = response.content.decode()
    assert "您无权为该活动签到。" in html
    assert "今天的党课" not in html and "另一场活动" not in html
    with pytest.raises(engine.BookingError) as refused:
        engine.check_in(code=engine.checkin_code(booking), event=own, by=outsider)
    assert refused.value.code == "forbidden"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_checkin_is_for_staff_who_may_change_bookings(client, social_worker, district_staff, today_event):
    """District staff read their district's bookings; checking people in is the station's work."""
    booking = _booked(today_event)
    client.force_login(district_staff)
    assert "签到</a>" not in client.get(reverse("portal:event_list")).content.decode()
    response = client.post(reverse("portal:checkin"), {"code": engine.checkin_code(booking)})
    assert response.status_code == 403
    assert "只有负责该服务站的工作人员可以签到。" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    client.force_login(social_worker)
    assert f'href="{reverse("portal:checkin")}"' in client.get(reverse("portal:event_list")).content.decode()


def test_checkin_with_an_unknown_event_says_so(client, social_worker, today_event):
    booking = _booked(today_event)
    client.force_login(social_worker)
    response = client.post(reverse("portal:checkin"), {"code": engine.checkin_code(booking), "event": 999999})
    html = response.content.decode()
    assert "请输入签到码。" not in html
    assert "选择一个有效的选项" in html
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_counselling_booker_is_hidden_from_staff_without_permission(client, social_worker, street_a):
    booking = _booked(
        started(street_a, kind=Event.Kind.COUNSELLING, capacity=1), UserFactory(first_name="李娜")
    )
    client.force_login(social_worker)
    response = client.post(reverse("portal:checkin"), {"code": engine.checkin_code(booking)}, follow=True)
    html = response.content.decode()
    assert "签到成功：预约人信息保密" in html and "李娜" not in html
    # Staff with services.view_confidential see the name.
    booking2 = _booked(
        started(street_a, kind=Event.Kind.COUNSELLING, capacity=1), UserFactory(first_name="王芳")
    )
    social_worker.user_permissions.add(Permission.objects.get(codename="view_confidential"))
    client.force_login(social_worker)
    response = client.post(reverse("portal:checkin"), {"code": engine.checkin_code(booking2)}, follow=True)
    assert "签到成功：王芳" in response.content.decode()


# --- Stations, week view, reservations -----------------------------------------------------------


def test_station_week_view_shows_events_and_approved_reservations(client):
    station = ServiceStationFactory()
    room = SpaceFactory(station=station, name="一号活动室")
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday()) + 7 * D
    tz = timezone.get_current_timezone()
    at = lambda d, h: datetime.datetime.combine(monday + d * D, datetime.time(h), tzinfo=tz)  # noqa: E731
    EventFactory(space=room, title="周二党课", starts_at=at(1, 14))
    SpaceReservationFactory(
        space=room, starts_at=at(3, 9), status=SpaceReservation.Status.APPROVED, purpose="支部主题党日"
    )
    SpaceReservationFactory(space=room, starts_at=at(4, 9), purpose="待审批的申请")
    client.force_login(UserFactory())
    response = client.get(reverse("portal:station_detail", args=[station.pk]), {"week": monday.isoformat()})
    html = response.content.decode()
    assert "周二党课" in html and "一号活动室" in html
    assert "场地预约" in html
    assert "待审批的申请" not in html
    cells = response.context["spaces"][0].day_cells
    assert [len(items) for _, items in cells] == [0, 1, 0, 1, 0, 0, 0]
    bad = client.get(reverse("portal:station_detail", args=[station.pk]), {"week": "next tuesday"})
    assert bad.status_code == 200 and "日期格式应为" in bad.content.decode()


def test_station_week_query_count(client, django_assert_max_num_queries):
    station = ServiceStationFactory()
    for i in range(4):
        room = SpaceFactory(station=station)
        for d in range(5):
            EventFactory(space=room, starts_at=timezone.now() + (d + 1) * D + i * H)
    with django_assert_max_num_queries(5):
        client.get(reverse("portal:station_detail", args=[station.pk]))


def test_station_list(client, street_a):
    station = ServiceStationFactory(building__street=street_a, name="静安寺党群服务站")
    ServiceStationFactory(name="别处的服务站")
    html = client.get(reverse("portal:station_list"), {"street": street_a.pk}).content.decode()
    assert station.name in html and "别处的服务站" not in html


@pytest.fixture
def secretary(street_a):
    member = PartyMemberFactory(organization__street=street_a)
    org = member.organization
    org.secretary = member
    org.save()
    return UserFactory(party_member=member)


def test_reservation_request_by_a_secretary(client, secretary):
    station = ServiceStationFactory()
    room = SpaceFactory(station=station, capacity=30)
    client.force_login(secretary)
    starts = timezone.localtime(timezone.now() + 4 * D).replace(hour=9, minute=0, second=0, microsecond=0)
    response = client.post(
        reverse("portal:reservation_request", args=[station.pk]),
        {
            "organization": secretary.party_member.organization_id,
            "space": room.pk,
            "purpose": "支部主题党日",
            "attendees": 20,
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (starts + 2 * H).strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )
    reservation = SpaceReservation.objects.get()
    assert reservation.status == SpaceReservation.Status.REQUESTED
    assert reservation.starts_at == starts
    assert "场地预约申请已提交" in response.content.decode()
    assert "支部主题党日" in response.content.decode()


def test_reservation_form_errors_and_non_secretaries(client, secretary):
    station = ServiceStationFactory()
    room = SpaceFactory(station=station, capacity=10)
    client.force_login(UserFactory())
    response = client.get(reverse("portal:reservation_request", args=[station.pk]))
    assert response.status_code == 403 and "党组织书记" in response.content.decode()
    client.force_login(secretary)
    response = client.post(
        reverse("portal:reservation_request", args=[station.pk]),
        {
            "organization": secretary.party_member.organization_id,
            "space": room.pk,
            "purpose": "x",
            "attendees": 50,
            "starts_at": "yesterday",
            "ends_at": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "预计人数超过空间容纳人数（10人）。" in html
    assert not SpaceReservation.objects.exists()


def test_no_page_leaks_who_booked_counselling(client, street_a):
    event = event_in(street_a, kind=Event.Kind.COUNSELLING, capacity=1, title="一对一心理咨询")
    engine.book_event(user=UserFactory(username="secret_booker", first_name="赵敏"), event=event)
    client.force_login(UserFactory())
    pages = [
        LIST,
        reverse("portal:event_detail", args=[event.pk]),
        reverse("portal:station_detail", args=[event.space.station_id]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "secret_booker" not in html and "赵敏" not in html


def test_building_filter_renders_the_chosen_building_name(client):
    building = BuildingFactory(name="恒隆广场")
    html = client.get(LIST, {"building": building.pk}).content.decode()
    assert re.search(r'value="恒隆广场（[^"]+）"', html)
