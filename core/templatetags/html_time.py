"""``{{ value|html_datetime }}``: a ``<time datetime>`` value HTML accepts.

Django's ``date:'c'`` writes microseconds when there are any (``...T10:00:00.123456+08:00``),
which is not a valid global date and time string; this writes the local time to the second
with its offset (``2026-12-07T10:00:00+08:00``).
"""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def html_datetime(value) -> str:
    if not isinstance(value, datetime.datetime):
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0).isoformat()
