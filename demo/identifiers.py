"""Identifiers and names for the demo data: valid by construction (credit codes with their check
character, ID numbers with theirs, mobile numbers), unique by index, and working days."""

from __future__ import annotations

import datetime
import random
from zoneinfo import ZoneInfo

from buildings.validators import CREDIT_CODE_CHARS, credit_code_check_char
from committees.models import CommitteeSeat
from demo.data import (
    COMPANY_WORDS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    INDUSTRIES,
    MOBILE_PREFIXES,
    SURNAMES,
)
from members.models import User
from members.validators import id_number_check_char
from services.models import Booking, Event

SEED = 20240701
PASSWORD = "demo12345"
SHANGHAI = ZoneInfo("Asia/Shanghai")

Role = CommitteeSeat.Role
Kind = Event.Kind
BStatus = Booking.Status


# --- identifiers: valid by construction, unique by index ------------------------------------------


def _gb11714_check(code8: str) -> str:
    """The check character of a GB 11714 organization code (digits, and letters A=10 … Z=35)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(code8, weights, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_credit_code(n: int, area: str = "310000") -> str:
    """A valid unified social credit code, unique per ``n`` (< 31**5).

    91 (enterprise, registered with market regulation) + the 6-digit area code +
    a 9-character organization code ``MA1xxxxx`` with its GB 11714 check character +
    the GB 32100 check character.
    """
    digits = []
    for _ in range(5):
        n, rem = divmod(n, 31)
        digits.append(CREDIT_CODE_CHARS[rem])
    if n:
        raise ValueError("credit code index out of range")
    org8 = "MA1" + "".join(reversed(digits))
    first17 = "91" + area + org8 + _gb11714_check(org8)
    return first17 + credit_code_check_char(first17)


def make_id_number(area: str, birth: datetime.date, seq: int, male: bool) -> str:
    """A valid resident ID number; the sequence's last digit is odd for men, even for women."""
    seq = (seq % 500) * 2 + (1 if male else 0)
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def make_phone(n: int) -> str:
    """A mainland mobile number, unique per ``n`` (the 8-digit tail is a bijection of n)."""
    prefix = MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]
    # Every n its own tail (7919 is prime to 10^8): consecutive numbers no longer share their last
    # digits under different prefixes (issue 15: seat holders' phones ended alike).
    tail = (n * 7919 + 1234567) % 100_000_000
    return f"{prefix}{tail:08d}"


def person_name(rng: random.Random, male: bool) -> tuple[str, str, str, str]:
    """(surname, given name, full name, pinyin) of a made-up person."""
    sur, sur_py = rng.choice(SURNAMES)
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    given, given_py = rng.choice(pool)
    if rng.random() < 0.55:
        second, second_py = rng.choice(pool)
        given, given_py = given + second, given_py + second_py
    return sur, given, sur + given, sur_py + given_py


def company_name(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(COMPANY_WORDS)
    business, industry = rng.choice(INDUSTRIES)
    return f"上海{word}{business}有限公司", industry


def workday(today: datetime.date, offset: int) -> datetime.date:
    """The ``offset``-th working day (Monday–Friday) after today, or before it when negative."""
    day, step = today, 1 if offset > 0 else -1
    for _ in range(abs(offset)):
        day += datetime.timedelta(days=step)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=step)
    return day


def _at(day: datetime.date, hhmm: str) -> datetime.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


# The columns of a portal account as the city seed copies them into members_user, and one row.
USER_COLUMNS = (
    "id, password, last_login, is_superuser, username, first_name, last_name, real_name, email, "
    "is_staff, is_active, date_joined, phone, building_id, enterprise_id, party_member_id, "
    "district_id, language, calendar_token_hash, notify_by_email, notify_in_portal, person_type, "
    "platform"
)


def user_row(
    pk: int,
    password: str,
    username: str,
    name: str,
    *,
    is_staff: bool,
    joined: datetime.datetime,
    phone: str,
    building_id: int | None = None,
    enterprise_id: int | None = None,
    party_member_id: int | None = None,
) -> tuple:
    """An active employee account in ``USER_COLUMNS`` order (e-mail ``<username>@example.com``,
    Chinese, notified by e-mail and in the portal)."""
    return (
        pk,
        password,
        None,
        False,
        username,
        name[1:],
        name[0],
        name,
        f"{username}@example.com",
        is_staff,
        True,
        joined,
        phone,
        building_id,
        enterprise_id,
        party_member_id,
        None,
        "zh-hans",
        None,
        True,
        True,
        User.PersonType.EMPLOYEE,
        "",
    )
