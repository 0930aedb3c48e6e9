"""The portal's notification list (the bell's target): newest first, marked read when opened."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .messages import render_portal
from .models import PortalNotification
from .selectors import portal_notifications
from .sender import load_subjects

logger = logging.getLogger("core.notifications")

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
    # Each one rendered now, in the language of the page, as short HTML with its link.
    language = translation.get_language() or settings.LANGUAGE_CODE
    rows = [n.outbox for n in items]
    load_subjects(rows)
    for n in items:
        try:
            n.view = render_portal(n.outbox, user=request.user, language=language)
        except Exception:  # an unknown kind or a broken template: the stored text, not a 500
            logger.exception("notifications: cannot render portal notification %s", n.pk)
            n.view = None
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
