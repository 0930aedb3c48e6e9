"""Repeated failed logins lock the (username, address) pair out for 15 minutes (django-axes).

The lockout is switched off for the rest of the suite (Client.login() has no request);
these tests switch it on and go through the real login forms of the admin and the portal.
"""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.members.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def lockout_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)


@pytest.fixture(params=["admin", "portal"])
def login_url(request):
    return "/admin/login/" if request.param == "admin" else reverse("login")


@pytest.fixture
def staff_user(db):
    # A staff user can log in to both the admin and the portal.
    return UserFactory(username="locked_user", is_staff=True, is_superuser=True)


def attempt(client, url, password, **extra):
    return client.post(url, {"username": "locked_user", "password": password}, **extra)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_out_even_the_right_password(client, login_url, staff_user):
    for _ in range(4):
        response = attempt(client, login_url, "wrong-password")
        assert response.status_code == 200  # the form again, with its error
    response = attempt(client, login_url, "wrong-password")
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()

    response = attempt(client, login_url, PASSWORD)
    assert response.status_code == 429
    assert not is_logged_in(client)


def test_four_failures_do_not_lock_and_success_resets(client, login_url, staff_user):
    for _ in range(4):
        attempt(client, login_url, "wrong-password")
    response = attempt(client, login_url, PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)
    client.logout()
    # The success reset the count: four more failures still do not lock.
    for _ in range(4):
        assert attempt(client, login_url, "wrong-password").status_code == 200
    assert attempt(client, login_url, PASSWORD).status_code == 302


def test_lockout_is_per_username_and_address(client, login_url, staff_user):
    UserFactory(username="neighbour", is_staff=True)
    for _ in range(5):
        attempt(client, login_url, "wrong-password")
    # Another account from the same address is not affected...
    response = client.post(login_url, {"username": "neighbour", "password": PASSWORD})
    assert response.status_code == 302
    client.logout()
    # ...nor the same account from another address.
    response = attempt(client, login_url, PASSWORD, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302


def test_lockout_ends_after_the_cool_off(client, login_url, staff_user):
    for _ in range(5):
        attempt(client, login_url, "wrong-password")
    assert attempt(client, login_url, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    response = attempt(client, login_url, PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_lockout_spans_admin_and_portal(client, staff_user):
    """Failures in the admin count for the portal login too: one account, one counter."""
    for _ in range(5):
        attempt(client, "/admin/login/", "wrong-password")
    assert attempt(client, reverse("login"), PASSWORD).status_code == 429


def test_forged_real_ip_header_is_ignored_without_a_proxy(client, settings, staff_user):
    settings.BEHIND_PROXY = False
    for i in range(5):
        attempt(client, "/admin/login/", "wrong-password", HTTP_X_REAL_IP=f"10.0.0.{i}")
    assert attempt(client, "/admin/login/", PASSWORD, HTTP_X_REAL_IP="10.0.0.99").status_code == 429


def test_behind_the_proxy_the_real_ip_header_names_the_client(client, settings, staff_user):
    settings.BEHIND_PROXY = True
    for _ in range(5):
        attempt(client, "/admin/login/", "wrong-password", HTTP_X_REAL_IP="203.0.113.7")
    assert attempt(client, "/admin/login/", PASSWORD, HTTP_X_REAL_IP="203.0.113.7").status_code == 429
    # Every request reaches gunicorn from nginx's 127.0.0.1; another client is not locked out.
    assert attempt(client, "/admin/login/", PASSWORD, HTTP_X_REAL_IP="203.0.113.8").status_code == 302


def test_password_validators_refuse_weak_passwords(db):
    user = UserFactory.build(username="zhangsan", email="zhangsan@example.com")
    for weak in ["12345678", "password", "zhangsan1", "ab1"]:
        with pytest.raises(ValidationError):
            validate_password(weak, user=user)
    validate_password("楼宇党建-Correct-Horse-42", user=user)
