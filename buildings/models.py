"""Where everything happens: District → Street → Building → Enterprise."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.constraints import ConstraintErrorFields

from .validators import validate_credit_code


class District(models.Model):
    """区: Jing'an, Pudong New Area, ..."""

    street_path = None  # a district is not under one street: see scope_q_for_streets
    district_path = "pk"

    name = models.CharField(_("名称"), max_length=50, unique=True)
    code = models.CharField(_("区划代码"), max_length=12, unique=True, help_text=_("如 310106"))

    class Meta:
        verbose_name = _("区")
        verbose_name_plural = _("区")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q_for_streets(cls, street_ids) -> models.Q:
        """A social worker sees the districts of their streets (``core.scoping.scope_q``)."""
        return models.Q(pk__in=Street.objects.filter(pk__in=street_ids).values("district_id"))


class Street(ConstraintErrorFields, models.Model):
    """街道 / 镇, the social worker's patch."""

    street_path = "pk"
    district_path = "district"
    constraint_error_fields = {"buildings_street_unique_name_in_district": "name"}

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="streets", verbose_name=_("区")
    )
    name = models.CharField(_("名称"), max_length=50)
    code = models.CharField(_("代码"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("街道/镇")
        verbose_name_plural = _("街道/镇")
        ordering = ["district__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_district",
                violation_error_message=_("该区已有同名街道。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.district.name} · {self.name}"


class Building(ConstraintErrorFields, models.Model):
    """楼宇: an office tower with its tenants."""

    street_path = "street"
    district_path = "street__district"
    constraint_error_fields = {"buildings_building_unique_name_in_street": "name"}

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("街道")
    )
    name = models.CharField(_("楼宇名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200)
    floors = models.PositiveSmallIntegerField(_("楼层数"))
    floor_area_m2 = models.DecimalField(_("建筑面积（㎡）"), max_digits=12, decimal_places=2)
    is_key_building = models.BooleanField(_("重点楼宇"), default=False, db_index=True)
    property_company = models.CharField(_("物业公司"), max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(_("从业人员数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("楼宇")
        verbose_name_plural = _("楼宇")
        ordering = ["street_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_street",
                violation_error_message=_("该街道已有同名楼宇。"),
            ),
            models.CheckConstraint(
                condition=Q(floors__gte=1) & Q(floors__lte=200),
                name="%(app_label)s_%(class)s_floors_range",
                violation_error_message=_("楼层数应在1到200之间。"),
            ),
            models.CheckConstraint(
                condition=Q(floor_area_m2__gt=0),
                name="%(app_label)s_%(class)s_area_positive",
                violation_error_message=_("建筑面积必须大于0。"),
            ),
        ]
        indexes = [models.Index(fields=["name"], name="building_name_idx")]

    def __str__(self) -> str:
        return self.name


class Enterprise(ConstraintErrorFields, models.Model):
    """入驻企业: a tenant company of a building."""

    street_path = "building__street"
    district_path = "building__street__district"
    constraint_error_fields = {"buildings_enterprise_unique_name_in_building": "name"}

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="enterprises", verbose_name=_("所在楼宇")
    )
    name = models.CharField(_("企业名称"), max_length=150)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    floor = models.SmallIntegerField(_("所在楼层"), help_text=_("地下楼层用负数表示"))
    employee_count = models.PositiveIntegerField(_("员工数"), default=0)
    party_member_count = models.PositiveIntegerField(_("党员数"), default=0)
    industry = models.CharField(_("行业"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["building_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_building",
                violation_error_message=_("该楼宇已有同名企业。"),
            ),
            models.CheckConstraint(
                condition=Q(party_member_count__lte=F("employee_count")),
                name="%(app_label)s_%(class)s_members_within_employees",
                violation_error_message=_("党员数不能多于员工数。"),
            ),
            models.CheckConstraint(
                condition=Q(credit_code__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"),
                name="%(app_label)s_%(class)s_credit_code_format",
                violation_error_message=_("统一社会信用代码格式不正确。"),
            ),
        ]
        indexes = [models.Index(fields=["name"], name="enterprise_name_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.credit_code:
            self.credit_code = self.credit_code.strip().upper()
        if self.building_id and self.floor is not None and self.floor > self.building.floors:
            raise ValidationError({"floor": _("该楼宇只有%(n)s层。") % {"n": self.building.floors}})


class Partner(ConstraintErrorFields, models.Model):
    """共建单位: a community unit beside the buildings (neighbourhood committee, school, ...).

    A territorial unit in its street like a building. Its staff are the accounts assigned to it
    (``members.User.partner``); they see its places, pairings and registrations (``partner_path``).
    """

    street_path = "street"
    district_path = "street__district"
    partner_path = "pk"
    constraint_error_fields = {"buildings_partner_unique_name_in_street": "name"}

    class Kind(models.TextChoices):
        NEIGHBOURHOOD_COMMITTEE = "neighbourhood_committee", _("居委会")
        COMMUNITY_CENTRE = "community_centre", _("社区中心")
        SCHOOL = "school", _("学校")
        HOSPITAL = "hospital", _("医院")
        OTHER = "other", _("其他")

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="partners", verbose_name=_("街道")
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices, db_index=True)
    address = models.CharField(_("地址"), max_length=200)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    # Named ``phone`` so core.masking masks it like every other phone.
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("共建单位")
        verbose_name_plural = _("共建单位")
        ordering = ["street_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_street",
                violation_error_message=_("该街道已有同名共建单位。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name
