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
from core import ratelimit
from core.errors import DomainError
from core.masking import mask_id_number

from .models import MemberLinkRequest, PartyMember, User
from .selectors import calendar_token_digest


class AccountError(DomainError):
    """A rule of the accounts write side was broken; ``message`` is shown to the user."""


def register_user(
    *,
    username: str,
    email: str,
    phone: str,
    password: str,
    building: Building | None = None,
    enterprise: Enterprise | None = None,
    person_type: str = User.PersonType.EMPLOYEE,
    platform: str = "",
    language: str = "zh-hans",
    real_name: str = "",
) -> User:
    """Create a portal account (not staff): an employee working in ``building`` for
    ``enterprise``, a delivery rider of ``platform`` (a platform or station), or a resident.

    The model's validation (mobile format, enterprise in building, what each kind of person
    names) and the password validators run here too, so every caller gets the same rules.
    """
    if person_type != User.PersonType.EMPLOYEE:
        building, enterprise = None, None  # riders and residents name no building or employer
    user = User(
        username=username.strip(),
        real_name=" ".join(real_name.split()),
        email=email.strip(),
        phone=phone.strip(),
        building=building,
        enterprise=enterprise,
        person_type=person_type,
        platform=platform.strip() if person_type == User.PersonType.RIDER else "",
        language=language,
        is_staff=False,
        is_superuser=False,
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password", "calendar_token_hash"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent sign-up took the username
        raise AccountError("duplicate_account", _("该用户名已被使用，请换一个。")) from exc
    return user


#: Tries of the party-member link form (issue 14: it was a membership and ID-number probe).
LINK_TRIES_PER_ACCOUNT = 5  # per account per day: enough for typos, not for guessing
LINK_TRIES_PER_ADDRESS = 20  # per address per hour: an office behind one address still gets through
DAY, HOUR = 24 * 3600, 3600


def request_member_link(
    *, user: User, name: str, id_number: str, address: str = "", now: float | None = None
) -> MemberLinkRequest:
    """Ask the street's social worker to link ``user`` to the party-member record with this name and ID number.

    One answer whatever is on file: a request is written whether a record matches both the
    name and the ID number (``member`` set), matches but is linked to another account (the
    social worker sees it and approval refuses), or nothing matches (``member`` empty, only
    the masked number kept). So neither the answer nor the profile tells the applicant whose
    ID number is on file or whether it is linked. Tries are limited per account
    (``LINK_TRIES_PER_ACCOUNT`` a day) and per address (``LINK_TRIES_PER_ADDRESS`` an hour);
    the social worker sees each applicant's failures in the admin.
    """
    id_number = (id_number or "").strip().upper()
    name = (name or "").strip()
    if user.party_member_id:
        raise AccountError("already_linked", _("您的账号已关联党员档案，无需再次申请。"))
    # Both counted on every try (no short-circuit), so neither limit can be dodged with the other.
    per_account = ratelimit.hit(
        f"member-link:user:{user.pk}", limit=LINK_TRIES_PER_ACCOUNT, window=DAY, now=now
    )
    per_address = ratelimit.hit(
        f"member-link:ip:{address}", limit=LINK_TRIES_PER_ADDRESS, window=HOUR, now=now
    )
    if not (per_account and per_address):
        raise AccountError(
            "too_many_tries", _("尝试次数过多，请明天再试。如有疑问，请联系您所在街道的社工。")
        )
    with transaction.atomic():
        locked = User.objects.select_for_update(of=("self",)).select_related("building").get(pk=user.pk)
        if MemberLinkRequest.objects.filter(user=locked, status=MemberLinkRequest.Status.PENDING).exists():
            raise AccountError("request_pending", _("您已有一条待核实的申请，请等待街道社工核实。"))
        member = (
            PartyMember.objects.select_related("organization").filter(id_number=id_number, name=name).first()
        )
        street_id = member.organization.street_id if member else getattr(locked.building, "street_id", None)
        try:
            with transaction.atomic():
                return MemberLinkRequest.objects.create(
                    user=locked,
                    member=member,
                    name=name[:50],
                    id_number_hint=mask_id_number(id_number)[:18],
                    street_id=street_id,
                )
        except IntegrityError as exc:
            raise AccountError("request_pending", _("您已有一条待核实的申请，请等待街道社工核实。")) from exc


def reset_calendar_token(*, user: User) -> str:
    """Give ``user`` a new private calendar-feed key; the old feed URL stops working at once.

    Returns the key, to be shown to its owner this once: only its digest is stored.
    """
    token = secrets.token_urlsafe(32)
    digest = calendar_token_digest(token)
    User.objects.filter(pk=user.pk).update(calendar_token_hash=digest)
    user.calendar_token_hash = digest
    return token


def revoke_calendar_token(*, user: User) -> None:
    """Switch the private calendar feed off."""
    User.objects.filter(pk=user.pk).update(calendar_token_hash=None)
    user.calendar_token_hash = None
