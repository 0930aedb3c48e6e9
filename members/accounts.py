"""Write side of portal accounts: sign-up, party-member link requests, calendar tokens.

Each rule is one function that owns its transaction. A broken rule raises
``AccountError`` with a machine ``code`` and a translated ``message``; the
views turn it into a form error or a message, never a 500.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from buildings.models import Building, Enterprise
from core.errors import DomainError

from .models import MemberLinkRequest, PartyMember, User


class AccountError(DomainError):
    """A rule of the accounts write side was broken; ``message`` is shown to the user."""


def register_user(
    *,
    username: str,
    email: str,
    phone: str,
    password: str,
    building: Building,
    enterprise: Enterprise | None = None,
    language: str = "zh-hans",
) -> User:
    """Create an employee account (not staff) working in ``building`` for ``enterprise``.

    The model's validation (mobile format, unique phone, enterprise in building)
    and the password validators run here too, so every caller gets the same rules.
    """
    user = User(
        username=username.strip(),
        email=email.strip(),
        phone=phone.strip(),
        building=building,
        enterprise=enterprise,
        language=language,
        is_staff=False,
        is_superuser=False,
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password", "calendar_token"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent sign-up took the username or the phone
        raise AccountError("duplicate_account", _("该用户名或手机号码已注册，请直接登录。")) from exc
    return user


def request_member_link(*, user: User, name: str, id_number: str) -> MemberLinkRequest:
    """Ask a social worker to link ``user`` to the party-member record with this name and ID number.

    Both name and ID number must match one record, so the form cannot be used to
    look up whose ID number is on file. The social worker approves in the admin.
    """
    id_number = (id_number or "").strip().upper()
    name = (name or "").strip()
    if user.party_member_id:
        raise AccountError("already_linked", _("您的账号已关联党员档案，无需再次申请。"))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if MemberLinkRequest.objects.filter(user=locked, status=MemberLinkRequest.Status.PENDING).exists():
            raise AccountError("request_pending", _("您已有一条待核实的申请，请等待街道社工核实。"))
        member = PartyMember.objects.filter(id_number=id_number, name=name).first()
        if member is None:
            raise AccountError(
                "member_not_found",
                _("未找到姓名和身份证号都匹配的党员档案。请核对后重试，或联系您所在的党组织。"),
            )
        if User.objects.filter(party_member=member).exclude(pk=user.pk).exists():
            raise AccountError(
                "member_already_linked",
                _("该党员档案已关联其他账号。如有疑问，请联系您所在街道的社工。"),
            )
        try:
            with transaction.atomic():
                return MemberLinkRequest.objects.create(user=locked, member=member)
        except IntegrityError as exc:
            raise AccountError("request_pending", _("您已有一条待核实的申请，请等待街道社工核实。")) from exc


def reset_calendar_token(*, user: User) -> str:
    """Give ``user`` a new private calendar-feed token; the old feed URL stops working at once."""
    token = secrets.token_urlsafe(32)
    User.objects.filter(pk=user.pk).update(calendar_token=token)
    user.calendar_token = token
    return token


def revoke_calendar_token(*, user: User) -> None:
    """Switch the private calendar feed off."""
    User.objects.filter(pk=user.pk).update(calendar_token=None)
    user.calendar_token = None
