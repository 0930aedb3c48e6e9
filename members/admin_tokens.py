"""Admin for API keys: issue (the key is shown once, in a message), see last use, revoke.

Only superusers manage keys. Keys are never deleted (the record of who held
access, and when, stays); they are revoked.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from core.adminkit.lookups import LookupGuardMixin

from .models import ApiToken
from .tokens import DEFAULT_LIFETIME, MAX_LIFETIME, issue_token, revoke_token


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("expires_at", timezone.now() + DEFAULT_LIFETIME)

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        now = timezone.now()
        if value <= now and not self.instance.pk:
            raise forms.ValidationError(_("到期时间必须晚于现在。"))
        start = self.instance.created_at or now
        if value <= start:
            raise forms.ValidationError(_("到期时间必须晚于签发时间。"))
        if value - start > MAX_LIFETIME:
            raise forms.ValidationError(_("密钥有效期最长为三年。"))
        return value


class TokenStateFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("有效")), ("expired", _("已过期")), ("revoked", _("已吊销"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(LookupGuardMixin, admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["name", "user", "prefix_display", "state", "created_at", "expires_at", "last_used_at"]
    list_filter = [TokenStateFilter]
    list_select_related = ["user"]
    # Not the prefix: it is part of the key (core.masking); it shows in the list.
    search_fields = ["name", "user__username"]
    autocomplete_fields = ["user"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "prefix_display",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        # The holder of an issued key never changes; its name and expiry may.
        return [*self.readonly_fields, "user"] if obj else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "expires_at"]
        return ["user", "name", "prefix_display", "expires_at", *self.readonly_fields[1:]]

    @admin.display(description=_("密钥前缀"))
    def prefix_display(self, obj) -> str:
        return format_html("<code>{}…</code>", obj.prefix) if obj and obj.prefix else "—"

    @admin.display(description=_("状态"))
    def state(self, obj) -> str:
        if obj.revoked_at:
            return _t("已吊销")
        if obj.is_expired():
            return _t("已过期")
        return _t("有效")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = issue_token(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=request.user,
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the saved row.
        obj.pk = token.pk
        for field in ("prefix", "key_hash", "created_at", "created_by_id", "name", "expires_at"):
            setattr(obj, field, getattr(token, field))
        obj._state.adding = False
        obj._state.db = token._state.db
        messages.warning(
            request,
            format_html(
                "{} <code>{}</code>",
                _t(
                    "新密钥如下，只显示这一次，请立即复制并交给使用方（请求头 Authorization: Token <密钥>）："
                ),
                key,
            ),
        )

    @admin.action(description=_("吊销所选密钥"))
    def revoke_selected(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            revoke_token(token=token, by=request.user)
            count += 1
        self.message_user(request, _t("已吊销 %(n)s 个密钥。") % {"n": count}, messages.SUCCESS)
