"""The "1 °C" journey in Chromium: a delivery rider signs up, books a rest-and-meal slot at the
community canteen and a volunteer shift, is checked in, sees the hours on their record and
prints it; the partner's staff see the party members registered with them. Screenshots
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


def test_rider_books_community_places_earns_hours_and_prints(page, shoot):
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
    page.get_by_label("用户名").fill("xiaoge")
    page.get_by_label("手机号码").fill("13912345678")
    page.get_by_label("电子邮箱").fill("xiaoge@example.com")
    page.get_by_label("外卖骑手").check()
    page.get_by_label("所属平台或站点").fill("饿了么·长寿路站")
    page.get_by_label("密码", exact=True).fill("Quiet-River-2026")
    page.get_by_label("密码确认").fill("Quiet-River-2026")
    shoot(page, "c01-rider-sign-up")
    page.get_by_role("button", name="注册").click()
    expect(page.get_by_role("status").filter(has_text="注册成功")).to_be_visible()
    rider = User.objects.get(username="xiaoge")
    assert (rider.person_type, rider.platform, rider.building_id) == ("rider", "饿了么·长寿路站", None)

    # The community places are in the same event list; book the canteen slot.
    card = page.locator(".card").filter(has_text="骑手歇脚用餐时段")
    expect(card).to_contain_text("中环居委会")
    shoot(page, "c02-event-list-with-community-places")
    card.get_by_role("link").first.click()
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_role("status").filter(has_text="预约成功")).to_be_visible()
    shoot(page, "c03-canteen-booked")

    # And the volunteer shift.
    page.goto(f"/events/{shift.pk}/")
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_role("status").filter(has_text="预约成功")).to_be_visible()
    booking = Booking.objects.get(user=rider, event=shift)

    # Checked in at the shift by the street's social worker (the existing check-in).
    staff = SocialWorkerFactory(streets=[partner.street])
    engine.check_in(code=engine.checkin_code(booking), event=shift, by=staff)
    assert VolunteerHours.objects.get(booking=booking).hours == 2

    # The hours on the record, then the printable page.
    page.goto("/volunteering/")
    expect(page.get_by_role("heading", name="我的志愿服务记录")).to_be_visible()
    expect(page.locator(".year-totals")).to_contain_text("2.0 小时（1 次）")
    expect(page.locator(".record-table")).to_contain_text("陪伴社区老人")
    shoot(page, "c04-volunteer-record")
    page.get_by_role("link", name="打印记录").click()
    expect(page.get_by_role("heading", name="志愿服务记录")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".no-print")).to_be_hidden()
    shoot(page, "c05-volunteer-record-print")
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
    shoot(page, "c06-partner-registered-members")
