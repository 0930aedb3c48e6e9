"""The notification outbox in the admin: what was sent, will be sent or failed, and "send again".

Read-only but for the action: rows are written by the apps' write functions only.
Scoped to the staff member's territory; confidential rows (who booked a counselling
slot) only with the permission. The error, the channels that delivered, and an action
that gives failed notifications a fresh round of attempts.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from core.adminkit import DistrictListFilter, ScopedAdmin, StreetListFilter
from core.scoping import hide_confidential

from .models import Outbox
from .outbox import requeue


class HasErrorFilter(admin.SimpleListFilter):
    title = _("有无错误")
    parameter_name = "has_error"

    def lookups(self, request, model_admin):
        return (("yes", _("有错误")), ("no", _("无错误")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(last_error="")
        if self.value() == "no":
            return queryset.filter(last_error="")
        return queryset


@admin.register(Outbox)
class OutboxAdmin(ScopedAdmin):
    list_display = (
        "id",
        "kind",
        "recipient",
        "status",
        "due_at",
        "attempts",
        "sent_or_next",
        "channels",
        "problem",
    )
    list_select_related = ("recipient",)
    list_filter = ("status", "kind", HasErrorFilter, StreetListFilter, DistrictListFilter)
    search_fields = ("recipient__username", "recipient__email", "cause")
    date_hierarchy = "due_at"
    actions = ("send_again",)

    def scope_filter(self, request, queryset):
        return hide_confidential(super().scope_filter(request, queryset), request.user)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("发送时间 / 下次尝试"), ordering="next_attempt_at")
    def sent_or_next(self, obj) -> str:
        # One column for "sent at" and "next attempt" (a row has only one of them that matters):
        # the outbox list fits a 1366-px laptop (issue 15).
        when = obj.sent_at if obj.status == Outbox.Status.SENT else None
        if when is None and obj.status in (Outbox.Status.PENDING, Outbox.Status.FAILED):
            when = obj.next_attempt_at
        return timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else "—"

    @admin.display(description=_("已送达渠道"))
    def channels(self, obj) -> str:
        return "、".join(obj.delivered_channels) or "—"

    @admin.display(description=_("错误/跳过原因"))
    def problem(self, obj) -> str:
        text = obj.last_error or obj.skip_reason
        return (text[:120] + "…") if len(text) > 120 else (text or "—")

    def has_send_again_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("notifications.change_outbox")

    @admin.action(description=_("重新发送所选的发送失败通知"), permissions=["send_again"])
    def send_again(self, request, queryset):
        with transaction.atomic():
            count = requeue(rows=queryset)
        ignored = queryset.count() - count
        if count:
            self.message_user(
                request, _t("已将 %(n)d 条通知重新放入发送队列。") % {"n": count}, messages.SUCCESS
            )
        if ignored:
            self.message_user(
                request,
                _t("%(n)d 条不是“发送失败”状态，未重新发送（已发送的不会重复发送）。") % {"n": ignored},
                messages.WARNING,
            )
