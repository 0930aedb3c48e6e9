"""Working days in the official Chinese calendar (national holidays off, adjusted workdays on).

The calendar comes from the ``chinese-calendar`` package, which knows each year's State Council
schedule once it is published. For a year it does not know yet, Monday to Friday are taken as
working days and a warning is logged (once per year): update the package when the schedule
is out.
"""

from __future__ import annotations

import datetime
import logging

import chinese_calendar

logger = logging.getLogger(__name__)

_warned_years: set[int] = set()


def is_workday(day: datetime.date) -> bool:
    """Whether ``day`` is an official working day (an adjusted Saturday is; National Day is not)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "chinese-calendar has no schedule for %s: counting Monday to Friday as working days",
                day.year,
            )
        return day.weekday() < 5


def add_workdays(start: datetime.date, days: int) -> datetime.date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += datetime.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def workdays_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if ``end`` <= ``start``)."""
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if is_workday(day):
            count += 1
    return count
