"""The portal's notification list (the bell's target): newest first, marked read when opened."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .models import PortalNotification
from .selectors import portal_notifications

NOTIFICATIONS_PER_PAGE = 20


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The person's own notifications. Opening the page marks the ones shown as read;
    they are still highlighted as new on this one rendering."""
    qs = portal_notifications(user=request.user)
    page = Paginator(qs, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    unread = {n.pk for n in items if n.read_at is None}
    if unread:
        PortalNotification.objects.filter(pk__in=unread, recipient=request.user).update(
            read_at=timezone.now()
        )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "items": items, "unread": unread},
    )


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = PortalNotification.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if count:
        messages.success(request, _("已将%(n)s条通知标为已读。") % {"n": count})
    return redirect("notifications:list")
