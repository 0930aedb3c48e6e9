"""Building committees (楼委会) and their seats."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from core.constraints import ConstraintErrorFields
from core.history import tracked
from members.validators import validate_mobile


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


@tracked
class BuildingCommittee(models.Model):
    """楼宇委员会: one per building."""

    street_path = "building__street"
    district_path = "building__street__district"

    building = models.OneToOneField(
        "buildings.Building",
        on_delete=models.PROTECT,
        related_name="committee",
        verbose_name=_("楼宇"),
    )
    founded_on = models.DateField(_("成立日期"))
    term_starts_on = models.DateField(_("本届开始"))
    term_ends_on = models.DateField(_("本届结束"), db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("楼委会")
        verbose_name_plural = _("楼委会")
        ordering = ["building__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_ends_on__gt=F("term_starts_on")),
                name="%(app_label)s_%(class)s_term_ends_after_start",
                violation_error_message=_("本届结束日期必须晚于开始日期。"),
            ),
            models.CheckConstraint(
                condition=Q(term_starts_on__gte=F("founded_on")),
                name="%(app_label)s_%(class)s_term_after_founding",
                violation_error_message=_("本届开始日期不能早于成立日期。"),
            ),
        ]

    def __str__(self) -> str:
        return str(_("%(building)s楼委会") % {"building": self.building.name})


@tracked
class CommitteeSeat(ConstraintErrorFields, models.Model):
    """A seat on a committee. Seats are part of their committee (deleted with it)."""

    street_path = "committee__building__street"
    district_path = "committee__building__street__district"
    # "One building chief at a time" is about the role: it is shown next to it.
    constraint_error_fields = {"committees_committeeseat_one_current_single_role": "role"}

    class Role(models.TextChoices):
        BUILDING_CHIEF = "building_chief", _("楼长")
        FIRST_SECRETARY = "first_secretary", _("第一书记")
        DIRECTOR = "director", _("主任")
        PROPERTY_MANAGER = "property_manager", _("物业负责人")
        OWNER_REPRESENTATIVE = "owner_representative", _("业主代表")
        EMPLOYEE_REPRESENTATIVE = "employee_representative", _("职工代表")
        SOCIAL_WORKER = "social_worker", _("街道社工")
        ECONOMIC_COMMISSIONER = "economic_commissioner", _("经济服务专员")
        FLOOR_REPRESENTATIVE = "floor_representative", _("层长")
        MEMBER = "member", _("委员")

    SINGLE_ROLES = (Role.BUILDING_CHIEF, Role.FIRST_SECRETARY)

    committee = models.ForeignKey(
        BuildingCommittee, on_delete=models.CASCADE, related_name="seats", verbose_name=_("楼委会")
    )
    role = models.CharField(_("职务"), max_length=30, choices=Role.choices, db_index=True)
    floor = models.SmallIntegerField(_("负责楼层"), null=True, blank=True, help_text=_("层长必填"))
    person_name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=11, blank=True, validators=[validate_mobile])
    affiliation = models.CharField(_("所在单位"), max_length=150, blank=True)
    member = models.ForeignKey(
        "members.PartyMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="committee_seats",
        verbose_name=_("关联党员"),
    )
    starts_on = models.DateField(_("任职开始"))
    ends_on = models.DateField(_("任职结束"), null=True, blank=True, help_text=_("在任则留空"))

    class Meta:
        verbose_name = _("楼委会成员")
        verbose_name_plural = _("楼委会成员")
        ordering = ["committee_id", "role", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=F("starts_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("任职结束日期必须晚于开始日期。"),
            ),
            models.CheckConstraint(
                condition=~Q(role="floor_representative") | Q(floor__isnull=False),
                name="%(app_label)s_%(class)s_floor_rep_has_floor",
                violation_error_message=_("层长须填写负责楼层。"),
            ),
            # At most one building chief and one first secretary at any time:
            # their terms may not overlap (an open term runs to infinity).
            ExclusionConstraint(
                name="%(app_label)s_%(class)s_one_current_single_role",
                expressions=[
                    ("committee", RangeOperators.EQUAL),
                    ("role", RangeOperators.EQUAL),
                    (DateRange("starts_on", "ends_on", models.Value("[)")), RangeOperators.OVERLAPS),
                ],
                condition=Q(role__in=["building_chief", "first_secretary"]),
                violation_error_message=_("同一时期每个楼委会只能有一名楼长和一名第一书记。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.person_name}"

    def clean(self) -> None:
        if self.role == self.Role.FLOOR_REPRESENTATIVE and self.floor is None:
            raise ValidationError({"floor": _("层长须填写负责楼层。")})
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": _("任职结束日期必须晚于开始日期。")})
        if self.floor is not None and self.committee_id and self.floor > self.committee.building.floors:
            raise ValidationError({"floor": _("该楼宇只有%(n)s层。") % {"n": self.committee.building.floors}})


# --- The committee's work: visits, enterprise demands (急难愁盼), their timeline and files ----------


def private_storage():
    """Attachments live outside MEDIA_ROOT: no URL serves them, only the view that checks who asks."""
    from django.core.files.storage import FileSystemStorage

    class PrivateStorage(FileSystemStorage):
        def url(self, name):
            raise ValueError("private files have no public URL; use the demand attachment view")

    return PrivateStorage(
        location=getattr(settings, "PRIVATE_MEDIA_ROOT", settings.BASE_DIR / "var" / "private")
    )


class DemandCategory(models.Model):
    """A kind of demand (data, edited in the admin): who normally handles it and in how many working days."""

    class Level(models.TextChoices):
        COMMITTEE = "committee", _("楼委会")
        STREET = "street", _("街道")
        DISTRICT = "district", _("区")

    name = models.CharField(_("名称"), max_length=50, unique=True)
    handling_level = models.CharField(
        _("承办层级"), max_length=20, choices=Level.choices, default=Level.COMMITTEE
    )
    deadline_days = models.PositiveSmallIntegerField(
        _("办理时限（工作日）"), default=5, help_text=_("按国家法定工作日计算，含调休上班日。")
    )
    is_risk_signal = models.BooleanField(
        _("风险信号"), default=False, help_text=_("如欠薪、拟迁出：未办结时企业风险色升级。")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline_days__gte=1) & Q(deadline_days__lte=60),
                name="%(app_label)s_%(class)s_deadline_days_range",
                violation_error_message=_("办理时限须为1至60个工作日。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EnterpriseContact(models.Model):
    """The account that speaks for an enterprise (联络员): sees and follows all its demands."""

    street_path = "enterprise__building__street"
    district_path = "enterprise__building__street__district"

    enterprise = models.ForeignKey(
        "buildings.Enterprise", on_delete=models.CASCADE, related_name="contacts", verbose_name=_("企业")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enterprise_contacts",
        verbose_name=_("联络员账号"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业联络员")
        verbose_name_plural = _("企业联络员")
        ordering = ["enterprise_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "user"],
                name="%(app_label)s_%(class)s_unique",
                violation_error_message=_("该账号已是该企业的联络员。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.user}"


@tracked
class EnterpriseRiskOverride(models.Model):
    """A social worker's judgement of an enterprise's risk colour, over the computed one (issue 16).

    One row per enterprise at most (the current override); clearing it deletes the row. Who set
    it, when and why stay in the row and, through ``@tracked``, in its history.
    """

    class Colour(models.TextChoices):
        RED = "red", _("红")
        ORANGE = "orange", _("橙")
        YELLOW = "yellow", _("黄")
        BLUE = "blue", _("蓝")
        GREEN = "green", _("绿")

    street_path = "enterprise__building__street"
    district_path = "enterprise__building__street__district"

    enterprise = models.OneToOneField(
        "buildings.Enterprise",
        on_delete=models.CASCADE,
        related_name="risk_override",
        verbose_name=_("企业"),
    )
    colour = models.CharField(_("风险色"), max_length=10, choices=Colour.choices)
    reason = models.TextField(_("调整理由"), max_length=500)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("调整人"),
    )
    set_at = models.DateTimeField(_("调整时间"))

    class Meta:
        verbose_name = _("企业风险色调整")
        verbose_name_plural = _("企业风险色调整")
        ordering = ["-set_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="%(app_label)s_%(class)s_reason_required",
                violation_error_message=_("调整风险色须填写理由。"),
            ),
            models.CheckConstraint(
                condition=Q(colour__in=["red", "orange", "yellow", "blue", "green"]),
                name="%(app_label)s_%(class)s_colour_valid",
                violation_error_message=_("风险色无效。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.get_colour_display()}"


@tracked
class Visit(models.Model):
    """走访: a social worker (or committee member) visits an enterprise."""

    street_path = "enterprise__building__street"
    district_path = "enterprise__building__street__district"

    enterprise = models.ForeignKey(
        "buildings.Enterprise", on_delete=models.PROTECT, related_name="visits", verbose_name=_("企业")
    )
    visited_on = models.DateField(_("走访日期"), db_index=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits", verbose_name=_("走访人")
    )
    companions = models.CharField(_("同行人员"), max_length=200, blank=True)
    met_with = models.CharField(_("接待人"), max_length=100, blank=True)
    topics = models.TextField(_("交流内容"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业走访")
        verbose_name_plural = _("企业走访")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["enterprise", "-visited_on"], name="visit_enterprise_idx")]

    def __str__(self) -> str:
        return str(
            _("%(enterprise)s %(date)s走访") % {"enterprise": self.enterprise, "date": self.visited_on}
        )


@tracked
class Demand(ConstraintErrorFields, models.Model):
    """An enterprise's demand (急难愁盼) from intake to a rated close; its rules in committees/demands.py."""

    street_path = "building__street"
    district_path = "building__street__district"
    constraint_error_fields = {
        "committees_demand_declined_has_reason": "decline_reason",
        "committees_demand_resolved_has_resolution": "resolution",
        "committees_demand_rating_when_closed": "rating",
    }

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        ACCEPTED = "accepted", _("已受理")
        DECLINED = "declined", _("不予受理")
        ASSIGNED = "assigned", _("已交办")
        IN_PROGRESS = "in_progress", _("办理中")
        RESOLVED = "resolved", _("已办结待确认")
        REOPENED = "reopened", _("已重新打开")
        CLOSED = "closed", _("已关闭")

    OPEN_STATES = (
        State.SUBMITTED,
        State.ACCEPTED,
        State.ASSIGNED,
        State.IN_PROGRESS,
        State.REOPENED,
    )

    class HandlerKind(models.TextChoices):
        SEAT = "seat", _("楼委会成员")
        PROPERTY = "property", _("物业")
        STREET = "street", _("街道部门")
        DISTRICT = "district", _("区级部门")

    building = models.ForeignKey(
        "buildings.Building", on_delete=models.PROTECT, related_name="demands", verbose_name=_("楼宇")
    )
    enterprise = models.ForeignKey(
        "buildings.Enterprise", on_delete=models.PROTECT, related_name="demands", verbose_name=_("企业")
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="demands", verbose_name=_("提出人")
    )
    visit = models.ForeignKey(
        Visit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands",
        verbose_name=_("走访中提出"),
    )
    category = models.ForeignKey(
        DemandCategory, on_delete=models.PROTECT, related_name="demands", verbose_name=_("类别")
    )
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("详细描述"))
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    handler_kind = models.CharField(_("承办方类型"), max_length=20, choices=HandlerKind.choices, blank=True)
    handler_seat = models.ForeignKey(
        CommitteeSeat,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands",
        verbose_name=_("承办楼委会成员"),
    )
    handler_department = models.CharField(_("承办部门"), max_length=100, blank=True)
    deadline = models.DateField(_("办理时限"), db_index=True)
    resolution = models.TextField(_("办理结果"), blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    confirm_by = models.DateTimeField(_("确认截止"), null=True, blank=True)
    decline_reason = models.CharField(_("不予受理理由"), max_length=500, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业诉求")
        verbose_name_plural = _("企业诉求")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["building", "state", "-submitted_at"], name="demand_building_state_idx"),
            models.Index(fields=["enterprise", "state"], name="demand_enterprise_state_idx"),
            models.Index(fields=["submitter", "-submitted_at"], name="demand_submitter_idx"),
            models.Index(
                fields=["deadline"],
                condition=Q(state__in=["submitted", "accepted", "assigned", "in_progress", "reopened"]),
                name="demand_open_deadline_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "submitted",
                        "accepted",
                        "declined",
                        "assigned",
                        "in_progress",
                        "resolved",
                        "reopened",
                        "closed",
                    ]
                ),
                name="%(app_label)s_%(class)s_state_valid",
                violation_error_message=_("诉求状态无效。"),
            ),
            models.CheckConstraint(
                condition=~Q(state="declined") | ~Q(decline_reason=""),
                name="%(app_label)s_%(class)s_declined_has_reason",
                violation_error_message=_("不予受理须填写理由。"),
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["resolved", "closed"])
                | (~Q(resolution="") & Q(resolved_at__isnull=False)),
                name="%(app_label)s_%(class)s_resolved_has_resolution",
                violation_error_message=_("已办结的诉求须有办理结果和办结时间。"),
            ),
            models.CheckConstraint(
                condition=~Q(state="resolved") | Q(confirm_by__isnull=False),
                name="%(app_label)s_%(class)s_resolved_has_window",
                violation_error_message=_("已办结的诉求须有确认截止时间。"),
            ),
            models.CheckConstraint(
                condition=Q(state="closed", closed_at__isnull=False) | Q(closed_at__isnull=True),
                name="%(app_label)s_%(class)s_closed_at_when_closed",
                violation_error_message=_("只有已关闭的诉求有关闭时间。"),
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True, rating_comment="")
                | Q(state="closed", rating__gte=1, rating__lte=5),
                name="%(app_label)s_%(class)s_rating_when_closed",
                violation_error_message=_("只有已关闭的诉求可以评分，评分为1至5。"),
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["assigned", "in_progress"]) | ~Q(handler_kind=""),
                name="%(app_label)s_%(class)s_assigned_has_handler",
                violation_error_message=_("已交办的诉求须有承办方。"),
            ),
            models.CheckConstraint(
                condition=Q(handler_kind="seat", handler_seat__isnull=False)
                | (~Q(handler_kind="seat") & Q(handler_seat__isnull=True)),
                name="%(app_label)s_%(class)s_seat_iff_seat_handler",
                violation_error_message=_("承办方为楼委会成员时须选择成员，其他承办方不选成员。"),
            ),
            models.CheckConstraint(
                condition=Q(handler_kind__in=["", "seat"]) | ~Q(handler_department=""),
                name="%(app_label)s_%(class)s_department_named",
                violation_error_message=_("承办方为物业或部门时须填写名称。"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    def clean(self) -> None:
        if self.enterprise_id and self.building_id and self.enterprise.building_id != self.building_id:
            raise ValidationError({"enterprise": _("企业不在所选楼宇中。")})
        if (
            self.handler_seat_id
            and self.building_id
            and self.handler_seat.committee.building_id != self.building_id
        ):
            raise ValidationError({"handler_seat": _("承办人须为本楼宇楼委会成员。")})


class DemandStep(models.Model):
    """One line of a demand's timeline: a transition, a progress note or a meeting's follow-up."""

    street_path = "demand__building__street"
    district_path = "demand__building__street__district"

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="steps", verbose_name=_("诉求"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
        help_text=_("空：系统自动"),
    )
    at = models.DateTimeField(_("时间"))
    from_state = models.CharField(_("原状态"), max_length=20, choices=Demand.State.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, choices=Demand.State.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("诉求办理记录")
        verbose_name_plural = _("诉求办理记录")
        ordering = ["demand_id", "at", "id"]
        indexes = [models.Index(fields=["demand", "at"], name="demandstep_demand_at_idx")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.from_state}→{self.to_state}"

    @property
    def is_rating(self) -> bool:
        """The raiser's rating: a closed demand's step whose note is stars, then the comment
        (``committees.demands.rate_demand``)."""
        return self.to_state == self.from_state == Demand.State.CLOSED and self.note.startswith("★")


class DemandAttachment(models.Model):
    """A photo or PDF attached to a demand, stored privately (committees/views.py serves it)."""

    street_path = "demand__building__street"
    district_path = "demand__building__street__district"

    demand = models.ForeignKey(
        Demand, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("诉求")
    )
    file = models.FileField(_("文件"), upload_to="demands/%Y/%m/", storage=private_storage, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=50)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("诉求附件")
        verbose_name_plural = _("诉求附件")
        ordering = ["demand_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/jpeg", "image/png", "image/webp", "application/pdf"]),
                name="%(app_label)s_%(class)s_allowed_type",
                violation_error_message=_("附件只能是图片或PDF。"),
            )
        ]

    def __str__(self) -> str:
        return self.original_name


# --- Committee meetings (楼事会) -------------------------------------------------------------------


@tracked
class CommitteeMeeting(models.Model):
    """楼事会: a committee meeting, its attendance, the demands on its agenda and its resolutions."""

    street_path = "committee__building__street"
    district_path = "committee__building__street__district"

    committee = models.ForeignKey(
        BuildingCommittee, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("楼委会")
    )
    held_on = models.DateField(_("会议日期"), db_index=True)
    topic = models.CharField(_("议题"), max_length=200)
    minutes = models.TextField(_("会议纪要"), blank=True)
    attendees = models.ManyToManyField(
        CommitteeSeat, blank=True, related_name="meetings_attended", verbose_name=_("出席成员")
    )
    agenda = models.ManyToManyField(
        Demand, blank=True, related_name="meetings", verbose_name=_("议程中的诉求")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("楼事会")
        verbose_name_plural = _("楼事会")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.committee.building.name} {self.held_on} {self.topic}"


@tracked
class MeetingResolution(models.Model):
    """A decision of a meeting: who follows it up, by when; on a demand's timeline when it names one."""

    street_path = "meeting__committee__building__street"
    district_path = "meeting__committee__building__street__district"

    meeting = models.ForeignKey(
        CommitteeMeeting, on_delete=models.CASCADE, related_name="resolutions", verbose_name=_("楼事会")
    )
    demand = models.ForeignKey(
        Demand,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_resolutions",
        verbose_name=_("相关诉求"),
    )
    text = models.TextField(_("决议内容"))
    owner = models.ForeignKey(
        CommitteeSeat, on_delete=models.PROTECT, related_name="resolutions_owned", verbose_name=_("责任人")
    )
    due_on = models.DateField(_("完成期限"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("楼事会决议")
        verbose_name_plural = _("楼事会决议")
        ordering = ["meeting_id", "id"]

    def __str__(self) -> str:
        return self.text[:40]

    def clean(self) -> None:
        errors = {}
        if self.meeting_id and self.owner_id and self.owner.committee_id != self.meeting.committee_id:
            errors["owner"] = _("责任人须为本楼委会成员。")
        if (
            self.meeting_id
            and self.demand_id
            and self.demand.building_id != self.meeting.committee.building_id
        ):
            errors["demand"] = _("只能关联本楼宇的诉求。")
        if self.due_on and self.meeting_id and self.due_on < self.meeting.held_on:
            errors["due_on"] = _("完成期限不能早于会议日期。")
        if errors:
            raise ValidationError(errors)


@tracked
class Agreement(models.Model):
    """共建协议: a community partner and one or more building committees build together (e.g. "1 °C").

    Each side's commitments are AgreementCommitment rows. Near its end an active agreement
    reminds the street's social workers, once (committees/notifications.py).
    """

    street_path = "partner__street"
    district_path = "partner__street__district"
    partner_path = "partner"

    class Status(models.TextChoices):
        DRAFT = "draft", _("拟定中")
        ACTIVE = "active", _("履行中")
        ENDED = "ended", _("已结束")

    partner = models.ForeignKey(
        "buildings.Partner", on_delete=models.PROTECT, related_name="agreements", verbose_name=_("共建单位")
    )
    committees = models.ManyToManyField(
        BuildingCommittee, related_name="agreements", verbose_name=_("楼委会")
    )
    title = models.CharField(_("名称"), max_length=150)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("共建协议")
        verbose_name_plural = _("共建协议")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束日期必须晚于开始日期。"),
            )
        ]

    def __str__(self) -> str:
        return self.title


class AgreementCommitment(models.Model):
    """What one side of an agreement offers (the community opens its canteen; riders keep elderly company)."""

    street_path = "agreement__partner__street"
    district_path = "agreement__partner__street__district"
    partner_path = "agreement__partner"

    class Side(models.TextChoices):
        BUILDING = "building", _("楼宇方")
        COMMUNITY = "community", _("社区方")

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("共建协议")
    )
    side = models.CharField(_("承诺方"), max_length=10, choices=Side.choices)
    text = models.CharField(_("承诺内容"), max_length=200)

    class Meta:
        verbose_name = _("共建承诺")
        verbose_name_plural = _("共建承诺")
        ordering = ["agreement_id", "side", "id"]

    def __str__(self) -> str:
        return self.text
