"""``{% admin_dashboard_url as url %}``: the admin dashboard's address, for those it has figures for."""

from __future__ import annotations

from django import template
from django.urls import reverse

from core.scoping import has_staff_scope

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_dashboard_url(context) -> str:
    """The dashboard's URL for a superuser, district staff or a street social worker; else "".

    The same rule services/dashboard.py uses to decide whether it has anything to show.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    return reverse("admin_dashboard") if has_staff_scope(user) else ""
