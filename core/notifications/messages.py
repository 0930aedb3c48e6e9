"""A notification rendered for its recipient: subject and text in their language, times in Shanghai."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from . import registry
from .models import Outbox

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Message:
    """One notification rendered for its recipient, in their language."""

    outbox: Outbox
    recipient: Any
    subject: str
    body: str
    url: str
    language: str


def absolute_url(path: str) -> str:
    """``path`` on the portal's public address (``PORTAL_BASE_URL``), for e-mail links."""
    base = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    return f"{base}{path}" if path.startswith("/") else path


def reverse_or(name: str, args: Sequence[Any], fallback: str) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def render_message(row: Outbox) -> Message:
    """Subject and text in the recipient's language, times in Asia/Shanghai.

    Templates: ``notifications/<language>/<kind>.txt``, the first line being the
    subject; Chinese when the language has none. The kind adds its context.
    """
    kind = registry.get(row.kind)
    user = row.recipient
    language = user.language or settings.LANGUAGE_CODE
    url = absolute_url(kind.link(row))
    with translation.override(language), timezone.override(SHANGHAI):
        context = {"row": row, "user": user, "url": url, **kind.context(row)}
        text = render_to_string(
            [f"notifications/{language}/{row.kind}.txt", f"notifications/zh-hans/{row.kind}.txt"], context
        )
    subject, _sep, body = text.strip().partition("\n")
    return Message(
        outbox=row,
        recipient=user,
        subject=" ".join(subject.split())[:200],
        body=body.strip() + "\n",
        url=url,
        language=language,
    )
