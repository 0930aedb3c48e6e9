"""The outbox (what must be delivered to whom) and the bell (what was delivered in the portal).

Nothing here knows a booking or a committee: a row names its *kind* (registered by
the app that writes it, ``registry``), its *cause* (unique per recipient and kind:
writing a row twice is a no-op), the record it is about (``subject``: any model, by
content type and id), a *topic* that groups rows across subjects (e.g. every row of
one event, ``event:42``, so that a change to the event finds them), the street it
belongs to (the admin's territory scoping) and whether it is *confidential* (who
booked a counselling slot: hidden from staff without the permission).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .registry import kind_choices


class Outbox(models.Model):
    """One notification to deliver to one person.

    Written by ``outbox.write`` in the same transaction as the change that causes it,
    so a notification exists exactly when its cause does. Workers claim due rows with
    ``SELECT ... FOR UPDATE SKIP LOCKED`` and record each attempt here; the broker only
    says "look now".
    """

    street_path = "street"
    district_path = "street__district"

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("已跳过")

    # Indexes are few on purpose: every send updates the row, and each index is one more
    # write per notification. The unique key leads with the recipient.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="notification_outbox",
        verbose_name=_("接收人"),
        db_index=False,
    )
    kind = models.CharField(_("类型"), max_length=30, choices=kind_choices)
    cause = models.CharField(
        _("起因"), max_length=150, help_text=_("引起该通知的对象和事件，如 booking:42:before:1440m")
    )
    # The territory every record of the portal belongs to (a string reference: the admin's
    # scoping reads it, this app imports nothing of buildings).
    street = models.ForeignKey(
        "buildings.Street",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所属街道"),
    )
    subject_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关于的记录类型"),
    )
    subject_id = models.PositiveBigIntegerField(_("关于的记录编号"), null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    topic = models.CharField(
        _("主题"), max_length=60, blank=True, help_text=_("把多条通知归在一起的对象，如 event:42")
    )
    confidential = models.BooleanField(_("保密"), default=False)
    context = models.JSONField(_("附加信息"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(_("应发时间"))
    next_attempt_at = models.DateTimeField(_("下次尝试"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    skip_reason = models.CharField(_("跳过原因"), max_length=200, blank=True)
    delivered_channels = models.JSONField(_("已送达渠道"), default=list, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    sent_by = models.CharField(_("发送进程"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知发件箱")
        verbose_name_plural = _("通知发件箱")
        ordering = ["-due_at", "-id"]
        indexes = [
            # The workers' claim: pending rows in next-attempt order.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="notif_pending_next_idx",
            ),
            models.Index(fields=["status", "-due_at"], name="notif_status_due_idx"),
            # A change to an event finds its pending reminders; most rows have a topic.
            models.Index(fields=["topic", "kind", "status"], name="notif_topic_kind_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="notif_subject_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "cause"],
                name="%(app_label)s_%(class)s_unique_key",
                violation_error_message=_("该通知已存在。"),
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="%(app_label)s_%(class)s_sent_at_iff_sent",
                violation_error_message=_("只有已发送的通知才有发送时间。"),
            ),
            models.CheckConstraint(
                condition=Q(subject_type__isnull=True, subject_id__isnull=True)
                | Q(subject_type__isnull=False, subject_id__isnull=False),
                name="%(app_label)s_%(class)s_subject_whole",
                violation_error_message=_("关于的记录须同时有类型和编号。"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} → {self.recipient_id}"

    @classmethod
    def confidential_q(cls) -> Q:
        """Rows hidden from staff without the confidentiality permission (core.scoping)."""
        return Q(confidential=True)


class PortalNotification(models.Model):
    """A notification in the portal's bell: delivered from one outbox row, at most once."""

    outbox = models.OneToOneField(
        Outbox,
        on_delete=models.PROTECT,
        related_name="portal_notification",
        verbose_name=_("发件记录"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="portal_notifications",
        verbose_name=_("接收人"),
        db_index=False,  # notif_bell_recipient_idx leads with it
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    url = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_bell_recipient_idx"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notif_bell_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title
