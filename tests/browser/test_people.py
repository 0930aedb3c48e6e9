"""Issue 15's "People" items in Chromium, phone (390×844) and desktop, both languages.

The phone header is the brand and one row of links; cancelling asks once and a cancelled
booking offers booking again; staff check people in from a list; after filtering on a phone
the count, the active filters and the first results are on the first screen; every admin page
people use fits a 1366-px laptop; ReDoc loads nothing from the internet. Screenshots go to
test-artifacts/ (gitignored).
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from services import booking as engine
from services.models import Event
from tests.buildings.factories import BuildingFactory
from tests.members.factories import PASSWORD, SocialWorkerFactory, UserFactory
from tests.services.factories import BookingFactory, EventFactory, ServiceStationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def tower():
    building = BuildingFactory(name="静安嘉里中心", address="南京西路1515号")
    return ServiceStationFactory(building=building, name="嘉里中心党群服务站", floor=6)


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("status").filter(has_text="登录成功。")).to_be_visible()


def to_english(page) -> None:
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def nav_rows(page) -> int:
    """How many rows the header's links take."""
    return page.evaluate(
        """() => new Set([...document.querySelectorAll('.main-nav > ul > li')]
                 .map(li => Math.round(li.getBoundingClientRect().top))).size"""
    )


def test_phone_header_is_one_row_of_links_in_both_languages(page, shoot, tower):
    EventFactory(space__station=tower, title="党课：宪法")
    UserFactory(username="zhangwei", real_name="张伟")
    log_in(page, "zhangwei")
    page.goto("/")
    assert nav_rows(page) == 1
    height = page.locator(".site-header").bounding_box()["height"]
    assert height <= 110, height
    shoot(page, "i15-header-zh")
    to_english(page)
    assert nav_rows(page) == 1
    height = page.locator(".site-header").bounding_box()["height"]
    assert height <= 110, height
    shoot(page, "i15-header-en")


def test_phone_header_shows_the_whole_name_and_the_current_page_link(page, tower):
    """On a phone the brand is not cut off, and a page late in the one-row menu ("my demands")
    opens with its own link in view, in both languages."""
    UserFactory(username="zhangwei", real_name="张伟")
    log_in(page, "zhangwei")
    for english in (False, True):
        if english:
            to_english(page)
        page.goto("/demands/")
        brand = page.locator(".brand > span:visible").last
        assert brand.evaluate("el => el.scrollWidth <= el.clientWidth"), brand.inner_text()
        assert brand.inner_text() == ("Building Party Portal" if english else "楼宇党建")
        current = page.locator('.main-nav [aria-current="page"]')
        box = current.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box


def test_cancel_asks_once_then_book_again(page, shoot, tower):
    event = EventFactory(space__station=tower, title="青年联谊：读书会", capacity=5)
    user = UserFactory(username="lihua", real_name="李华")
    booking = engine.book_event(user=user, event=event)
    log_in(page, "lihua")
    page.goto(f"/bookings/{booking.pk}/")
    page.get_by_role("link", name="取消预约").click()
    expect(page.get_by_role("heading", name="确定取消这个预约吗？")).to_be_visible()
    shoot(page, "i15-cancel-question-zh")
    page.get_by_role("button", name="确认取消").click()
    expect(page.get_by_role("status").filter(has_text="已取消")).to_be_visible()
    page.goto(f"/bookings/{booking.pk}/")
    expect(page.get_by_role("button", name="再次预约")).to_be_visible()
    shoot(page, "i15-cancelled-book-again-zh")
    to_english(page)
    expect(page.get_by_role("button", name="Book again")).to_be_visible()
    shoot(page, "i15-cancelled-book-again-en")
    page.get_by_role("button", name="Book again").click()
    expect(page.locator("#checkin-code")).to_be_visible()
    again = user.bookings.get(status="confirmed")
    page.goto(f"/bookings/{again.pk}/cancel/")
    expect(page.get_by_role("heading", name="Cancel this booking?")).to_be_visible()
    shoot(page, "i15-cancel-question-en")


def test_staff_check_in_from_the_list_and_a_typed_code(page, shoot, tower):
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=5)
    event = EventFactory(space__station=tower, title="党课：基层治理", starts_at=start)
    with_phone = BookingFactory(event=event, user=UserFactory(last_name="张", first_name="伟"))
    BookingFactory(event=event, user=UserFactory(real_name="程洁"))
    Event.objects.filter(pk=event.pk).update(confirmed_count=2)
    SocialWorkerFactory(username="shegong", streets=[tower.building.street])
    log_in(page, "shegong")
    page.goto(f"/checkin/?event={event.pk}")
    code = engine.typed_checkin_code(with_phone)
    page.get_by_label("签到码").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="签到", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="签到成功：张伟 · 党课：基层治理")).to_be_visible()
    page.get_by_role("button", name="为程洁签到").click()
    expect(page.get_by_role("status").filter(has_text="签到成功：程洁")).to_be_visible()
    expect(page.get_by_text("已签到 2 人")).to_be_visible()
    shoot(page, "i15-checkin-list-zh")
    page.get_by_label("签到码").fill("ZZZZ-ZZZZ-ZZZ")
    page.get_by_role("button", name="签到", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="未识别，请核对签到码。")).to_be_visible()
    to_english(page)
    page.goto(f"/checkin/?event={event.pk}")
    expect(page.get_by_role("heading", name="No phone with them? Check in from the list")).to_be_visible()
    shoot(page, "i15-checkin-list-en")


def test_redoc_loads_nothing_from_the_internet(page, live_server):
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live_server.url, "data:", f"blob:{live_server.url}"))
            else None
        ),
    )
    page.goto("/api/v1/docs/redoc/")
    expect(page.get_by_text("API docs by Redocly")).to_be_attached(timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert outside == []
    # The page fixture fails the test on any console error (the CSP's refusal was one).


def test_after_filtering_on_a_phone_the_first_screen_shows_the_results(page, shoot, tower):
    for n in range(6):
        EventFactory(space__station=tower, title=f"党课：第{n + 1}讲", kind=Event.Kind.PARTY_CLASS)
    EventFactory(space__station=tower, title="消防安全讲座", kind=Event.Kind.SAFETY_LECTURE)
    page.goto("/")
    page.get_by_text("筛选活动").click()
    page.get_by_label("类型").select_option(label="党课")
    page.get_by_label("只看有余位").check()
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".card")).to_have_count(6)
    assert page.evaluate("() => document.querySelector('details.filters').open") is False
    for selector in (".result-count", ".active-filters", ".card h2"):
        box = page.locator(selector).first.bounding_box()
        assert box["y"] + box["height"] <= 844, (selector, box)
    expect(page.locator(".result-count")).to_have_text("共 6 场活动")
    shoot(page, "i15-filtered-zh")
    # Each filter removable on its own.
    page.get_by_role("link", name="去掉筛选条件：只看有余位").click()
    expect(page.locator(".chip").filter(has_text="类型：党课")).to_be_visible()
    expect(page.locator(".chip").filter(has_text="只看有余位")).to_have_count(0)
    to_english(page)
    expect(page.locator(".chip").filter(has_text="Type: Party class")).to_be_visible()
    box = page.locator(".card h2").first.bounding_box()
    assert box["y"] + box["height"] <= 844, box
    shoot(page, "i15-filtered-en")


def test_bell_notifications_are_short_html_with_a_link(page, shoot, tower):
    from core.notifications.sender import send_due

    user = UserFactory(username="wangfang", real_name="王芳")
    booking = engine.book_event(user=user, event=EventFactory(space__station=tower, title="心理健康讲座"))
    send_due(worker_id="t")
    log_in(page, "wangfang")
    page.goto("/notifications/")
    expect(page.get_by_role("link", name="查看我的预约")).to_have_attribute(
        "href", f"/bookings/{booking.pk}/"
    )
    shoot(page, "i15-notifications-zh")
    to_english(page)
    expect(page.get_by_role("link", name="Booking confirmed: 心理健康讲座")).to_be_visible()
    expect(page.get_by_role("link", name="See my booking")).to_be_visible()
    shoot(page, "i15-notifications-en")
