"""The notification bell: the unread count of the signed-in person's in-portal notifications."""

from __future__ import annotations


class _UnreadCount:
    """Called by the template engine when a template uses it, at most one query per request."""

    def __init__(self, user):
        self.user = user
        self.value: int | None = None

    def __call__(self) -> int:
        if self.value is None:
            from .selectors import unread_count

            self.value = unread_count(user=self.user)
        return self.value


def notifications(request) -> dict:
    """``notification_unread_count``: lazy, so pages that show no bell run no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_unread_count": _UnreadCount(user)}
