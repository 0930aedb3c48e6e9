"""The admin index in Chromium: the dashboard link is visible above the apps (screenshot in test-artifacts/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.members.factories import PASSWORD

from .conftest import ARTIFACTS, DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_link_on_the_admin_index(page, social_worker):
    page.set_viewport_size(DESKTOP)
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill(social_worker.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    link = page.get_by_role("link", name="党建数据看板")
    expect(link).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "15-admin-index-dashboard-link-desktop.png"))
    link.click()
    expect(page).to_have_url("/admin/dashboard/")
    expect(page.get_by_role("heading", name="党建数据看板")).to_be_visible()
