"""The notification bell in the portal header, in Debian's Chromium (which has no emoji font here).

The icon is an inline SVG, so it draws the same everywhere; an emoji drew a
crossed box. Screenshots of the header (phone and desktop) go to test-artifacts/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.notifications.sender import send_due
from services import booking as engine
from tests.members.factories import UserFactory
from tests.services.factories import EventFactory

from .conftest import ARTIFACTS, DESKTOP, PHONE
from .test_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bell_icon_is_drawn_without_an_emoji_font(page):
    user = UserFactory(username="bell_user")
    for _ in range(2):
        engine.book_event(user=user, event=EventFactory())
    send_due(worker_id="test")  # two confirmations in the portal: two unread

    log_in(page, "bell_user")
    bell = page.locator(".nav-bell a.bell")
    expect(bell).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.locator("header.site-header").screenshot(path=str(ARTIFACTS / f"14-header-bell-{label}.png"))

    icon = bell.locator("svg.bell-icon")
    expect(icon).to_have_attribute("aria-hidden", "true")
    box = icon.bounding_box()
    assert box and 12 <= box["width"] <= 24 and 12 <= box["height"] <= 24, box
    # Drawn in the header's text colour (white), not the default black fill.
    assert icon.evaluate("el => getComputedStyle(el).fill") == "rgb(255, 255, 255)"
    # The accessible name is the word, not an emoji or the picture.
    expect(bell).to_have_accessible_name(re.compile(r"^通知\s*未读\s*2$"))
    assert "\N{BELL}" not in bell.inner_text()
    expect(bell.locator(".bell-count")).to_have_text("未读2")
