"""``ScopedAdmin`` and the scoped inlines: what a staff user sees, chooses and changes is what
lies in their territory."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from core.adminkit.errors import constraint_violation, error_message, is_domain_error
from core.adminkit.export import stream_csv, xlsx_export
from core.adminkit.forms import include_in_validation, protect_personal_fields, with_form_error
from core.adminkit.history import HISTORY_LIMIT, history_entries, tracked_event_models
from core.adminkit.lookups import LookupGuardMixin
from core.adminkit.pagination import LargeTablePaginator
from core.masking import PERSONAL_FIELD_NAMES
from core.scoping import (
    can_view_personal_data,
    has_staff_scope,
    is_scoped_model,
    scope_queryset,
)


class ScopedQuerysetMixin:
    """Scoped querysets and scoped foreign-key / many-to-many choices."""

    #: fields holding phones / ID numbers (masked on change pages and in history)
    personal_fields: tuple[str, ...] = ()

    def scope_filter(self, request, queryset):
        """Narrow ``queryset`` to the user's territory (override to add more rules)."""
        if is_scoped_model(queryset.model):
            return scope_queryset(queryset, request.user)
        return queryset if request.user.is_superuser else queryset.none()

    def get_queryset(self, request):
        return self.scope_filter(request, super().get_queryset(request))

    def get_field_queryset(self, db, db_field, request):
        """FK/M2M choices: what the related model's admin lets this user see."""
        related_model = db_field.remote_field.model
        queryset = super().get_field_queryset(db, db_field, request)
        if queryset is None:
            queryset = related_model._default_manager.using(db).all()
        related_admin = self.admin_site._registry.get(related_model)
        if isinstance(related_admin, ScopedQuerysetMixin):
            return related_admin.scope_filter(request, queryset)
        if is_scoped_model(related_model):
            return scope_queryset(queryset, request.user)
        return queryset

    def hide_personal_data(self, request) -> bool:
        return bool(self.personal_fields) and not can_view_personal_data(request.user)


class ScopedInlineMixin(ScopedQuerysetMixin):
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = include_in_validation(formset.form, [formset.fk.name], inline=True)
        if self.hide_personal_data(request):
            formset.form = protect_personal_fields(formset.form, self.personal_fields)
        return formset


class ScopedTabularInline(ScopedInlineMixin, admin.TabularInline):
    extra = 0
    show_change_link = True


class ScopedStackedInline(ScopedInlineMixin, admin.StackedInline):
    extra = 0


class ReadOnlyInlineMixin:
    """An inline that lists rows written elsewhere (e.g. bookings, by the booking engine)."""

    can_delete = False
    extra = 0
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [*self.fields] if self.fields else [f.name for f in self.model._meta.fields]


#: Django's own message (translated by Django's catalog; a variable, so makemessages leaves it there)
ROW_CHECKBOX_LABEL = "Select this object for an action - {}"


class ScopedAdmin(LookupGuardMixin, ScopedQuerysetMixin, admin.ModelAdmin):
    """A ModelAdmin that shows, offers and changes only what lies in the user's territory.

    Its list applies only the lookups its own filters produce, never one on a masked or
    secret field (``core.adminkit.lookups``).
    """

    list_per_page = 50
    show_full_result_count = False  # one COUNT(*) per page is enough at city scale
    paginator = LargeTablePaginator  # ... and none for a whole big table
    #: columns of the CSV export (default: the list columns)
    export_fields: tuple[str, ...] | None = None
    history_template = "admin/scoped_history.html"
    #: tracked models whose rows belong to this one; their changes show in its history
    history_includes: tuple = ()

    def action_checkbox(self, obj):
        """Django's row checkbox, written directly: Django renders a CheckboxInput through the
        template engine for every row, a seventh of a 50-row member list's time. The markup is
        the same (tests/test_admin_performance.py compares the two)."""
        label = format_html(_t(ROW_CHECKBOX_LABEL), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            admin.helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    # Permissions: territory first, then Django's model permissions, then the object.

    def has_module_permission(self, request):
        return has_staff_scope(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if not has_staff_scope(request.user) or not super().has_view_permission(request, obj):
            return False
        return obj is None or self.is_in_scope(request, obj)

    def has_add_permission(self, request):
        return has_staff_scope(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if not has_staff_scope(request.user) or not super().has_change_permission(request, obj):
            return False
        return obj is None or self.is_in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        if not has_staff_scope(request.user) or not super().has_delete_permission(request, obj):
            return False
        return obj is None or self.is_in_scope(request, obj)

    def is_in_scope(self, request, obj) -> bool:
        if obj is None or obj.pk is None:
            return True
        cache = request.__dict__.setdefault("_admin_scope_cache", {})
        key = (obj._meta.label, obj.pk)
        if key not in cache:
            cache[key] = self.scope_filter(request, self.model._default_manager.filter(pk=obj.pk)).exists()
        return cache[key]

    # Forms: personal data protected, the saved object must stay in the territory.

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = include_in_validation(super().get_form(request, obj, change=change, **kwargs))
        if obj is not None and self.hide_personal_data(request):
            form = protect_personal_fields(form, self.personal_fields)
        refusal = getattr(request, "_admin_domain_error", None)
        if refusal is not None:
            form = with_form_error(form, error_message(refusal))
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A save the write side refuses is shown on the form, with the input kept, never a 500.

        The refused attempt ran inside the admin's transaction, which the
        exception rolled back; the form is then validated again with the
        refusal as its error, so nothing is saved and nothing typed is lost.
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Exception as exc:
            refusal = constraint_violation(exc) if isinstance(exc, IntegrityError) else exc
            if (
                request.method != "POST"
                or refusal is None
                or not is_domain_error(refusal)
                or hasattr(request, "_admin_domain_error")
            ):
                raise
            request._admin_domain_error = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.ensure_in_scope(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.ensure_in_scope(request, form.instance)

    def ensure_in_scope(self, request, obj) -> None:
        """Refuse (and, inside the admin's transaction, roll back) a save that leaves the territory."""
        request.__dict__.get("_admin_scope_cache", {}).pop((obj._meta.label, obj.pk), None)
        if not self.is_in_scope(request, obj):
            raise PermissionDenied(_t("该记录不在您负责的范围内。"))

    # Actions: CSV and Excel export on every list, domain actions with messages.

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_view_permission(request):
            for name in ("export_csv", "export_xlsx"):
                if name not in actions:
                    actions[name] = self.get_action(name)
        return actions

    def get_export_fields(self, request) -> list[str]:
        return list(self.export_fields or self.get_list_display(request))

    @admin.action(description=_("导出所选%(verbose_name_plural)s（CSV）"), permissions=["view"])
    def export_csv(self, request, queryset):
        queryset = self.scope_filter(request, queryset)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return stream_csv(self, request, queryset, f"{self.opts.model_name}-{stamp}.csv")

    @admin.action(description=_("导出所选%(verbose_name_plural)s（Excel）"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        queryset = self.scope_filter(request, queryset)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return xlsx_export(self, request, queryset, f"{self.opts.model_name}-{stamp}.xlsx")

    def run_domain_action(
        self,
        request,
        queryset,
        func: Callable,
        *,
        done_message: str,
        permission: str = "change",
    ) -> None:
        """Call the write side once per selected object; report successes and refusals in Chinese."""
        check = getattr(self, f"has_{permission}_permission")
        done = 0
        for obj in queryset:
            if not check(request, obj):
                self.message_user(request, _t("“%(obj)s”：没有权限。") % {"obj": obj}, messages.ERROR)
                continue
            try:
                func(obj)
            except ValidationError as exc:
                self.message_user(request, f"“{obj}”：{error_message(exc)}", messages.ERROR)
            except IntegrityError as exc:
                refusal = constraint_violation(exc)
                if refusal is None:
                    raise
                self.message_user(request, f"“{obj}”：{refusal.message}", messages.ERROR)
            except Exception as exc:
                if not is_domain_error(exc):
                    raise
                self.message_user(request, f"“{obj}”：{error_message(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    # History: the pghistory record of the object (who, when, before/after).

    def history_view(self, request, object_id, extra_context=None):
        if not tracked_event_models(self.model):
            return super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        hide = () if can_view_personal_data(request.user) else PERSONAL_FIELD_NAMES
        context = {
            **self.admin_site.each_context(request),
            "title": _t("变更记录：%s") % obj,
            "subtitle": None,
            "entries": history_entries(self.model, obj, hide_personal=hide, includes=self.history_includes),
            "history_limit": HISTORY_LIMIT,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_template, context)
