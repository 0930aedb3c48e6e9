"""An employee changes their e-mail in the browser: the password, the mail to the new address,
the confirmation page (members/contacts.py); the calendar key shown once (issue 14)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from members.models import User
from tests.browser.test_journeys import log_in
from tests.members.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_change_email_with_confirmation_and_calendar_key_once(page, shoot):
    UserFactory(username="liming", email="liming@example.com", phone="13911112222")
    log_in(page, "liming")
    page.goto("/accounts/profile/")
    page.get_by_role("button", name="生成订阅地址").click()
    expect(page.get_by_text("订阅地址只显示这一次")).to_be_visible()
    key_url = page.locator("#feed-url").input_value()
    assert re.search(r"/calendar/[A-Za-z0-9_-]{43}\.ics$", key_url)
    shoot(page, "30-profile-calendar-key-once")
    page.reload()
    expect(page.get_by_text("日历订阅已开启")).to_be_visible()
    assert page.locator("#feed-url").count() == 0

    page.get_by_role("link", name="修改邮箱或手机号码").click()
    page.get_by_label("电子邮箱").fill("li.ming@example.org")
    page.get_by_label("当前密码").fill(PASSWORD)
    shoot(page, "31-contact-change")
    page.get_by_role("button", name="保存").click()
    expect(
        page.get_by_role("status").filter(has_text="我们已向 li.ming@example.org 发送确认邮件")
    ).to_be_visible()
    assert User.objects.get(username="liming").email == "liming@example.com"
    [to_new] = [m for m in mail.outbox if m.to == ["li.ming@example.org"]]
    link = re.search(r"https?://\S+/accounts/email/confirm/\S+/", to_new.body).group(0)
    page.goto("/" + link.split("://", 1)[1].split("/", 1)[1])
    shoot(page, "32-email-change-confirm")
    page.get_by_role("button", name="确认修改邮箱").click()
    expect(page.get_by_role("status").filter(has_text="邮箱已修改为 li.ming@example.org")).to_be_visible()
    assert User.objects.get(username="liming").email == "li.ming@example.org"
