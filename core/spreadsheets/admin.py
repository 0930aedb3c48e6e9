"""The import log in the admin: who imported which file into what, when, and the counts.

Read-only: rows are written by ``core.spreadsheets.jobs``. Each person sees their own
imports (a superuser sees all); a row links to the import's own page in the list it
belongs to (its preview, result and error rows).
"""

from __future__ import annotations

from django.apps import apps as django_apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from core.adminkit import ScopedAdmin
from core.scoping import has_staff_scope

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdmin):
    list_display = (
        "id",
        "created_at",
        "user",
        "kind_of_records",
        "page_link",
        "status",
        "total_rows",
        "new_count",
        "changed_count",
        "unchanged_count",
        "invalid_count",
        "applied_at",
    )
    list_display_links = ("id",)
    list_select_related = ("user",)
    # No list filters: a person's own imports are a short list (newest first, importjob_user_created_idx).
    search_fields = ("file_name", "user__username")
    fields = (
        "user",
        "model_label",
        "file_name",
        "file_size",
        "file_sha256",
        "status",
        "all_or_nothing",
        "total_rows",
        "new_count",
        "changed_count",
        "unchanged_count",
        "invalid_count",
        "message",
        "created_at",
        "previewed_at",
        "applied_at",
    )
    readonly_fields = fields

    def scope_filter(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)

    # Every staff member sees their own imports; nobody writes here.
    def has_view_permission(self, request, obj=None):
        if not has_staff_scope(request.user):
            return False
        return obj is None or request.user.is_superuser or obj.user_id == request.user.pk

    def has_module_permission(self, request):
        return has_staff_scope(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("数据类型"), ordering="model_label")
    def kind_of_records(self, obj) -> str:
        try:
            return str(django_apps.get_model(obj.model_label)._meta.verbose_name_plural)
        except LookupError:
            return obj.model_label

    @admin.display(description=_("文件名"), ordering="file_name")
    def page_link(self, obj):
        app_label, model_name = obj.model_label.split(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_import_job", args=[obj.pk])
        except NoReverseMatch:
            return obj.file_name
        return format_html('<a href="{}" title="{}">{}</a>', url, _t("查看逐行结果"), obj.file_name)
