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


@dataclass(frozen=True)
class PortalView:
    """A bell notification as its reader sees it: a title and a few lines of HTML with a link."""

    title: str
    html: str
    url: str


def render_portal(row: Outbox, *, user, language: str) -> PortalView:
    """``row`` for the bell in ``language`` (the reader's interface now, not the recipient's
    setting when it was sent): the subject line of the kind's text, and short HTML
    (``notifications/portal.html``: what, when, where, and a link), never the e-mail's text.
    ``row.subject`` should be loaded (``sender.load_subjects``)."""
    kind = registry.get(row.kind)
    path = kind.link(row)
    with translation.override(language), timezone.override(SHANGHAI):
        context = {"row": row, "user": user, "url": path, **kind.context(row)}
        text = render_to_string(
            [f"notifications/{language}/{row.kind}.txt", f"notifications/zh-hans/{row.kind}.txt"], context
        )
        title = " ".join(text.strip().partition("\n")[0].split())[:200]
        html = render_to_string("notifications/portal.html", {**context, "headline": title, "link": path})
    return PortalView(title=title, html=html, url=path)
