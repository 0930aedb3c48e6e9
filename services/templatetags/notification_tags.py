"""``{% notification_failures %}``: the failed notifications of the viewer's territory (admin dashboard)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from services.notifications import failed_notifications

register = template.Library()


@register.inclusion_tag("notifications/_admin_failures_list.html", takes_context=True)
def notification_failures(context, limit: int = 5) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"count": 0}
    qs = failed_notifications(user=user)
    items = list(qs[:limit])
    count = len(items) if len(items) < limit else qs.count()
    return {
        "items": items,
        "count": count,
        "url": reverse("admin:services_notificationoutbox_changelist") + "?status__exact=failed"
        if user.has_perm("services.view_notificationoutbox")
        else "",
    }
