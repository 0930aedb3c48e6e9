"""Cells ↔ values for spreadsheets people fill in by hand (django-import-export widgets).

The library's widgets parse what a program writes; a social worker's sheet has
"2024/3/1" and "2024年3月1日" for dates, "是"/"否" for yes and no, choice labels
("本科") instead of stored values, phone numbers that Excel turned into numbers
(13800138000.0), and the apostrophe our own formula-safe export puts before a
cell that looks like a formula. Each widget here accepts those and says what is
wrong, in the words of the forms, when it cannot (a ``ValueError``, which the
library reports on that row and column). ``render`` writes what ``clean`` reads
back, so an export can be imported again unchanged.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.utils import timezone, translation
from django.utils.translation import gettext as _t
from import_export import widgets

from core.csv import looks_like_formula

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_TIME_RE = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")


def cell_str(value) -> str:
    """The text of a cell as typed: numbers without Excel's ".0", our formula guard removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _t("是") if value else _t("否")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # core.csv.safe_cell writes "'=..." for a cell that starts like a formula; read it back.
    if text.startswith("'") and looks_like_formula(text[1:]):
        text = text[1:]
    return text


def all_languages(text) -> set[str]:
    """``text`` (a lazy translation) in every language of the portal."""
    from django.conf import settings

    found = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(str(text).strip())
    return found


class TextWidget(widgets.CharWidget):
    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        return cell_str(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class UpperTextWidget(TextWidget):
    """Identifiers written in capitals (credit codes, the X of an ID number)."""

    def clean(self, value, row=None, **kwargs):
        return cell_str(value).replace(" ", "").upper()


class IntegerWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = cell_str(value).replace(",", "")
        if text == "":
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_t("应填写整数。")) from None
        if number != number.to_integral_value():
            raise ValueError(_t("应填写整数。"))
        return int(number)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class DecimalWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = cell_str(value).replace(",", "")
        if text == "":
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(_t("应填写数字。")) from None

    def render(self, value, obj=None, **kwargs):
        return (
            ""
            if value is None
            else format(value.normalize(), "f")
            if isinstance(value, Decimal)
            else str(value)
        )


class BooleanWidget(widgets.Widget):
    TRUE = {"是", "yes", "y", "true", "1", "√", "✓"}
    FALSE = {"否", "no", "n", "false", "0", ""}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = cell_str(value).lower()
        if text in self.TRUE or text in {s.lower() for s in all_languages(_t("是"))}:
            return True
        if text in self.FALSE or text in {s.lower() for s in all_languages(_t("否"))}:
            return False
        raise ValueError(_t("应填写“是”或“否”。"))

    def render(self, value, obj=None, **kwargs):
        return _t("是") if value else _t("否")


class ChoiceWidget(widgets.Widget):
    """A choice by its label in either language (or its stored value); written as its label."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = list(choices)

    def labels(self) -> list[str]:
        return [str(label) for _value, label in self.choices]

    def clean(self, value, row=None, **kwargs):
        text = cell_str(value)
        if text == "":
            return ""
        for stored, label in self.choices:
            if text == stored or text in all_languages(label) or text.lower() == str(stored).lower():
                return stored
        raise ValueError(
            _t("“%(value)s”不是可选的值，可选：%(choices)s。")
            % {"value": text, "choices": "、".join(self.labels())}
        )

    def render(self, value, obj=None, **kwargs):
        return str(dict(self.choices).get(value, value or ""))


def parse_date(value) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_str(value)
    if text == "":
        return None
    head, _sep, tail = text.partition(" ")
    if tail.strip() in ("00:00", "00:00:00"):  # a date cell that a program wrote as a datetime
        text = head
    match = _DATE_RE.match(text)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(_t("日期“%(value)s”无法识别，请写成 2024-03-01。") % {"value": text})


class DateWidget(widgets.Widget):
    example_format = "2024-03-01"

    def clean(self, value, row=None, **kwargs):
        return parse_date(value)

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class DateTimeWidget(widgets.Widget):
    """Local (Asia/Shanghai) date and time to the minute: "2024-03-01 14:30"."""

    example_format = "2024-03-01 14:30"

    def clean(self, value, row=None, **kwargs):
        if value is None or value == "":
            return None
        if isinstance(value, datetime.datetime):
            moment = value
        else:
            text = cell_str(value).replace("T", " ")
            if text == "":
                return None
            date_part, _sep, time_part = text.partition(" ")
            try:
                day = parse_date(date_part)
            except ValueError:
                day = None
            match = _TIME_RE.match(time_part.strip())
            if day is None or not match:
                raise ValueError(_t("时间“%(value)s”无法识别，请写成 2024-03-01 14:30。") % {"value": text})
            hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
            try:
                moment = datetime.datetime.combine(day, datetime.time(hour, minute, second))
            except ValueError:
                raise ValueError(
                    _t("时间“%(value)s”无法识别，请写成 2024-03-01 14:30。") % {"value": text}
                ) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def render(self, value, obj=None, **kwargs):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""
