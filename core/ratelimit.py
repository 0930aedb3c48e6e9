"""Counting tries in Django's cache: at most ``limit`` per ``window`` seconds for one key.

For the few portal forms that answer a question an attacker would repeat (the party-member
link form: is this name and ID number on file?). The cache is Redis in production (shared by
every web process), local memory in development and tests. A fixed window: simple, and at
worst twice the limit across a window's edge, which is enough to turn a probe of thousands
of tries into weeks.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(key: str, *, limit: int, window: int, now: float | None = None) -> bool:
    """Count one try for ``key``; False when this try is over the limit of its window."""
    slot = int((now if now is not None else time.time()) // window)
    cache_key = f"ratelimit:{key}:{slot}"
    if cache.add(cache_key, 1, timeout=window + 60):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.add(cache_key, 1, timeout=window + 60)
            count = 1
    return count <= limit
