"""Spreadsheet import and export for an admin list: ``SpreadsheetAdminMixin``.

``class PartyMemberAdmin(SpreadsheetAdminMixin, ScopedAdmin)`` gives the member list:

* an "导入" button → upload page (the template to download, what each column means, the
  user's recent imports) → preview page (per row: new / changed with the differences /
  unchanged / invalid with column and message; the invalid rows as a spreadsheet) →
  confirm (every valid row, or with "全部或全不" nothing if a row is invalid) → result;
* exports (.xlsx and CSV) in the template's columns, so export → edit → import round-trips.

The resource is the model's registered one (``core.spreadsheets.registry``). Pages,
URLs and names follow django-import-export's admin (``admin:<app>_<model>_import``), but
the views are ours: the library's import view offers no confirmation once a single row
is invalid, keeps the upload in a temporary file only the web process can read, and
has no progress for a long import; here the file and the report live on an import
log row (``ImportJob``) that a Celery worker can pick up, and the write side is
``core.spreadsheets.jobs``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.adminkit.errors import error_message
from core.errors import DomainError
from core.spreadsheets import jobs, writer
from core.spreadsheets.engine import KIND_LABELS
from core.spreadsheets.errors import SpreadsheetRefused
from core.spreadsheets.files import max_bytes
from core.spreadsheets.models import ImportJob
from core.spreadsheets.registry import registered

ROWS_PER_PAGE = 100
require_post = method_decorator(require_POST)


class UploadForm(forms.Form):
    import_file = forms.FileField(
        label=_("电子表格文件"),
        help_text=_("Excel（.xlsx）或 CSV（UTF-8 或 GBK 编码），不超过 50 MB。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


class ConfirmForm(forms.Form):
    all_or_nothing = forms.BooleanField(
        label=_("全部或全不：只要有一行有误，就一行也不导入"),
        required=False,
    )


class SpreadsheetAdminMixin:
    """Import (template, preview, error rows, confirm) and .xlsx/CSV export in the template's columns."""

    import_template = "admin/spreadsheets/import.html"
    import_job_template = "admin/spreadsheets/job.html"

    # --- What and who -----------------------------------------------------------------

    def spreadsheet_resource_class(self):
        resource_class = registered().get(self.opts.label_lower)
        if resource_class is None:
            raise LookupError(f"no spreadsheet resource registered for {self.opts.label_lower}")
        return resource_class

    def spreadsheet_resource(self, request):
        return self.spreadsheet_resource_class()(user=request.user)

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def _url(self, name: str, *args) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("import/", wrap(self.import_view), name=f"{info}_import"),
            path("import/template/", wrap(self.import_template_view), name=f"{info}_import_template"),
            path("import/<int:job_id>/", wrap(self.import_job_view), name=f"{info}_import_job"),
            path("import/<int:job_id>/errors/", wrap(self.import_errors_view), name=f"{info}_import_errors"),
            path(
                "import/<int:job_id>/confirm/", wrap(self.import_confirm_view), name=f"{info}_import_confirm"
            ),
            path(
                "import/<int:job_id>/discard/", wrap(self.import_discard_view), name=f"{info}_import_discard"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if self.has_import_permission(request):
            extra_context["spreadsheet_import_url"] = self._url("import")
            extra_context["spreadsheet_template_url"] = self._url("import_template")
        return super().changelist_view(request, extra_context)

    def _context(self, request, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "has_view_permission": self.has_view_permission(request),
            "changelist_url": self._url("changelist"),
            **extra,
        }

    # --- Import -----------------------------------------------------------------------

    def import_template_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return writer.template_response(self.spreadsheet_resource(request), basename=self.opts.model_name)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            try:
                if upload.size > max_bytes():
                    jobs.check_size(upload.size)  # refuses before reading 50 MB into memory
                job = jobs.start_import(
                    user=request.user,
                    model_label=self.opts.label_lower,
                    file_name=upload.name,
                    data=upload.read(),
                )
            except SpreadsheetRefused as refusal:
                form.add_error("import_file", refusal.message)
            else:
                self._run_or_enqueue(job, "preview")
                return HttpResponseRedirect(self._url("import_job", job.pk))
        resource = self.spreadsheet_resource(request)
        recent = ImportJob.objects.filter(user=request.user, model_label=self.opts.label_lower)[:10]
        context = self._context(
            request,
            _t("导入%(name)s") % {"name": self.opts.verbose_name_plural},
            form=form,
            help_rows=resource.help_rows(),
            key_columns="、".join(resource.fields[n].column_name for n in resource.get_import_id_fields()),
            template_url=self._url("import_template"),
            recent=[(job, self._url("import_job", job.pk)) for job in recent],
            media=self.media + form.media,
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.import_template, context)

    def _run_or_enqueue(self, job: ImportJob, step: str) -> None:
        """Small files in the request; large ones in a Celery task, after this transaction commits."""
        from core.spreadsheets import tasks

        if job.total_rows <= jobs.sync_rows():
            if step == "preview":
                jobs.preview_import(job_id=job.pk)
            else:
                jobs.apply_import(job_id=job.pk)
            return
        task = tasks.preview_import_task if step == "preview" else tasks.apply_import_task
        transaction.on_commit(lambda: task.delay(job.pk))

    def _job(self, request, job_id: int) -> ImportJob:
        if not self.has_import_permission(request):
            raise PermissionDenied
        job = ImportJob.objects.filter(pk=job_id, model_label=self.opts.label_lower).first()
        if job is None or (job.user_id != request.user.pk and not request.user.is_superuser):
            raise Http404
        return job

    def import_job_view(self, request, job_id: int):
        job = self._job(request, job_id)
        report = job.report or {}
        rows = report.get("rows", [])
        kinds = [
            k
            for k in ("invalid", "error", "changed", "new", "unchanged")
            if any(r["kind"] == k for r in rows)
        ]
        shown = request.GET.get("kind") or ("invalid" if "invalid" in kinds else "")
        selected = [r for r in rows if (r["kind"] == shown if shown else r["kind"] != "unchanged")]
        page = Paginator(selected, ROWS_PER_PAGE).get_page(request.GET.get("page"))
        context = self._context(
            request,
            _t("导入%(name)s：%(file)s") % {"name": self.opts.verbose_name_plural, "file": job.file_name},
            job=job,
            page=page,
            shown=shown,
            kind_links=[(k, KIND_LABELS[k], sum(1 for r in rows if r["kind"] == k)) for k in kinds],
            kind_labels={k: str(v) for k, v in KIND_LABELS.items()},
            confirm_form=ConfirmForm(initial={"all_or_nothing": job.all_or_nothing}),
            import_url=self._url("import"),
            errors_url=self._url("import_errors", job.pk),
            confirm_url=self._url("import_confirm", job.pk),
            discard_url=self._url("import_discard", job.pk),
            refresh=job.is_active,
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.import_job_template, context)

    def import_errors_view(self, request, job_id: int):
        job = self._job(request, job_id)
        if not job.invalid_count:
            raise Http404
        return writer.error_rows_response(job, basename=self.opts.model_name)

    @require_post
    def import_confirm_view(self, request, job_id: int):
        job = self._job(request, job_id)
        form = ConfirmForm(request.POST)
        form.is_valid()
        try:
            job = jobs.claim_for_apply(
                job_id=job.pk, by=request.user, all_or_nothing=form.cleaned_data.get("all_or_nothing", False)
            )
        except DomainError as refusal:
            self.message_user(request, error_message(refusal), messages.ERROR)
        else:
            self._run_or_enqueue(job, "apply")
            job.refresh_from_db()
            if job.status == ImportJob.Status.APPLIED:
                self.message_user(
                    request,
                    _t(
                        "导入完成：新增 %(new)d 条，修改 %(changed)d 条，未变 %(unchanged)d 条，有误未导入 %(invalid)d 条。"
                    )
                    % {
                        "new": job.new_count,
                        "changed": job.changed_count,
                        "unchanged": job.unchanged_count,
                        "invalid": job.invalid_count,
                    },
                    messages.SUCCESS,
                )
            # rolled back or failed: the job's page says why (job.message)
        return HttpResponseRedirect(self._url("import_job", job_id))

    @require_post
    def import_discard_view(self, request, job_id: int):
        job = self._job(request, job_id)
        try:
            jobs.discard_import(job_id=job.pk, by=request.user)
        except DomainError as refusal:
            self.message_user(request, error_message(refusal), messages.ERROR)
            return HttpResponseRedirect(self._url("import_job", job_id))
        self.message_user(request, _t("已放弃这次导入，没有写入任何数据。"), messages.INFO)
        return HttpResponseRedirect(self._url("import"))

    # --- Export -------------------------------------------------------------------------

    def _export(self, request, queryset, file_format: str):
        queryset = self.scope_filter(request, queryset)
        return writer.export_response(
            self.spreadsheet_resource(request),
            queryset,
            file_format=file_format,
            basename=self.opts.model_name,
        )

    @admin.action(description=_("导出所选%(verbose_name_plural)s（CSV，可再导入）"), permissions=["view"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description=_("导出所选%(verbose_name_plural)s（Excel，可再导入）"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, "xlsx")
