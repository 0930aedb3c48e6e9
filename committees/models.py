"""Building committees (楼委会) and their seats."""

from __future__ import annotations

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
