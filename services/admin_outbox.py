"""The notification outbox in the admin: delivery status with filters, and "send again".

Extends the read-only outbox admin of services/admin.py (scoped to the staff
member's territory, counselling hidden without the permission) with what the
person watching deliveries needs: the error, the channels that delivered, and
an action that gives failed notifications a fresh round of attempts.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from core.adminkit import DistrictListFilter, StreetListFilter
from services.admin import NotificationOutboxAdmin as _ReadOnlyOutboxAdmin
from services.models import NotificationOutbox
from services.notifications import requeue


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


class NotificationOutboxAdmin(_ReadOnlyOutboxAdmin):
    list_display = (
        "id",
        "kind",
        "recipient",
        "status",
        "due_at",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "channels",
        "problem",
    )
    list_filter = ("status", "kind", HasErrorFilter, StreetListFilter, DistrictListFilter)
    search_fields = ("recipient__username", "recipient__email", "cause")
    actions = ("send_again",)

    @admin.display(description=_("已送达渠道"))
    def channels(self, obj) -> str:
        return "、".join(obj.delivered_channels) or "—"

    @admin.display(description=_("错误/跳过原因"))
    def problem(self, obj) -> str:
        text = obj.last_error or obj.skip_reason
        return (text[:120] + "…") if len(text) > 120 else (text or "—")

    def has_send_again_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("services.change_notificationoutbox")

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


admin.site.unregister(NotificationOutbox)
admin.site.register(NotificationOutbox, NotificationOutboxAdmin)
