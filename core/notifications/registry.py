"""The kinds of notification, and the periodic scans that write them, as the apps register them.

A domain app subclasses ``NotificationKind`` for each kind it writes (the booking
reminders in ``services``, the term-end reminders in ``committees``, ...), and
registers an instance in its ``AppConfig.ready()``; the outbox, the sender and the
admin ask the registry, never the app. A periodic *scan* (a function writing the
rows that have fallen due, e.g. "terms ending in 30 days") is registered the same
way; the beat and ``manage.py send_due_reminders`` run every scan.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import Outbox


class NotificationKind:
    """How one kind of notification is loaded, rendered, linked and re-checked before it is sent.

    ``name`` is stored in ``Outbox.kind`` (never rename a live one); templates are
    ``notifications/<language>/<name>.txt`` (first line the subject). The defaults
    suit a kind whose rows need nothing but their subject.
    """

    name: str = ""
    label: Any = ""
    #: ``select_related`` for the subjects of a page of rows (e.g. a booking's event and place)
    subject_related: tuple[str, ...] = ()

    def load_subjects(self, rows: list[Outbox]) -> None:
        """Attach ``row.subject`` to each row, with one query per content type."""
        by_type: dict[int, list[Outbox]] = {}
        for row in rows:
            if row.subject_type_id is not None:
                by_type.setdefault(row.subject_type_id, []).append(row)
        from django.contrib.contenttypes.models import ContentType

        for type_id, group in by_type.items():
            model = ContentType.objects.get_for_id(type_id).model_class()
            if model is None:
                continue
            qs = model._base_manager.all()
            if self.subject_related:
                qs = qs.select_related(*self.subject_related)
            found = qs.in_bulk({row.subject_id for row in group})
            for row in group:
                row.subject = found.get(row.subject_id)

    def skip_reason(self, row: Outbox, now: datetime.datetime) -> str:
        """Why ``row`` makes no sense any more (translated text), or "" to send it."""
        return ""

    def due_again_at(self, row: Outbox, now: datetime.datetime) -> datetime.datetime | None:
        """A later due time if the row is early after all (its cause moved), else None."""
        return None

    def context(self, row: Outbox) -> dict[str, Any]:
        """What the templates need besides ``row``, ``user`` and ``url``."""
        return {}

    def link(self, row: Outbox) -> str:
        """The path (or URL) the notification points to."""
        return "/"

    def attachments(self, row: Outbox, *, language: str) -> list[tuple[str, bytes, str]]:
        """Files the e-mail carries (``(filename, content, mimetype)``), e.g. a booking's .ics.

        Called with the row's subject loaded, in the recipient's ``language``.
        """
        return []

    def describe(self, row: Outbox) -> str:
        """What the row is about, in a few words, for staff lists (its subject loaded)."""
        return str(row.subject) if row.subject is not None else ""


_KINDS: dict[str, NotificationKind] = {}
_SCANS: dict[str, Callable[..., int]] = {}


def register(kind: NotificationKind) -> NotificationKind:
    if not kind.name:
        raise ValueError("A notification kind needs a name.")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> NotificationKind:
    """The registered kind ``name``; an unknown kind renders and sends like the base class."""
    return _KINDS.get(name) or _Unknown(name)


def kinds() -> Iterable[NotificationKind]:
    return _KINDS.values()


def kind_choices() -> list[tuple[str, Any]]:
    """``Outbox.kind``'s choices: every registered kind, in registration order."""
    return [(kind.name, kind.label) for kind in _KINDS.values()]


def register_scan(name: str, scan: Callable[..., int]) -> None:
    """A periodic producer of rows: ``scan(today=None) -> rows written``, idempotent, in a transaction."""
    _SCANS[name] = scan


def scans() -> dict[str, Callable[..., int]]:
    return dict(_SCANS)


class _Unknown(NotificationKind):
    """A row whose kind no app registers any more: it is skipped, not sent half-rendered."""

    def __init__(self, name: str):
        self.name = name
        self.label = name

    def skip_reason(self, row: Outbox, now: datetime.datetime) -> str:
        return str(_("未知的通知类型。"))
