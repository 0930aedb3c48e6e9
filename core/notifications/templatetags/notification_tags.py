"""``{% notification_failures %}``: the failed notifications of the viewer's territory (admin dashboard)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from core.notifications import registry
from core.notifications.selectors import failed_notifications
from core.notifications.sender import load_subjects

register = template.Library()


@register.inclusion_tag("notifications/_admin_failures_list.html", takes_context=True)
def notification_failures(context, limit: int = 5) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"count": 0}
    qs = failed_notifications(user=user)
    items = list(qs[:limit])
    load_subjects(items)
    for row in items:
        row.about = registry.get(row.kind).describe(row)
    count = len(items) if len(items) < limit else qs.count()
    return {
        "items": items,
        "count": count,
        "url": reverse("admin:notifications_outbox_changelist") + "?status__exact=failed"
        if user.has_perm("notifications.view_outbox")
        else "",
    }
