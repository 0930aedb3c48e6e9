"""The notification bell: the unread count of the signed-in person's in-portal notifications."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject


def _unread_count(user) -> int:
    from services.models import PortalNotification

    return PortalNotification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications(request) -> dict:
    """``notification_unread_count``: lazy, so pages that show no bell run no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_unread_count": SimpleLazyObject(lambda: _unread_count(user))}
