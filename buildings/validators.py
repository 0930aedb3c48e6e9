"""Validators for identifiers that Chinese public records use.

``validate_credit_code`` checks the 18-character unified social credit code
(统一社会信用代码) by its GB 32100-2015 check character (python-stdnum's
``stdnum.cn.uscc``), with our own message for each rule.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# re.ASCII: without it \d also matches full-width and other Unicode digits (e.g. "１").
_CREDIT_CODE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$", re.ASCII)


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a credit code."""
    return uscc.calc_check_digit(first17)


def validate_credit_code(value: str) -> None:
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，当前为%(n)s位。"), code="credit_code_length", params={"n": len(code)}
        )
    if not _CREDIT_CODE_RE.match(code):
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符（不得使用 I、O、Z、S、V）。"), code="credit_code_chars"
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("统一社会信用代码校验位不正确，请核对后重新输入。"), code="credit_code_checksum"
        )
