"""Every admin page fits a 1366-px laptop (issue 15, item 5), errors beside their fields in view.

Chromium at 1366×768, as a superuser (the widest lists) over a small world with records in
every list: every registered admin's list and add form, the change pages with inlines (the
building committee's seats, an event's bookings), and the seat inline with errors. A page fits
when the document's scrollWidth is at most 1366; an error fits when its message and its field
lie inside the window's width. Screenshots of the changed pages in both languages.
"""

from __future__ import annotations

import contextlib

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from core.notifications.models import Outbox
from services import booking as engine
from tests.committees.factories import BuildingCommitteeFactory, CommitteeSeatFactory
from tests.members.factories import PASSWORD, UserFactory
from tests.services.factories import EventFactory

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def laptop(page):
    page.set_viewport_size(LAPTOP)
    UserFactory(username="root", is_staff=True, is_superuser=True, real_name="李敏")
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill("root")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#user-tools")).to_contain_text("李敏")
    return page


@pytest.fixture
def world():
    committee = BuildingCommitteeFactory()
    for _ in range(3):
        CommitteeSeatFactory(committee=committee, affiliation="上海静安置业物业管理有限公司南京西路分公司")
    event = EventFactory(title="党课：学习贯彻党的二十届三中全会精神专题辅导报告（第一讲）")
    for _ in range(3):
        engine.book_event(user=UserFactory(real_name="欧阳娜娜"), event=event)
    assert Outbox.objects.exists()
    return committee, event


def overflow(page) -> int:
    """The width the page needs: the document's, plus what a box scrolled sideways hides
    (the change list's results box scrolls inside the page)."""
    return page.evaluate(
        """() => document.documentElement.scrollWidth
              + Math.max(0, ...[...document.querySelectorAll('#changelist .results, .inline-group .tabular, fieldset')]
                 .map(el => el.scrollWidth - el.clientWidth - 1))"""
    )


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-laptop.png"), full_page=True)


def admin_pages() -> list[str]:
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        for view in ("changelist", "add"):
            with contextlib.suppress(NoReverseMatch):
                urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}"))
    return sorted(set(urls))


def test_every_admin_list_and_form_fits_a_laptop(laptop, world):
    page = laptop
    committee, event = world
    wide = {}
    pages = [
        *admin_pages(),
        reverse("admin:committees_buildingcommittee_change", args=[committee.pk]),
        reverse("admin:services_event_change", args=[event.pk]),
        reverse("admin:index"),
    ]
    for url in pages:
        if page.request.get(url).status != 200:
            continue  # an add form nobody may use (bookings are made in the portal)
        page.goto(url)
        width = overflow(page)
        if width > LAPTOP["width"]:
            wide[url] = width
    assert wide == {}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_committee_seat_errors_are_beside_their_fields_in_view(laptop, world, language):
    page = laptop
    committee, event = world
    if language == "en":
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    page.goto(reverse("admin:committees_buildingcommittee_change", args=[committee.pk]))
    assert overflow(page) <= LAPTOP["width"]
    # End a seat before it starts: the error belongs to "任职结束".
    page.locator("#id_seats-0-ends_on").fill("2000-01-01")
    page.locator("input[name=_save]").click()
    errors = page.locator(".inline-group .errorlist li")
    expect(errors.first).to_be_visible()
    assert overflow(page) <= LAPTOP["width"]
    for i in range(errors.count()):
        box = errors.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], box
    field = page.locator("#id_seats-0-ends_on").bounding_box()
    assert field["x"] + field["width"] <= LAPTOP["width"]
    shoot(page, f"i15-admin-seat-errors-{language}")
    for name, url in (
        ("events", reverse("admin:services_event_changelist")),
        ("outbox", reverse("admin:notifications_outbox_changelist")),
    ):
        page.goto(url)
        assert overflow(page) <= LAPTOP["width"], name
        shoot(page, f"i15-admin-{name}-{language}")
