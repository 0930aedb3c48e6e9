"""The portal's main journeys in Debian's Chromium (Playwright), with screenshots of every page.

Sign up → find an event → book → see it in my bookings → download the .ics →
cancel; a full event → join the waitlist; a staff member checks a booking in
by its code; the language switch. Screenshots (phone and desktop) go to
test-artifacts/ (gitignored).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from services import booking as engine
from services.models import Booking, Event
from tests.buildings.factories import BuildingFactory, EnterpriseFactory
from tests.members.factories import PASSWORD, SocialWorkerFactory, UserFactory
from tests.services.factories import BookingFactory, EventFactory, ServiceStationFactory

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tower():
    building = BuildingFactory(name="静安嘉里中心", address="南京西路1515号")
    EnterpriseFactory(building=building, name="上海示例科技有限公司")
    return ServiceStationFactory(building=building, name="嘉里中心党群服务站", floor=6)


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("status").filter(has_text="登录成功。")).to_be_visible()


def test_sign_up_find_book_calendar_cancel(page, shoot, tower):
    EventFactory(space__station=tower, title="青年联谊：读书会", kind=Event.Kind.YOUTH_SOCIAL)
    EventFactory(space__station=tower, title="<script>alert('x')</script>党课：新质生产力", speaker="王教授")

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", name="近期活动")).to_be_visible()
    shoot(page, "01-event-list-anonymous")

    # Sign up, choosing building and employer with the autocomplete (keyboard for the first).
    page.get_by_role("link", name="注册").click()
    page.get_by_label("姓名").fill("王小明")
    page.get_by_label("用户名").fill("xiaoming")
    page.get_by_label("手机号码").fill("13912345678")
    page.get_by_label("电子邮箱").fill("xiaoming@example.com")
    page.get_by_label("密码", exact=True).fill("Quiet-River-2026")
    page.get_by_label("密码确认").fill("Quiet-River-2026")
    building = page.get_by_role("combobox", name="所在楼宇")
    building.fill("嘉里")
    expect(page.get_by_role("option", name=re.compile("静安嘉里中心"))).to_be_visible()
    building.press("ArrowDown")
    building.press("Enter")
    expect(building).to_have_value("静安嘉里中心（南京西路1515号）")
    employer = page.get_by_role("combobox", name="工作单位")
    employer.fill("示例")
    page.get_by_role("option", name=re.compile("上海示例科技有限公司")).click()
    shoot(page, "02-sign-up")
    page.get_by_role("button", name="注册").click()
    expect(page.get_by_role("status").filter(has_text="注册成功")).to_be_visible()

    # Find the event with the filters.
    page.get_by_text("筛选活动").click()
    page.get_by_label("类型").select_option(label="党课")
    page.get_by_role("button", name="筛选").click()
    cards = page.locator(".card")
    expect(cards).to_have_count(1)
    # A title with <script> shows as text (and no dialog opened: the page fixture fails on JS errors).
    expect(cards.first).to_contain_text("<script>alert('x')</script>党课：新质生产力")
    expect(cards.first).to_contain_text("静安嘉里中心 · 6层 嘉里中心党群服务站")
    expect(cards.first).to_contain_text("余位 10 / 10")
    expect(cards.first).to_contain_text("候补 0 人")
    shoot(page, "03-event-list-filtered")
    cards.first.get_by_role("link").click()
    expect(page.get_by_text("王教授")).to_be_visible()
    shoot(page, "04-event-detail")

    # Book.
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_role("status").filter(has_text="预约成功")).to_be_visible()
    booking = Booking.objects.get(user__username="xiaoming")
    assert booking.status == Booking.Status.CONFIRMED
    expect(page.locator("svg.qr")).to_be_visible()
    expect(page.locator("#checkin-code")).to_have_text(engine.typed_checkin_code(booking))
    shoot(page, "05-booking-detail-qr")

    # My bookings, then the .ics download.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的预约").click()
    item = page.locator(".booking-item").filter(has_text="党课：新质生产力")
    expect(item).to_contain_text("已确认")
    shoot(page, "06-my-bookings")
    with page.expect_download() as info:
        item.get_by_role("link", name="加入日历").click()
    download = info.value
    assert download.suggested_filename == f"booking-{booking.pk}.ics"
    path = ARTIFACTS / download.suggested_filename
    download.save_as(path)
    ics = path.read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in ics and f"UID:booking-{booking.pk}@" in ics
    assert "DTSTART:" + booking.event.starts_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ") in ics

    # Cancel: asked once, on a page of its own.
    item.get_by_role("link", name="取消预约").click()
    expect(page.get_by_role("heading", name="确定取消这个预约吗？")).to_be_visible()
    shoot(page, "07a-cancel-question")
    page.get_by_role("button", name="确认取消").click()
    expect(page.get_by_role("status").filter(has_text="已取消")).to_be_visible()
    expect(page.get_by_text("您还没有即将参加的活动。")).to_be_visible()
    shoot(page, "07-my-bookings-after-cancel")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_full_event_join_the_waitlist(page, shoot, tower):
    event = EventFactory(
        space__station=tower, title="消防安全讲座", kind=Event.Kind.SAFETY_LECTURE, capacity=1
    )
    engine.book_event(user=UserFactory(), event=event)
    UserFactory(username="lihua")
    log_in(page, "lihua")
    page.goto(f"/events/{event.pk}/")
    expect(page.get_by_text("余位 0 / 1")).to_be_visible()
    button = page.get_by_role("button", name="加入候补")
    expect(button).to_be_enabled()
    shoot(page, "08-event-full")
    button.click()
    expect(page.get_by_role("status").filter(has_text="您已加入候补，目前排第1位")).to_be_visible()
    shoot(page, "09-waitlisted")
    page.goto("/bookings/")
    expect(page.locator(".booking-item").filter(has_text="消防安全讲座")).to_contain_text("候补中（第 1 位）")
    assert Booking.objects.get(user__username="lihua").status == Booking.Status.WAITLISTED


def test_staff_checks_a_booking_in_by_its_code(page, shoot, tower):
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=5)
    event = EventFactory(space__station=tower, title="党课：基层治理", starts_at=start)
    booking = BookingFactory(event=event, user=UserFactory(first_name="张伟"))
    Event.objects.filter(pk=event.pk).update(confirmed_count=1)
    SocialWorkerFactory(username="shegong", streets=[tower.building.street])
    log_in(page, "shegong")
    page.get_by_role("link", name="签到").click()
    page.get_by_label("本场活动（可选）").select_option(value=str(event.pk))
    code = page.get_by_label("签到码")
    code.fill("NOT-A-CODE")
    page.get_by_role("button", name="签到", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="未识别，请核对签到码。")).to_be_visible()
    shoot(page, "10-checkin-error")
    page.get_by_label("签到码").fill(engine.checkin_code(booking))
    page.get_by_role("button", name="签到", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="签到成功：张伟 · 党课：基层治理")).to_be_visible()
    expect(page.get_by_text("已签到 1 人")).to_be_visible()
    shoot(page, "11-checkin-success")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED


def qr_video(path, qr, *, width: int = 640, height: int = 480) -> None:
    """A few seconds of camera picture (YUV4MPEG2, grey) showing the segno ``qr`` on a white desk."""
    matrix = qr.matrix
    modules = len(matrix) + 8  # the quiet zone, four modules each side
    cell = min(width, height) * 3 // 4 // modules
    left, top = (width - cell * modules) // 2 + 4 * cell, (height - cell * modules) // 2 + 4 * cell
    luma = bytearray(b"\xeb" * (width * height))
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                for y in range(top + r * cell, top + (r + 1) * cell):
                    luma[y * width + left + c * cell : y * width + left + (c + 1) * cell] = b"\x10" * cell
    chroma = b"\x80" * (width * height // 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(20):
            out.write(b"FRAME\n" + bytes(luma) + chroma)


def test_staff_scans_a_booking_with_the_camera(browser, live_server, shoot, tower, tmp_path):
    """Chromium on Linux has no BarcodeDetector: the vendored jsQR reads the camera's frames."""
    from .conftest import CHROMIUM, PHONE

    start = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=5)
    event = EventFactory(space__station=tower, title="党课：扫码签到", starts_at=start)
    booking = BookingFactory(event=event, user=UserFactory(first_name="李娜"))
    Event.objects.filter(pk=event.pk).update(confirmed_count=1)
    SocialWorkerFactory(username="shegong", streets=[tower.building.street])
    video = tmp_path / "camera.y4m"
    qr_video(video, engine.checkin_qr(booking))  # the code the booking page shows
    # a browser of its own: the camera is a launch option
    camera_browser = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--use-fake-ui-for-media-stream",  # allow the camera without asking
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera_browser.new_context(base_url=live_server.url, viewport=PHONE, locale="zh-CN")
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        log_in(page, "shegong")
        page.goto(f"/checkin/?event={event.pk}")
        page.get_by_role("button", name="用摄像头扫码").click()
        expect(page.get_by_role("status").filter(has_text="签到成功：李娜 · 党课：扫码签到")).to_be_visible()
        shoot(page, "11b-checkin-scanned")
    finally:
        camera_browser.close()
    assert not errors, errors
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED


def test_language_switch(page, shoot, tower):
    EventFactory(space__station=tower, title="党课")
    page.goto("/")
    expect(page.get_by_role("heading", name="近期活动")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Events")).to_be_visible()
    expect(page.locator(".card").first).to_contain_text("Party class")
    shoot(page, "12-event-list-english")
    page.locator(".card a").first.click()
    expect(page.get_by_role("link", name="Log in to book")).to_be_visible()
    shoot(page, "13-event-detail-english")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("link", name="登录后预约")).to_be_visible()


def test_party_member_links_their_record_and_books_a_members_only_event(page, shoot, tower):
    """Ask in the portal → the street's social worker confirms in the admin → the event opens."""
    from tests.members.factories import PartyMemberFactory, make_id_number

    street = tower.building.street
    member = PartyMemberFactory(name="王芳", id_number=make_id_number(77), organization__street=street)
    event = EventFactory(
        space__station=tower, title="主题党日：重温入党誓词", audience=Event.Audience.PARTY_MEMBERS
    )
    UserFactory(username="wangfang", first_name="芳", last_name="王")
    SocialWorkerFactory(username="shegong", streets=[street])

    page.goto("/accounts/login/")
    shoot(page, "16-login")
    log_in(page, "wangfang")
    page.goto(f"/events/{event.pk}/")
    expect(page.get_by_text("仅限党员").first).to_be_visible()
    page.get_by_role("link", name="我是党员，申请关联党员身份").click()
    page.get_by_label("姓名").fill("王芳")
    page.get_by_label("身份证号").fill(member.id_number)
    shoot(page, "17-member-link-request")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("status").filter(has_text="申请已提交")).to_be_visible()
    shoot(page, "18-profile")

    # The social worker confirms it in the admin.
    page.get_by_role("button", name="退出").click()
    page.goto("/admin/login/")
    page.get_by_label("用户名").fill("shegong")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto("/admin/members/memberlinkrequest/")
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("approve_requests")
    page.get_by_role("button", name="执行").click()
    expect(page.get_by_text("已核实并关联 1 条申请。")).to_be_visible()
    shoot(page, "19-admin-link-approved")
    page.locator("#logout-form button").click()  # the admin logs out with a POST
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="登录")).to_be_visible()

    # Now the members-only event can be booked.
    log_in(page, "wangfang")
    page.goto(f"/events/{event.pk}/")
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_role("status").filter(has_text="预约成功")).to_be_visible()
    assert Booking.objects.get(event=event, user__username="wangfang").status == Booking.Status.CONFIRMED


def test_station_week_view_and_password_reset_pages(page, shoot, tower):
    EventFactory(space__station=tower, title="安全讲座：消防逃生", kind=Event.Kind.SAFETY_LECTURE)
    page.goto(f"/stations/{tower.pk}/")
    expect(page.get_by_role("heading", name="嘉里中心党群服务站")).to_be_visible()
    expect(page.get_by_text("安全讲座：消防逃生").first).to_be_visible()
    shoot(page, "20-station-week")
    page.goto("/accounts/password_reset/")
    page.get_by_label(re.compile("电子邮")).fill("nobody@example.com")
    shoot(page, "21-password-reset")
    page.get_by_role("button", name=re.compile("发送")).click()
    expect(page.get_by_role("heading").first).to_be_visible()
    shoot(page, "22-password-reset-sent")
