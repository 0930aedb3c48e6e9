"""The shared parts of the pages people refresh in a rush, kept in the cache (Redis in production).

The event page and the event list look the same to everyone except for the numbers that move
(seats left, the waitlist) and the person's own state (booked, waiting, the button, the
bell). So each page is split in two:

* a **shell**: the page's content rendered once with markers where the moving and personal
  parts go (``marker(...)``). It is rendered from a context without the request or the user,
  so nothing personal can be in it, and it is stored under a digest of every value it shows
  (``shell_key``): an edit of the event, its place or its organizer gives another key. A
  shell can therefore never be stale; an old one is only never asked for again.
* the **fill**: the moving and personal parts, rendered on every request from one query
  (the event row or the list's rows with the person's booking), so every number is the
  database's at the moment of the request.

The event list's rows (which events, how many, on which page) are the one thing kept under a
**version**: ``events_version()`` changes after the commit of anything that can change which
events are listed — an event saved or deleted (signals), cancelled or given another capacity
by the booking engine (``bump_events_version``) — and a cached page of ids is also dropped once
its first event has ended. The street choices of the filter form have their own version
(streets and districts saved or deleted).

If the cache cannot be reached, pages are rendered in full as before (``safe`` below): the
cache only ever saves work, it never decides what is shown.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger("services.pagecache")

T = TypeVar("T")

PREFIX = "portal:pages:v1"
EVENTS_VERSION_KEY = f"{PREFIX}:events-version"
STREETS_VERSION_KEY = f"{PREFIX}:streets-version"
# A shell is keyed by its content and never stale; the TTL only frees memory.
SHELL_TIMEOUT = 24 * 3600
# Safety net for a version bump lost while the cache was unreachable: a page of ids lives at
# most this long whatever happens.
IDS_TIMEOUT = 300


def marker(*parts: Any) -> SafeString:
    """A placeholder in a shell for a part filled on each request. An HTML comment: text from
    the database is escaped in the shell, so it can never read as one."""
    return mark_safe(f"<!--fill:{':'.join(str(p) for p in parts)}-->")


def fill(shell: str, parts: dict[str, str]) -> SafeString:
    """The shell with each marker replaced by its part (``parts``: marker → HTML)."""
    for key, html in parts.items():
        shell = shell.replace(key, html)
    return mark_safe(shell)  # the shell and the parts are rendered, escaped templates


def digest(values: Iterable[Any]) -> str:
    """A key part that changes whenever any of ``values`` does (their ``repr``s, hashed)."""
    h = hashlib.blake2b(digest_size=16)
    for value in values:
        h.update(repr(value).encode())
        h.update(b"\x1f")
    return h.hexdigest()


def shell_key(kind: str, values: Iterable[Any]) -> str:
    return f"{PREFIX}:shell:{kind}:{digest(values)}"


def safe(action: Callable[[], T], default: T) -> T:
    """Run a cache operation; if the cache is unreachable, log it and go on without it."""
    try:
        return action()
    except Exception:  # a dead Redis must cost a page its speed, never its answer
        logger.warning("page cache unreachable; rendering in full", exc_info=True)
        return default


def cached_shell(key: str, render: Callable[[], str]) -> str:
    """The shell stored under ``key``, rendered (and stored) when missing."""
    shell = safe(lambda: cache.get(key), None)
    if shell is None:
        shell = str(render())
        safe(lambda: cache.set(key, shell, SHELL_TIMEOUT), None)
    return shell


# --- versions -----------------------------------------------------------------------------------


def _version(key: str) -> str:
    value = cache.get(key)
    if value is None:
        cache.add(key, uuid.uuid4().hex, None)
        value = cache.get(key)
    return value


def versions() -> tuple[str, str] | None:
    """(events version, streets version), or None when the cache is unreachable."""

    def read():
        found = cache.get_many([EVENTS_VERSION_KEY, STREETS_VERSION_KEY])
        return (
            found.get(EVENTS_VERSION_KEY) or _version(EVENTS_VERSION_KEY),
            found.get(STREETS_VERSION_KEY) or _version(STREETS_VERSION_KEY),
        )

    return safe(read, None)


def _bump(key: str) -> None:
    safe(lambda: cache.set(key, uuid.uuid4().hex, None), None)


def _bump_now_and_after_commit(key: str) -> None:
    # Now: nobody reuses what was cached before the change (and a rolled-back change costs only
    # a refill). After the commit: what a page read from the database before the commit and
    # stored under the version of "now" is left too.
    _bump(key)
    transaction.on_commit(lambda: _bump(key))


def bump_events_version() -> None:
    """Which events are listed may have changed: cached lists of ids are left (now and after the commit)."""
    _bump_now_and_after_commit(EVENTS_VERSION_KEY)


def bump_streets_version() -> None:
    _bump_now_and_after_commit(STREETS_VERSION_KEY)


def connect_signals() -> None:
    """Saves and deletes through the ORM bump the versions (ServicesConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    from buildings.models import District, Street

    from .models import Event

    def events_changed(sender, **kwargs):
        bump_events_version()

    def streets_changed(sender, **kwargs):
        bump_streets_version()

    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(events_changed, sender=Event, weak=False, dispatch_uid=f"pagecache-event-{name}")
        for model in (Street, District):
            signal.connect(
                streets_changed, sender=model, weak=False, dispatch_uid=f"pagecache-{model.__name__}-{name}"
            )


def get(key: str) -> Any:
    return safe(lambda: cache.get(key), None)


def put(key: str, value: Any, timeout: int) -> None:
    safe(lambda: cache.set(key, value, timeout), None)
