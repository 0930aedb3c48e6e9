"""Repeated failed logins lock the (username, address) pair out for 15 minutes (django-axes).

The lockout is switched off for the rest of the suite (Client.login() has no request);
these tests switch it on and go through the real login forms of the admin and the portal.
"""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
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


# --- per address across names, per name across addresses (issue 14) ---------------------------


def post_login(client, username: str, password: str, address: str):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_one_password_sprayed_over_many_names_from_one_address_is_stopped(client, settings, db):
    """Before: counted per (name, address), one password over 1,000 names was never stopped."""
    real = UserFactory(username="real_user")
    limit = settings.LOGIN_FAILURE_LIMITS["ip_address"]
    for n in range(limit - 1):
        assert post_login(client, f"name{n}", "Spring2026!", "198.51.100.7").status_code == 200
    # The 20th failure locks the address out, for every name, even with a right password...
    assert post_login(client, "name_last", "Spring2026!", "198.51.100.7").status_code == 429
    assert post_login(client, "real_user", PASSWORD, "198.51.100.7").status_code == 429
    assert post_login(client, "name999", "Spring2026!", "198.51.100.7").status_code == 429
    # ...and nobody else is.
    assert post_login(Client(), "real_user", PASSWORD, "198.51.100.8").status_code == 302
    assert real.pk


def test_one_name_guessed_from_many_addresses_is_stopped_at_a_higher_limit(client, settings, db):
    UserFactory(username="target")
    per_name = settings.LOGIN_FAILURE_LIMITS["username"]
    per_pair = settings.LOGIN_FAILURE_LIMITS["username,ip_address"]
    assert per_name > settings.LOGIN_FAILURE_LIMITS["ip_address"] > per_pair
    tries = 0
    address = 0
    while tries < per_name - 1:  # 3 tries from each address: below every per-address limit
        address += 1
        for _ in range(3):
            if tries < per_name - 1:
                assert post_login(Client(), "target", "guess", f"203.0.113.{address}").status_code == 200
                tries += 1
    assert post_login(Client(), "target", "guess", "203.0.113.200").status_code == 429  # the 30th
    # The name is locked from a fresh address, for the right password too.
    assert post_login(Client(), "target", PASSWORD, "192.0.2.1").status_code == 429
    # Other names from those addresses are not.
    UserFactory(username="bystander")
    assert post_login(Client(), "bystander", PASSWORD, "203.0.113.1").status_code == 302


def test_a_locked_out_name_is_locked_for_fifteen_minutes_only(settings, db):
    """What a stranger can do to a real user: a 15-minute lock, not extended by more failures."""
    UserFactory(username="target")
    for n in range(settings.LOGIN_FAILURE_LIMITS["username"]):
        post_login(Client(), "target", "guess", f"203.0.113.{n // 3 + 1}")
    assert post_login(Client(), "target", PASSWORD, "192.0.2.1").status_code == 429
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10)):
        # More failures during the lock do not extend it.
        for n in range(5):
            assert post_login(Client(), "target", "guess", f"198.18.0.{n}").status_code == 429
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        client = Client()
        assert post_login(client, "target", PASSWORD, "192.0.2.1").status_code == 302
        assert is_logged_in(client)


def test_logging_in_to_ones_own_account_does_not_reset_the_addresss_count(settings, db):
    """A sprayer with an account of their own cannot wipe their address's failures by logging in."""
    UserFactory(username="sprayer")
    limit = settings.LOGIN_FAILURE_LIMITS["ip_address"]
    for n in range(limit - 1):
        post_login(Client(), f"name{n}", "Spring2026!", "198.51.100.9")
    assert post_login(Client(), "sprayer", PASSWORD, "198.51.100.9").status_code == 302
    # The address's 20th failure still locks it.
    assert post_login(Client(), "name_last", "Spring2026!", "198.51.100.9").status_code == 429
    assert post_login(Client(), "sprayer", PASSWORD, "198.51.100.9").status_code == 429
