"""axe-core (axe-playwright-python, which bundles axe.min.js: nothing is fetched) over every
portal page and the admin pages people use, at phone and desktop size, in Chinese and English.

Fails on any violation of WCAG 2.1 A/AA rules (the ``wcag2a``, ``wcag2aa``, ``wcag21a``,
``wcag21aa`` tags), and lists each with its rule, help text and the elements concerned.
"""

from __future__ import annotations

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from core.notifications.sender import send_due
from members.models import User
from services import booking as engine
from tests.buildings.factories import BuildingFactory, EnterpriseFactory
from tests.members.factories import PASSWORD, PartyMemberFactory, SocialWorkerFactory, UserFactory
from tests.services.factories import EventFactory, ServiceStationFactory, SpaceFactory

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def audit(page, url: str, problems: list[str], language: str = "zh-hans") -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.url.split("?")[0].endswith(url.split("?")[0]), (url, page.url)  # not bounced to a login
    assert page.locator("html").get_attribute("lang").lower().startswith(language[:2]), url
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        before = len(page.js_errors)
        results = AXE.run(page, options=WCAG)
        # axe itself sets inline styles while it measures colours, which our CSP blocks (and
        # reports): those reports are axe's, not the page's. Anything else stays an error.
        page.js_errors[before:] = [
            e for e in page.js_errors[before:] if "Applying inline style violates" not in e
        ]
        for violation in results.response["violations"]:
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:5]
            problems.append(f"{url} [{label}] {violation['id']}: {violation['help']} — {targets}")
    page.set_viewport_size(PHONE)


def log_in(page, username: str, *, admin: bool = False) -> None:
    page.goto("/admin/login/" if admin else "/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("[type=submit]").last.click()
    page.wait_for_load_state("load")


@pytest.fixture
def world():
    building = BuildingFactory(name="静安嘉里中心", address="南京西路1515号")
    EnterpriseFactory(building=building, name="上海示例科技有限公司")
    station = ServiceStationFactory(building=building, name="嘉里中心党群服务站", floor=6)
    SpaceFactory(station=station, name="多功能厅")
    event = EventFactory(space__station=station, title="党课：新质生产力", speaker="王教授")
    EventFactory(space__station=station, title="青年联谊：读书会")
    employee = UserFactory(
        username="xiaoming", email="xiaoming@example.com", first_name="小明", last_name="王"
    )
    booking = engine.book_event(user=employee, event=event)
    send_due(worker_id="axe", now=timezone.now() + datetime.timedelta(seconds=1))  # the bell
    worker = SocialWorkerFactory(username="shegong_axe", streets=[building.street])
    member = PartyMemberFactory(name="李华")
    return {"event": event, "station": station, "booking": booking, "worker": worker, "member": member}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_portal_pages_have_no_accessibility_violations(page, live_server, shoot, world, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    # Logging in sets the language cookie to the person's own choice.
    User.objects.filter(username="xiaoming").update(language=language)
    problems: list[str] = []
    event, station, booking = world["event"], world["station"], world["booking"]
    for url in [
        "/",
        f"/events/{event.pk}/",
        "/stations/",
        f"/stations/{station.pk}/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password_reset/",
    ]:
        audit(page, url, problems, language)
    log_in(page, "xiaoming")
    for url in [
        "/",
        f"/events/{event.pk}/",
        "/bookings/",
        f"/bookings/{booking.pk}/",
        "/notifications/",
        "/accounts/profile/",
        "/accounts/member-link/",
        "/accounts/password_change/",
        "/reservations/",
    ]:
        audit(page, url, problems, language)
    page.goto("/notifications/")  # a changed page (its <time datetime>), looked at in both languages
    shoot(page, f"40-notifications-{language}")
    assert not problems, "\n".join(problems)


def test_admin_pages_people_use_have_no_accessibility_violations(page, shoot, world):
    problems: list[str] = []
    log_in(page, "shegong_axe", admin=True)
    event = world["event"]
    for url in [
        "/admin/",
        "/admin/dashboard/",
        "/admin/services/event/",
        f"/admin/services/event/{event.pk}/change/",
        "/admin/services/event/add/",
        "/admin/services/booking/",
        "/admin/members/partymember/",
        "/admin/buildings/building/",
        "/admin/buildings/enterprise/",
        "/admin/notifications/outbox/",
        "/checkin/",
    ]:
        audit(page, url, problems)
    page.goto("/admin/dashboard/")  # changed: the figures' colour, the breadcrumb's underline
    shoot(page, "41-admin-dashboard")
    assert not problems, "\n".join(problems)
