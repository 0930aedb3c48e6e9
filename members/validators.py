"""Validators for personal identifiers: resident ID numbers and mobile numbers.

``validate_id_number`` checks the 18-digit resident identity number by its
GB 11643-1999 check digit, its province code (GB/T 2260, plus 81/82/83 of the
residence permits for Hong Kong, Macao and Taiwan residents) and its birth date
(a real date, not before 1900 and not in the future); ``validate_mobile``
accepts a mainland mobile number (11 digits starting 13–19). The check digit and
the birth date are python-stdnum's (``stdnum.cn.ric``); the messages are ours, one
per rule, in the words people read on the forms, the API and imports.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

# re.ASCII: without it \d also matches full-width and other Unicode digits (e.g. "１").
_ID_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# First two digits of the address code: the provinces of GB/T 2260, 71 Taiwan, and
# 81/82/83 of the residence permits of Hong Kong, Macao and Taiwan residents.
ID_PROVINCE_CODES = frozenset(
    {*map(str, range(11, 16)), *map(str, range(21, 24)), *map(str, range(31, 38)), *map(str, range(41, 47))}
    | {*map(str, range(50, 55)), *map(str, range(61, 66)), "71", "81", "82", "83"}
)


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    # stdnum's function takes the whole number and ignores its last character.
    return ric.calc_check_digit(first17 + "0")


def id_number_birth_date(value: str) -> datetime.date | None:
    """The birth date encoded in digits 7–14, or None when they are not a date."""
    try:
        return ric.get_birth_date(value)
    except (ric.ValidationError, ValueError):
        return None


def validate_id_number(value: str) -> None:
    number = (value or "").strip().upper()
    if not _ID_RE.match(number):
        raise ValidationError(_("身份证号应为18位：前17位数字，最后一位为数字或X。"), code="id_number_format")
    if number[:2] not in ID_PROVINCE_CODES:
        raise ValidationError(_("身份证号前两位不是有效的省级行政区划代码。"), code="id_number_region")
    born = id_number_birth_date(number)
    if born is None or born.year < 1900 or born > timezone.localdate():
        raise ValidationError(_("身份证号中的出生日期无效。"), code="id_number_birth_date")
    if id_number_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对后重新输入。"), code="id_number_checksum")


def validate_mobile(value: str) -> None:
    if not _MOBILE_RE.match((value or "").strip()):
        raise ValidationError(_("请输入11位中国大陆手机号码（以13–19开头）。"), code="mobile_format")
