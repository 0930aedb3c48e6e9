"""Read side of notifications: failed sends of a territory, a person's bell."""

from __future__ import annotations

from django.db.models import QuerySet

from core.scoping import hide_confidential, scope_queryset

from .models import Outbox, PortalNotification


def failed_notifications(*, user) -> QuerySet[Outbox]:
    """Failed sends in ``user``'s territory, newest first (the social worker's dashboard).

    Confidential rows (who booked a counselling slot) only with the permission, failures included.
    """
    qs = scope_queryset(Outbox.objects.filter(status=Outbox.Status.FAILED).select_related("recipient"), user)
    return hide_confidential(qs, user).order_by("-updated_at", "-id")


def portal_notifications(*, user) -> QuerySet[PortalNotification]:
    """The person's own in-portal notifications, newest first."""
    return (
        PortalNotification.objects.filter(recipient=user)
        .select_related("outbox")
        .order_by("-created_at", "-id")
    )


def unread_count(*, user) -> int:
    return PortalNotification.objects.filter(recipient=user, read_at__isnull=True).count()
