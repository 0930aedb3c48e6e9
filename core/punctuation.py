"""Punctuation that follows the page's language: full-width in Chinese, ASCII in English.

Chinese writes "开放时间：9:00" and "大厦（南京西路1号）"; English writes "Opening hours: 9:00"
and "Tower (1 Nanjing West Road)". Code and templates that join a label to a value, or put a
value in brackets, call these instead of writing the full-width marks.
"""

from __future__ import annotations

from django.utils import translation


def _chinese() -> bool:
    return (translation.get_language() or "zh-hans").startswith("zh")


def colon() -> str:
    return "：" if _chinese() else ": "


def parens(text: object) -> str:
    """``text`` in brackets, appended to what comes before it."""
    return f"（{text}）" if _chinese() else f" ({text})"
