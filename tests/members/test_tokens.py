"""API keys: stored hashed, shown once, expire, can be revoked, record their last use (members/tokens.py)."""

from __future__ import annotations

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from members.models import ApiToken
from members.tokens import (
    LAST_USED_RESOLUTION,
    PREFIX_LENGTH,
    TokenError,
    authenticate_token,
    issue_token,
    revoke_token,
)
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_key_is_stored_only_as_its_sha256_hash():
    user = UserFactory()
    token, key = issue_token(user=user, name="对接")
    token.refresh_from_db()
    assert len(key) >= 40
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:PREFIX_LENGTH]
    # The plain key is in no column of the row.
    assert key not in {str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()}


def test_keys_are_unique_and_unguessable():
    user = UserFactory()
    keys = {issue_token(user=user, name=f"k{i}")[1] for i in range(20)}
    assert len(keys) == 20


def test_authenticate_returns_the_token_with_its_user():
    user = UserFactory()
    token, key = issue_token(user=user, name="对接")
    assert authenticate_token(key) == token
    assert authenticate_token(key).user == user


@pytest.mark.parametrize("bad", ["", "short", "x" * 43, "y" * 500])
def test_unknown_or_malformed_keys_are_refused(bad):
    issue_token(user=UserFactory(), name="对接")
    with pytest.raises(TokenError) as exc:
        authenticate_token(bad)
    assert exc.value.code == "token_invalid"


def test_same_prefix_wrong_secret_is_refused():
    _token, key = issue_token(user=UserFactory(), name="对接")
    forged = key[:PREFIX_LENGTH] + ("A" if key[PREFIX_LENGTH] != "A" else "B") + key[PREFIX_LENGTH + 1 :]
    with pytest.raises(TokenError) as exc:
        authenticate_token(forged)
    assert exc.value.code == "token_invalid"


def test_revoked_key_is_refused_and_revocation_keeps_first_time_and_person():
    admin = UserFactory(is_superuser=True)
    token, key = issue_token(user=UserFactory(), name="对接")
    revoke_token(token=token, by=admin)
    first = token.revoked_at
    revoke_token(token=token, by=UserFactory())
    token.refresh_from_db()
    assert token.revoked_at == first and token.revoked_by == admin
    with pytest.raises(TokenError) as exc:
        authenticate_token(key)
    assert exc.value.code == "token_revoked"


def test_expired_key_is_refused():
    now = timezone.now()
    token, key = issue_token(user=UserFactory(), name="对接", expires_at=now + datetime.timedelta(days=1))
    assert authenticate_token(key, now=now + datetime.timedelta(hours=23)) == token
    with pytest.raises(TokenError) as exc:
        authenticate_token(key, now=now + datetime.timedelta(days=1, seconds=1))
    assert exc.value.code == "token_expired"


def test_key_of_deactivated_user_is_refused():
    user = UserFactory()
    _token, key = issue_token(user=user, name="对接")
    user.is_active = False
    user.save()
    with pytest.raises(TokenError) as exc:
        authenticate_token(key)
    assert exc.value.code == "user_inactive"


@pytest.mark.parametrize(
    ("delta", "code"),
    [
        (datetime.timedelta(seconds=-1), "expiry_in_past"),
        (datetime.timedelta(days=3 * 365 + 1), "expiry_too_far"),
    ],
)
def test_issue_refuses_bad_expiry(delta, code):
    with pytest.raises(TokenError) as exc:
        issue_token(user=UserFactory(), name="对接", expires_at=timezone.now() + delta)
    assert exc.value.code == code
    assert not ApiToken.objects.exists()


def test_last_used_is_written_at_most_once_a_minute(django_assert_num_queries):
    token, key = issue_token(user=UserFactory(), name="对接")
    now = timezone.now()
    with django_assert_num_queries(2):  # lookup + the first write
        authenticate_token(key, now=now)
    with django_assert_num_queries(1):  # lookup only
        authenticate_token(key, now=now + datetime.timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == now
    later = now + LAST_USED_RESOLUTION + datetime.timedelta(seconds=1)
    with django_assert_num_queries(2):
        authenticate_token(key, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later


def test_database_refuses_expiry_before_creation_and_non_hash():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(
            user=user,
            name="x",
            prefix="abcdefgh",
            key_hash="0" * 64,
            expires_at=timezone.now() - datetime.timedelta(days=1),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(
            user=user,
            name="x",
            prefix="abcdefgh",
            key_hash="not-a-hash",
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )


# --- create_api_token ---------------------------------------------------------------------------


def test_command_prints_the_key_as_last_line():
    user = UserFactory(username="jingan_api")
    out = StringIO()
    call_command("create_api_token", "jingan_api", "--name", "静安区对接", "--days", "30", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    token = authenticate_token(key)
    assert token.user == user and token.name == "静安区对接"
    assert abs((token.expires_at - timezone.now()) - datetime.timedelta(days=30)) < datetime.timedelta(
        minutes=1
    )


def test_command_refuses_unknown_user_and_bad_dates():
    UserFactory(username="someone")
    with pytest.raises(CommandError, match="没有用户名"):
        call_command("create_api_token", "nobody", stdout=StringIO())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("create_api_token", "someone", "--expires", "31/12/2027", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_token", "someone", "--expires", "2001-01-01", stdout=StringIO())
    assert not ApiToken.objects.exists()


# --- Admin --------------------------------------------------------------------------------------


def test_admin_issues_a_key_and_shows_it_once(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    holder = UserFactory(username="pudong_api")
    client.force_login(admin)
    expires = timezone.localtime() + datetime.timedelta(days=90)
    response = client.post(
        reverse("admin:members_apitoken_add"),
        {
            "user": holder.pk,
            "name": "浦东对接",
            "expires_at_0": expires.strftime("%Y-%m-%d"),
            "expires_at_1": expires.strftime("%H:%M:%S"),
        },
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.user == holder and token.created_by == admin
    shown = [str(m) for m in response.context["messages"]]
    key = next(m.split("<code>")[1].split("</code>")[0] for m in shown if "<code>" in m)
    assert authenticate_token(key) == token
    # Once: the change page does not show it again.
    page = client.get(reverse("admin:members_apitoken_change", args=[token.pk]))
    assert key not in page.content.decode()
    assert token.prefix in page.content.decode()


def test_admin_revoke_action(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    token, key = issue_token(user=UserFactory(), name="对接")
    client.force_login(admin)
    client.post(
        reverse("admin:members_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == admin
    with pytest.raises(TokenError):
        authenticate_token(key)


def test_admin_keys_are_for_superusers_only(client, district_staff):
    client.force_login(district_staff)
    assert client.get(reverse("admin:members_apitoken_changelist")).status_code == 403
