"""API keys: issue, revoke and authenticate (the write side of ``ApiToken``).

A key is 43 URL-safe characters from ``secrets`` (256 bits). It is returned
once by ``issue_token`` and never stored: the database keeps its SHA-256 hash
(a fast hash is enough for a random key of this length; there is nothing to
brute-force) and its first ``PREFIX_LENGTH`` characters, so a request costs one
indexed lookup and a constant-time comparison. ``last_used_at`` is written at
most once per ``LAST_USED_RESOLUTION`` so that a busy key does not cost a write
per request.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from .models import ApiToken, User

PREFIX_LENGTH = 8
DEFAULT_LIFETIME = datetime.timedelta(days=365)
MAX_LIFETIME = datetime.timedelta(days=3 * 365)
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class TokenError(DomainError):
    """A key that cannot be used (unknown, revoked, expired, inactive user) or issued."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def issue_token(
    *,
    user: User,
    name: str,
    expires_at: datetime.datetime | None = None,
    created_by: User | None = None,
    now: datetime.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a key for ``user``; returns the row and the plain key (shown once, never stored)."""
    now = now or timezone.now()
    expires_at = expires_at or now + DEFAULT_LIFETIME
    if not user.is_active:
        raise TokenError("user_inactive", str(_("该用户已停用，不能签发密钥。")))
    if expires_at <= now:
        raise TokenError("expiry_in_past", str(_("到期时间必须晚于现在。")))
    if expires_at - now > MAX_LIFETIME:
        raise TokenError("expiry_too_far", str(_("密钥有效期最长为三年。")))
    key = generate_key()
    token = ApiToken.objects.create(
        user=user,
        name=(name or "").strip() or str(_("未命名密钥")),
        prefix=key[:PREFIX_LENGTH],
        key_hash=hash_key(key),
        expires_at=expires_at,
        created_by=created_by,
    )
    return token, key


def revoke_token(*, token: ApiToken, by: User | None = None) -> ApiToken:
    """Revoke ``token`` for good; revoking twice keeps the first time and person."""
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=by)
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return token


def authenticate_token(key: str, *, now: datetime.datetime | None = None) -> ApiToken:
    """The token (with its user) a key stands for, or ``TokenError``. Records the use."""
    now = now or timezone.now()
    key = (key or "").strip()
    if len(key) < PREFIX_LENGTH + 8 or len(key) > 128:
        raise TokenError("token_invalid", str(_("API 密钥无效。")))
    digest = hash_key(key)
    token = next(
        (
            candidate
            for candidate in ApiToken.objects.select_related("user").filter(prefix=key[:PREFIX_LENGTH])
            if hmac.compare_digest(candidate.key_hash, digest)
        ),
        None,
    )
    if token is None:
        raise TokenError("token_invalid", str(_("API 密钥无效。")))
    if token.revoked_at is not None:
        raise TokenError("token_revoked", str(_("API 密钥已被吊销。")))
    if token.expires_at <= now:
        raise TokenError("token_expired", str(_("API 密钥已过期，请联系管理员重新签发。")))
    if not token.user.is_active:
        raise TokenError("user_inactive", str(_("该密钥所属用户已停用。")))
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional update: concurrent requests in the same minute write once.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
