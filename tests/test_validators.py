"""The identifier validators accept real values and refuse wrong ones with a Chinese message.

Real examples: 11010519491231002X is the GB 11643 textbook ID number and
91350100M000100Y43 the GB 32100 textbook credit code; the other credit codes are
published codes of large companies. All were checked against the algorithm by hand.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from buildings.validators import credit_code_check_char, validate_credit_code
from core.masking import mask_id_number, mask_middle, mask_phone
from members.validators import (
    ID_PROVINCE_CODES,
    id_number_birth_date,
    id_number_check_char,
    validate_id_number,
    validate_mobile,
)

REAL_CREDIT_CODES = [
    "91350100M000100Y43",  # GB 32100 textbook example
    "91440300708461136T",
    "914403001922038216",
    "91110108551385082Q",
    "91330100799655058B",
]


def _error(validator, value) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validator(value)
    return info.value


# --- unified social credit code (GB 32100) ------------------------------------


@pytest.mark.parametrize("code", REAL_CREDIT_CODES)
def test_real_credit_codes_are_accepted(code):
    validate_credit_code(code)
    assert credit_code_check_char(code[:17]) == code[17]


def test_textbook_credit_code_check_char_by_hand():
    # 9 1 3 5 0 1 0 0 M(21) 0 0 0 1 0 0 Y(30) 4 weighted by 3^i mod 31:
    # 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8 + 0 + 0 + 900 + 112 = 1640
    # 1640 mod 31 = 28, 31 - 28 = 3.
    assert credit_code_check_char("91350100M000100Y4") == "3"


def test_credit_code_is_normalised_before_checking():
    validate_credit_code(" 91350100m000100y43 ")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "credit_code_length"),
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100Y433", "credit_code_length"),
        ("91350100M000100Y42", "credit_code_checksum"),  # wrong check character
        ("91350100M000100Y4Z", "credit_code_chars"),  # Z is not in the code's alphabet
        ("91350100I000100Y43", "credit_code_chars"),  # I is excluded (looks like 1)
        ("91350100O000100Y43", "credit_code_chars"),  # O is excluded (looks like 0)
        ("913501A0M000100Y43", "credit_code_chars"),  # the area code must be digits
        ("９１350100M000100Y43", "credit_code_chars"),  # full-width digits
        ("91350100M000100Y4-", "credit_code_chars"),
    ],
)
def test_wrong_credit_codes_are_refused(value, code):
    err = _error(validate_credit_code, value)
    assert err.code == code
    assert any("统一社会信用代码" in str(m) for m in err.messages)


def test_every_single_character_error_is_caught():
    # the weights are units mod 31, so changing any one character changes the check char
    code = REAL_CREDIT_CODES[0]
    for pos in range(17):
        for repl in "0123456789":
            if repl == code[pos]:
                continue
            wrong = code[:pos] + repl + code[pos + 1 :]
            assert _error(validate_credit_code, wrong).code == "credit_code_checksum"


def test_credit_code_length_message_says_how_long():
    err = _error(validate_credit_code, "9135")
    assert err.messages == ["统一社会信用代码应为18位，当前为4位。"]


# --- resident ID number (GB 11643) --------------------------------------------


def test_textbook_id_number_is_accepted():
    validate_id_number("11010519491231002X")
    assert id_number_check_char("11010519491231002") == "X"
    assert id_number_birth_date("11010519491231002X") == datetime.date(1949, 12, 31)


def test_lowercase_x_is_accepted():
    validate_id_number("11010519491231002x")


def test_textbook_check_digit_by_hand():
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167
    # 167 mod 11 = 2 -> "10X98765432"[2] = "X"
    assert id_number_check_char("11010519491231002") == "X"


def iso7064_mod_11_2(first17: str) -> str:
    """The check character by ISO 7064 MOD 11-2, the standard GB 11643 cites, written
    independently of the validator: weights are 2^(17-i) mod 11, the check value
    (12 - sum mod 11) mod 11, and 10 is written X."""
    total = sum(int(digit) * pow(2, 17 - i, 11) for i, digit in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


# Whole numbers, their check characters written out (not computed by the code under test):
# Shanghai Xuhui (check 3) and Pudong (0), a leap day in Beijing (3), an X in Urumqi.
VALID_ID_NUMBERS = ["310104199001011233", "310115198512310010", "110105200002290013", "65010219700228001X"]


@pytest.mark.parametrize("number", VALID_ID_NUMBERS)
def test_id_numbers_with_correct_check_digit_are_accepted(number):
    assert iso7064_mod_11_2(number[:17]) == number[17]  # the literal is right
    validate_id_number(number)
    assert id_number_check_char(number[:17]) == number[17]


def test_the_independent_check_agrees_with_the_textbook():
    assert iso7064_mod_11_2("11010519491231002") == "X"
    assert iso7064_mod_11_2("44052418800101001") == "4"  # GB 11643's other worked example


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "id_number_format"),
        ("11010519491231002", "id_number_format"),  # 17 characters
        ("110105194912310021X", "id_number_format"),  # 19
        ("11010519491231002Y", "id_number_format"),
        ("X10105194912310021", "id_number_format"),  # X only as the last character
        ("１１0105194912310021", "id_number_format"),  # full-width digits
        ("110105491231002", "id_number_format"),  # old 15-digit numbers are not accepted
        ("11010519491231002 1", "id_number_format"),
        ("01010519491231002X", "id_number_region"),
        ("99010519491231002X", "id_number_region"),
        ("110105194902300021", "id_number_birth_date"),  # 30 February
        ("110105194913010021", "id_number_birth_date"),  # month 13
        ("110105190001010021", "id_number_checksum"),  # 1900-01-01 is still a date
        ("110105189912310021", "id_number_birth_date"),  # before 1900
        ("110105194912310021", "id_number_checksum"),  # the textbook number with 1 for X
        ("110105194912310020", "id_number_checksum"),
    ],
)
def test_wrong_id_numbers_are_refused(value, code):
    err = _error(validate_id_number, value)
    assert err.code == code
    assert any("身份证号" in str(m) for m in err.messages)


def test_id_number_born_in_the_future_is_refused():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    first17 = f"310104{tomorrow:%Y%m%d}123"
    err = _error(validate_id_number, first17 + id_number_check_char(first17))
    assert err.code == "id_number_birth_date"
    assert err.messages == ["身份证号中的出生日期无效。"]


def _expected_refusal(number: str) -> str:
    """Which check a wrong number fails first: its province, its birth date, else the check digit."""
    if number[:2] not in ID_PROVINCE_CODES:
        return "id_number_region"
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "id_number_birth_date"
    if born.year < 1900 or born > timezone.localdate():
        return "id_number_birth_date"
    return "id_number_checksum"


def test_every_single_digit_error_is_caught():
    # The weights are all non-zero mod 11 (a prime), so changing any one digit changes the
    # check character: every such typo that still has a valid province and birth date must
    # be refused by the checksum, with its own message.
    good = "11010519491231002X"
    checksum_errors = 0
    for pos in range(18):
        for char in "0123456789" + ("X" if pos == 17 else ""):
            if char == good[pos]:
                continue
            wrong = good[:pos] + char + good[pos + 1 :]
            err = _error(validate_id_number, wrong)
            assert err.code == _expected_refusal(wrong), wrong
            if err.code == "id_number_checksum":
                checksum_errors += 1
                assert err.messages == ["身份证号校验位不正确，请核对后重新输入。"]
    assert checksum_errors > 100  # most typos reach the checksum (17 × 9 + 9 variants in all)


def test_birth_date_of_malformed_number_is_none():
    assert id_number_birth_date("11010519491331002X") is None
    assert id_number_birth_date("short") is None


# --- mainland mobile numbers --------------------------------------------------


@pytest.mark.parametrize(
    "value", ["13812345678", "15000000000", "16612345678", "17712345678", "18912345678", "19912345678"]
)
def test_mainland_mobiles_are_accepted(value):
    validate_mobile(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12812345678",  # 12x is not a mobile range
        "10012345678",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "23812345678",
        "021-62581234",  # a landline
        "+8613812345678",
        "1381234567a",
        "１３８12345678",  # full-width digits
    ],
)
def test_wrong_mobiles_are_refused(value):
    err = _error(validate_mobile, value)
    assert err.code == "mobile_format"
    assert err.messages == ["请输入11位中国大陆手机号码（以13–19开头）。"]


# --- masking ------------------------------------------------------------------


def test_mask_phone_keeps_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_mask_id_number_hides_birth_date():
    masked = mask_id_number("11010519491231002X")
    assert masked == "110***********002X"
    assert "1949" not in masked and "1231" not in masked
    assert len(masked) == 18


@pytest.mark.parametrize(("value", "expected"), [(None, ""), ("", ""), ("1234567", "*******"), ("12", "**")])
def test_mask_short_and_empty_values(value, expected):
    assert mask_middle(value) == expected
