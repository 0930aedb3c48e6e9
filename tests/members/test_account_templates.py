"""The portal's account pages and the admin's own pages each keep their own look.

Django's default template names (registration/...) are also those of the admin's
password change and reset pages; the portal's pages live in templates/accounts/,
so the admin's "change password" looks like the admin and the portal's like the portal.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.members.factories import PASSWORD, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Quiet-River-2026"
PORTAL_LAYOUT = 'class="site-header"'  # templates/base.html
ADMIN_LAYOUT = "楼宇党建管理后台"  # admin.site.site_header, in admin/base_site.html


def names(response) -> list[str]:
    return [t.name for t in response.templates]


def assert_portal_page(response, template: str) -> None:
    assert response.status_code == 200
    assert template in names(response) and "base.html" in names(response)
    assert "admin/base_site.html" not in names(response)
    html = response.content.decode()
    assert PORTAL_LAYOUT in html and ADMIN_LAYOUT not in html


def assert_admin_page(response, template: str) -> None:
    assert response.status_code == 200
    assert template in names(response) and "admin/base_site.html" in names(response)
    assert "base.html" not in names(response)
    html = response.content.decode()
    assert ADMIN_LAYOUT in html and PORTAL_LAYOUT not in html


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_password_change_and_done_pages_look_like_the_admin():
    client = logged_in(StaffUserFactory(username="admin_pw"))
    assert_admin_page(client.get(reverse("admin:password_change")), "registration/password_change_form.html")
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.url == reverse("admin:password_change_done")
    assert_admin_page(client.get(response.url), "registration/password_change_done.html")


def test_portal_password_change_looks_like_the_portal_and_returns_to_the_profile():
    user = UserFactory(username="portal_pw")
    client = logged_in(user)
    assert_portal_page(client.get(reverse("password_change")), "accounts/password_change_form.html")
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("profile")
    assert "密码已修改。" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_portal_login_and_password_reset_pages_look_like_the_portal():
    UserFactory(username="forgetful", email="forgetful@example.com")
    client = Client()
    assert_portal_page(client.get(reverse("login")), "accounts/login.html")
    assert_portal_page(client.get(reverse("password_reset")), "accounts/password_reset_form.html")
    response = client.post(reverse("password_reset"), {"email": "forgetful@example.com"}, follow=True)
    assert_portal_page(response, "accounts/password_reset_done.html")
    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)  # the token moves to the session: one redirect
    assert_portal_page(form, "accounts/password_reset_confirm.html")
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert_portal_page(response, "accounts/password_reset_complete.html")
