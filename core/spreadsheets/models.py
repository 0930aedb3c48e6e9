"""The import log: one row per uploaded file — who imported which file into what, when, and the counts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """An uploaded spreadsheet and what became of it: preview, confirmation, result.

    The file's bytes are kept only until the import is applied or discarded (they hold
    personal data); the report keeps each row's outcome, and the invalid rows' cells
    so that they can still be downloaded to be fixed.
    """

    class Status(models.TextChoices):
        PREVIEWING = "previewing", _("预览中")
        PREVIEWED = "previewed", _("待确认")
        APPLYING = "applying", _("导入中")
        APPLIED = "applied", _("已导入")
        ROLLED_BACK = "rolled_back", _("未导入（有错误行）")
        FAILED = "failed", _("失败")
        DISCARDED = "discarded", _("已放弃")

    ACTIVE = (Status.PREVIEWING, Status.APPLYING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("导入人"),
        help_text=_("空：服务器上的命令行导入"),
    )
    model_label = models.CharField(_("数据类型"), max_length=100, db_index=True)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_size = models.PositiveBigIntegerField(_("文件大小（字节）"))
    file_sha256 = models.CharField(_("文件摘要"), max_length=64)
    data = models.BinaryField(_("文件内容"), null=True, blank=True, editable=False)
    all_or_nothing = models.BooleanField(_("全部或全不"), default=False)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PREVIEWING)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    new_count = models.PositiveIntegerField(_("新增"), default=0)
    changed_count = models.PositiveIntegerField(_("修改"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变"), default=0)
    invalid_count = models.PositiveIntegerField(_("有误"), default=0)
    report = models.JSONField(_("逐行结果"), default=dict, blank=True, editable=False)
    message = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    previewed_at = models.DateTimeField(_("预览完成时间"), null=True, blank=True)
    applied_at = models.DateTimeField(_("导入完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="importjob_user_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_rows__lte=F("total_rows")),
                name="%(app_label)s_%(class)s_progress_within_total",
                violation_error_message=_("已处理行数不能多于总行数。"),
            ),
            models.CheckConstraint(
                condition=Q(status="applied", applied_at__isnull=False) | ~Q(status="applied"),
                name="%(app_label)s_%(class)s_applied_has_time",
                violation_error_message=_("已导入的记录须有导入完成时间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def progress_percent(self) -> int:
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0

    @property
    def history_label(self) -> str:
        """How the history names this import: "导入 #12（members.xlsx）"."""
        from django.utils.translation import gettext as _t

        return _t("导入 #%(id)s（%(file)s）") % {"id": self.pk, "file": self.file_name}
