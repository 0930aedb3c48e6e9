"""The "1 °C" journey in Chromium: a delivery rider signs up, books a rest-and-meal slot at the
community canteen and a volunteer shift, is checked in, sees the hours on their record and
prints it, in Chinese and in English; the street's social worker checks the rider in on the
portal's check-in page (the typed code, or the list of names); the partner's staff see the party members registered with them. Screenshots
(phone and desktop) in test-artifacts/.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from members import registrations
from members.models import User
from services import booking as engine
from services.models import Booking, Event, VolunteerHours
from tests.buildings.factories import PartnerFactory
from tests.members.factories import PASSWORD, PartyMemberFactory, SocialWorkerFactory, StaffUserFactory
from tests.services.factories import CommunityPlaceFactory, EventFactory, SpaceFactory, VolunteerShiftFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("status").filter(has_text="登录成功。")).to_be_visible()


#: What the rider reads, in each language of the portal.
WORDS = {
    "zh-hans": {
        "name": "姓名",
        "username": "用户名",
        "phone": "手机号码",
        "email": "电子邮箱",
        "rider": "外卖骑手",
        "platform": "所属平台或站点",
        "password": "密码",
        "password2": "密码确认",
        "sign_up": "注册",
        "signed_up": "注册成功",
        "book": "立即预约",
        "booked": "预约成功",
        "record": "我的志愿服务记录",
        "totals": "2.0 小时（1 次）",
        "print": "打印记录",
        "printed": "志愿服务记录",
    },
    "en": {
        "name": "Name",
        "username": "Username",
        "phone": "Mobile number",
        "email": "Email",
        "rider": "Delivery rider",
        "platform": "Platform or station",
        "password": "Password",
        "password2": "Password confirmation",
        "sign_up": "Sign up",
        "signed_up": "Welcome!",
        "book": "Book now",
        "booked": "Booked!",
        "record": "My volunteer record",
        "totals": "2.0 hours (1 shift)",
        "print": "Print the record",
        "printed": "Volunteer record",
    },
}


def staff_checks_in(browser, live_server, shoot, *, staff, shift, booking, typed: bool, tag: str) -> None:
    """The street's social worker at the shift, on the portal's check-in page (in Chinese)."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(10_000)
    staff_page = context.new_page()
    try:
        log_in(staff_page, staff.username)
        staff_page.goto(f"/checkin/?event={shift.pk}")
        expect(staff_page.get_by_role("heading", name="陪伴社区老人")).to_be_visible()
        expect(staff_page.get_by_text("已签到 0 人 · 待签到 1 人")).to_be_visible()
        if typed:
            # The code typed from under the QR code on the rider's phone.
            staff_page.get_by_label("签到码").fill(engine.typed_checkin_code(booking))
            staff_page.get_by_role("button", name="签到", exact=True).click()
        else:
            # The rider came without a phone: checked in from the list of names.
            staff_page.get_by_role("button", name=f"为{booking.user.display_name}签到").click()
        expect(staff_page.get_by_role("status").filter(has_text="签到成功")).to_be_visible()
        expect(staff_page.get_by_text("已签到 1 人 · 待签到 0 人")).to_be_visible()
        shoot(staff_page, f"c04-{tag}-staff-checkin")
    finally:
        context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rider_books_community_places_earns_hours_and_prints(browser, live_server, page, shoot, language):
    words = WORDS[language]
    tag = "zh" if language == "zh-hans" else "en"
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    partner = PartnerFactory(name="中环居委会")
    canteen = CommunityPlaceFactory(partner=partner, name="社区长者食堂")
    EventFactory(
        space=SpaceFactory(station=canteen, name="歇脚用餐区"),
        title="骑手歇脚用餐时段",
        kind=Event.Kind.OTHER,
    )
    starts = timezone.now().replace(microsecond=0) + datetime.timedelta(minutes=10)
    shift = VolunteerShiftFactory(
        space__station__partner=partner,
        title="陪伴社区老人",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        booking_opens_at=starts - datetime.timedelta(days=3),
        booking_closes_at=starts + datetime.timedelta(hours=1),
        cancel_deadline=starts - datetime.timedelta(minutes=5),
    )

    # Sign up as a rider: a platform instead of a building and employer.
    page.goto("/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans" if tag == "zh" else "en")
    page.get_by_label(words["name"], exact=True).fill("王小哥")
    page.get_by_label(words["username"]).fill("xiaoge")
    page.get_by_label(words["phone"]).fill("13912345678")
    page.get_by_label(words["email"]).fill("xiaoge@example.com")
    page.get_by_label(words["rider"]).check()
    page.get_by_label(words["platform"]).fill("饿了么·长寿路站")
    page.get_by_label(words["password"], exact=True).fill("Quiet-River-2026")
    page.get_by_label(words["password2"]).fill("Quiet-River-2026")
    shoot(page, f"c01-{tag}-rider-sign-up")
    page.get_by_role("button", name=words["sign_up"]).click()
    expect(page.get_by_role("status").filter(has_text=words["signed_up"])).to_be_visible()
    rider = User.objects.get(username="xiaoge")
    assert (rider.person_type, rider.platform, rider.building_id) == ("rider", "饿了么·长寿路站", None)

    # The community places are in the same event list; book the canteen slot.
    card = page.locator(".card").filter(has_text="骑手歇脚用餐时段")
    expect(card).to_contain_text("中环居委会")
    shoot(page, f"c02-{tag}-event-list-with-community-places")
    card.get_by_role("link").first.click()
    page.get_by_role("button", name=words["book"]).click()
    expect(page.get_by_role("status").filter(has_text=words["booked"])).to_be_visible()
    shoot(page, f"c03-{tag}-canteen-booked")

    # And the volunteer shift.
    page.goto(f"/events/{shift.pk}/")
    page.get_by_role("button", name=words["book"]).click()
    expect(page.get_by_role("status").filter(has_text=words["booked"])).to_be_visible()
    booking = Booking.objects.get(user=rider, event=shift)

    # Checked in at the shift by the street's social worker, on the check-in page: the typed
    # code in one run, the list of names in the other.
    staff = SocialWorkerFactory(streets=[partner.street])
    staff_checks_in(
        browser, live_server, shoot, staff=staff, shift=shift, booking=booking, typed=tag == "zh", tag=tag
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
    assert VolunteerHours.objects.get(booking=booking).hours == 2

    # The hours on the record, then the printable page.
    page.goto("/volunteering/")
    expect(page.get_by_role("heading", name=words["record"])).to_be_visible()
    expect(page.locator(".year-totals")).to_contain_text(words["totals"])
    expect(page.locator(".record-table")).to_contain_text("陪伴社区老人")
    shoot(page, f"c05-{tag}-volunteer-record")
    page.get_by_role("link", name=words["print"]).click()
    expect(page.get_by_role("heading", name=words["printed"], exact=True)).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".no-print")).to_be_hidden()
    shoot(page, f"c06-{tag}-volunteer-record-print")
    page.emulate_media(media="screen")


def test_partner_staff_see_the_members_registered_with_them(page, shoot):
    partner = PartnerFactory(name="中环居委会")
    member = PartyMemberFactory(name="刘芳")
    registrations.register_with_partner(member=member, partner=partner)
    registrations.register_with_partner(member=PartyMemberFactory(name="别处党员"), partner=PartnerFactory())
    StaffUserFactory(username="juweihui", partner=partner)
    log_in(page, "juweihui")
    page.goto("/partner/members/")
    expect(page.get_by_role("heading", name="中环居委会 · 报到党员")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("刘芳")
    expect(page.locator("tbody")).not_to_contain_text("别处党员")
    shoot(page, "c07-partner-registered-members")
