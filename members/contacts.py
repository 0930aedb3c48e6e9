"""Write side of an account's e-mail address and phone: only the person changes them.

Whoever controls the e-mail controls the account (the password is reset through it), so
staff — social workers, district staff, superusers alike — correct a name or a building in
the user admin, never the e-mail or the phone. The person changes them on their profile,
after typing their password (checked through ``authenticate``, so failures count towards the
login lockout):

* **e-mail**: a confirmation link goes to the new address and a notice to the old one;
  nothing changes until the link is opened. The link is signed (``django.core.signing``),
  valid for ``EMAIL_CHANGE_MAX_AGE`` and bound to the account's current address and password
  hash, so it works once, and stops working when the password is changed — what the notice
  tells the real owner to do. The answer on the page is the same whether or not the new
  address belongs to another account (that address is then told so, instead of getting a
  link), so the form tells nothing about other accounts;
* **phone**: changed at once (it logs nobody in and resets nothing), with a notice to the
  e-mail address.

The mails are Django mail, sent after the commit in the person's language: like Django's
password reset, the confirmation goes to an address that is not (yet) the account's, which
the notifications outbox — one row per account — does not do. Every change lands in the
account's history (pghistory) with the person as its author.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import pghistory
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.masking import mask_email, mask_phone

from .accounts import AccountError
from .models import User
from .validators import validate_mobile

EMAIL_CHANGE_MAX_AGE = datetime.timedelta(days=3)
_SALT = "members.contacts.email_change"

SUBJECTS = {
    "email_change_confirm": gettext_lazy("楼宇党建：请确认您的新邮箱"),
    "email_change_notice": gettext_lazy("楼宇党建：有人申请修改您账号的邮箱"),
    "email_change_taken": gettext_lazy("楼宇党建：该邮箱已用于一个账号"),
    "phone_changed": gettext_lazy("楼宇党建：您账号的手机号码已修改"),
}


def _fingerprint(user: User) -> str:
    """Changes when the account's address or password does: a used or outdated link stops working."""
    return salted_hmac(_SALT, f"{user.pk}:{user.email}:{user.password}").hexdigest()[:32]


def email_change_token(user: User, new_email: str) -> str:
    return signing.dumps({"u": user.pk, "e": new_email, "f": _fingerprint(user)}, salt=_SALT, compress=True)


def _send_after_commit(user: User, mails: Iterable[tuple[str, str, dict]]) -> None:
    """Send (template name, address, context) mails once the transaction commits, in ``user``'s language."""
    mails = list(mails)

    def send() -> None:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            for name, address, context in mails:
                body = render_to_string(f"accounts/{name}_email.txt", {"user": user, **context})
                EmailMessage(str(SUBJECTS[name]), body, to=[address]).send()

    transaction.on_commit(send)


def request_email_change(*, user: User, new_email: str) -> None:
    """Ask for ``user``'s e-mail to become ``new_email``: a link to the new address, a notice to the old.

    The caller has checked the password. Raises ``AccountError`` only for what concerns the
    person's own input (an invalid address, the current one), never for another account's.
    """
    new_email = User.objects.normalize_email((new_email or "").strip())
    try:
        validate_email(new_email)
    except ValidationError as exc:
        raise AccountError("invalid_email", _("请输入合法的邮件地址。")) from exc
    if new_email.lower() == (user.email or "").lower():
        raise AccountError("same_email", _("新邮箱与当前邮箱相同。"))
    mails = []
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        mails.append(("email_change_taken", new_email, {}))
    else:
        link = settings.PORTAL_BASE_URL + reverse(
            "email_change_confirm", args=[email_change_token(user, new_email)]
        )
        days = EMAIL_CHANGE_MAX_AGE.days
        mails.append(("email_change_confirm", new_email, {"link": link, "days": days}))
    if user.email:
        mails.append(("email_change_notice", user.email, {"new_email": mask_email(new_email)}))
    _send_after_commit(user, mails)


def confirm_email_change(*, token: str) -> User:
    """Open a confirmation link: the account's e-mail becomes the new address. Works once."""
    invalid = AccountError(
        "link_invalid", _("该确认链接无效、已使用或已过期。请在“我的账号”中重新申请修改邮箱。")
    )
    try:
        data = signing.loads(token, salt=_SALT, max_age=EMAIL_CHANGE_MAX_AGE)
        pk, new_email, fingerprint = int(data["u"]), str(data["e"]), str(data["f"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise invalid from exc
    with pghistory.context(user=pk, action="members.confirm_email_change"), transaction.atomic():
        user = User.objects.select_for_update().filter(pk=pk, is_active=True).first()
        if user is None or not constant_time_compare(_fingerprint(user), fingerprint):
            raise invalid
        if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
            raise AccountError("email_taken", _("该邮箱已被其他账号使用，无法修改。"))
        user.email = new_email
        user.save(update_fields=["email"])
    return user


def change_phone(*, user: User, new_phone: str) -> None:
    """The person's own phone number, changed at once; a notice goes to their e-mail."""
    new_phone = (new_phone or "").strip()
    try:
        validate_mobile(new_phone)
    except ValidationError as exc:
        raise AccountError("invalid_phone", exc.messages[0]) from exc
    if new_phone == user.phone:
        return
    with pghistory.context(user=user.pk, action="members.change_phone"), transaction.atomic():
        user.phone = new_phone
        user.save(update_fields=["phone"])
        if user.email:
            _send_after_commit(user, [("phone_changed", user.email, {"new_phone": mask_phone(new_phone)})])
