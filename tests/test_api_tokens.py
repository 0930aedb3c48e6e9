"""API keys over HTTP: ``Authorization: Token <key>``, clear 401s, last use, and throttling per key."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from members.tokens import issue_token, revoke_token
from tests.members.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(district_a):
    return StaffUserFactory(district=district_a)


def get(key: str | None, url: str | None = None, header: str | None = None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(url or reverse("api:district-list"))


def test_valid_key_authenticates_as_its_user(staff, district_a, district_b):
    _token, key = issue_token(user=staff, name="对接")
    response = get(key)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [district_a.pk]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Token", "authentication_failed"),
        ("Token a b", "authentication_failed"),
        ("Token not-a-real-key-0123456789abcdef", "token_invalid"),
    ],
)
def test_malformed_or_unknown_keys_get_401_with_a_code(staff, header, code):
    response = get(None, header=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_revoked_and_expired_keys_get_401(staff):
    token, key = issue_token(user=staff, name="对接")
    revoke_token(token=token)
    assert get(key).json() == {"code": "token_revoked", "detail": "API 密钥已被吊销。"}
    token2, key2 = issue_token(
        user=staff, name="短期", expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    type(token2).objects.filter(pk=token2.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3),
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    response = get(key2)
    assert response.status_code == 401 and response.json()["code"] == "token_expired"


def test_other_authorization_schemes_are_not_ours(staff):
    response = get(None, header="Bearer something")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_use_is_recorded(staff):
    token, key = issue_token(user=staff, name="对接")
    assert token.last_used_at is None
    get(key)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < datetime.timedelta(seconds=30)


def test_throttled_per_key_with_retry_after(staff, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "3/min", "api_user": "1000/min", "api_anon": "1000/min"},
    }
    _t1, key1 = issue_token(user=staff, name="一号")
    _t2, key2 = issue_token(user=staff, name="二号")
    assert [get(key1).status_code for _ in range(3)] == [200, 200, 200]
    response = get(key1)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another key of the same user has its own bucket.
    assert get(key2).status_code == 200
    cache.clear()


@pytest.mark.parametrize("days", ["1096", "1000000000", str(10**30)])
def test_create_api_token_refuses_too_many_days_clearly(staff, days):
    """``--days`` beyond three years: a CommandError, not an OverflowError from the date arithmetic."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    from members.models import ApiToken

    with pytest.raises(CommandError, match="最多为 1095 天"):
        call_command("create_api_token", staff.username, "--days", days, stdout=StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("expires", ["9999-12-31", "0001-01-01"])
def test_create_api_token_refuses_extreme_expiry_dates(staff, expires):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("create_api_token", staff.username, "--expires", expires, stdout=StringIO())


def test_create_api_token_takes_three_years(staff):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_token", staff.username, "--days", "1095", stdout=out)
    assert "到期" in out.getvalue()
