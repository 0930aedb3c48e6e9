"""Party organizations, party members, their transfers, and the portal's users."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.constraints import ConstraintErrorFields
from core.history import tracked

from .validators import validate_id_number, validate_mobile


@tracked
class PartyOrganization(ConstraintErrorFields, models.Model):
    """联合党委 / 党委 / 党总支 / 党支部. Standalone when it belongs to one enterprise."""

    street_path = "street"
    district_path = "street__district"
    constraint_error_fields = {"members_partyorganization_unique_name_in_street": "name"}

    class Kind(models.TextChoices):
        JOINT_COMMITTEE = "joint_committee", _("联合党委")
        COMMITTEE = "committee", _("党委")
        GENERAL_BRANCH = "general_branch", _("党总支")
        BRANCH = "branch", _("党支部")

    name = models.CharField(_("名称"), max_length=150)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级党组织"),
    )
    street = models.ForeignKey(
        "buildings.Street",
        on_delete=models.PROTECT,
        related_name="party_organizations",
        verbose_name=_("所属街道"),
    )
    buildings = models.ManyToManyField(
        "buildings.Building",
        blank=True,
        related_name="party_organizations",
        verbose_name=_("覆盖楼宇"),
    )
    enterprise = models.ForeignKey(
        "buildings.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="party_organizations",
        verbose_name=_("所属企业（单独组建）"),
        help_text=_("单独组建的党组织填写所属企业；联合组建的留空。"),
    )
    founded_on = models.DateField(_("成立日期"))
    term_ends_on = models.DateField(_("换届日期"), null=True, blank=True, db_index=True)
    secretary = models.ForeignKey(
        "PartyMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("书记"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["street_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_street",
                violation_error_message=_("该街道已有同名党组织。"),
            ),
            models.CheckConstraint(
                condition=Q(term_ends_on__isnull=True) | Q(term_ends_on__gt=F("founded_on")),
                name="%(app_label)s_%(class)s_term_after_founding",
                violation_error_message=_("换届日期必须晚于成立日期。"),
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("pk")),
                name="%(app_label)s_%(class)s_not_own_parent",
                violation_error_message=_("党组织不能是自己的上级。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_standalone(self) -> bool:
        return self.enterprise_id is not None

    def clean(self) -> None:
        errors = {}
        if self.parent_id and self.pk:
            node, seen = self.parent, set()
            while node is not None and node.pk not in seen:
                if node.pk == self.pk:
                    errors["parent"] = _("上级党组织不能是本组织或其下级。")
                    break
                seen.add(node.pk)
                node = node.parent
        if self.enterprise_id and self.street_id and self.enterprise.building.street_id != self.street_id:
            errors["enterprise"] = _("所属企业必须位于本党组织所属街道。")
        if errors:
            raise ValidationError(errors)


@tracked
class PartyMember(models.Model):
    """党员. Personal data: phones and ID numbers are masked outside the change page."""

    street_path = "organization__street"
    district_path = "organization__street__district"

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Education(models.TextChoices):
        BELOW_HIGH_SCHOOL = "below_high_school", _("高中以下")
        HIGH_SCHOOL = "high_school", _("高中/中专")
        JUNIOR_COLLEGE = "junior_college", _("大专")
        BACHELOR = "bachelor", _("本科")
        MASTER = "master", _("硕士研究生")
        DOCTOR = "doctor", _("博士研究生")

    class Status(models.TextChoices):
        PROBATIONARY = "probationary", _("预备党员")
        FULL = "full", _("正式党员")

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    phone = models.CharField(_("手机号码"), max_length=11, validators=[validate_mobile])
    id_number = models.CharField(_("身份证号"), max_length=18, unique=True, validators=[validate_id_number])
    education = models.CharField(_("学历"), max_length=20, choices=Education.choices)
    joined_on = models.DateField(_("入党日期"))
    status = models.CharField(
        _("党员类别"), max_length=20, choices=Status.choices, default=Status.FULL, db_index=True
    )
    organization = models.ForeignKey(
        PartyOrganization,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("所在党组织"),
    )
    enterprise = models.ForeignKey(
        "buildings.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="party_members",
        verbose_name=_("工作单位"),
    )
    is_mobile = models.BooleanField(_("流动党员"), default=False, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ["organization_id", "name"]
        permissions = [("view_personal_data", _("可查看完整手机号和身份证号"))]
        indexes = [
            # A street's members are its organizations' members: lists in this order, their
            # counts and the admin's joining-date links read it per organization (index-only
            # for the dates) instead of scanning all 66,000 members.
            models.Index(fields=["organization", "name"], include=["joined_on"], name="member_org_name_idx"),
            # The gender and education filters within a street (admin list, API): its
            # organizations' members, counted from this index alone (14 ms scanning all members
            # became 0.3 ms). Neither column alone is worth an index: men and women are each
            # about half, bachelors more than half.
            models.Index(fields=["organization", "education", "gender"], name="member_org_education_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(joined_on__gt=F("birth_date")),
                name="%(app_label)s_%(class)s_joined_after_birth",
                violation_error_message=_("入党日期必须晚于出生日期。"),
            ),
            models.CheckConstraint(
                condition=Q(id_number__regex=r"^\d{17}[0-9X]$"),
                name="%(app_label)s_%(class)s_id_number_format",
                violation_error_message=_("身份证号格式不正确。"),
            ),
            models.CheckConstraint(
                condition=Q(phone__regex=r"^1[3-9]\d{9}$"),
                name="%(app_label)s_%(class)s_phone_format",
                violation_error_message=_("手机号码格式不正确。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .validators import id_number_birth_date

        errors = {}
        if self.id_number:
            self.id_number = self.id_number.strip().upper()
        if self.birth_date and self.joined_on and self.joined_on <= self.birth_date:
            errors["joined_on"] = _("入党日期必须晚于出生日期。")
        if self.birth_date and self.id_number and len(self.id_number) == 18:
            born = id_number_birth_date(self.id_number)
            if born is not None and born != self.birth_date:
                errors["birth_date"] = _("出生日期与身份证号不一致。")
        if errors:
            raise ValidationError(errors)


@tracked
class MemberTransfer(models.Model):
    """组织关系转接: a member's organizational relationship moving in, out or within."""

    street_path = "member__organization__street"
    district_path = "member__organization__street__district"

    class Direction(models.TextChoices):
        IN = "in", _("转入")
        OUT = "out", _("转出")
        INTERNAL = "internal", _("系统内转接")

    class Status(models.TextChoices):
        PENDING = "pending", _("办理中")
        COMPLETED = "completed", _("已完成")
        CANCELLED = "cancelled", _("已撤销")

    member = models.ForeignKey(
        PartyMember, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("党员")
    )
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    from_organization = models.ForeignKey(
        PartyOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_out",
        verbose_name=_("转出党组织"),
    )
    to_organization = models.ForeignKey(
        PartyOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_in",
        verbose_name=_("转入党组织"),
    )
    external_organization = models.CharField(
        _("系统外党组织"), max_length=150, blank=True, help_text=_("转入来源或转出去向（系统外）")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    requested_on = models.DateField(_("申请日期"))
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        "members.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("经办人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("组织关系转接")
        verbose_name_plural = _("组织关系转接")
        ordering = ["-requested_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_organization=F("to_organization")),
                name="%(app_label)s_%(class)s_different_organizations",
                violation_error_message=_("转出与转入党组织不能相同。"),
            ),
            models.CheckConstraint(
                condition=(
                    Q(direction="in", to_organization__isnull=False)
                    | Q(direction="out", from_organization__isnull=False)
                    | Q(direction="internal", from_organization__isnull=False, to_organization__isnull=False)
                ),
                name="%(app_label)s_%(class)s_direction_organizations",
                violation_error_message=_(
                    "转入须填写转入党组织，转出须填写转出党组织，系统内转接两者都须填写。"
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="completed", completed_on__isnull=False)
                | (~Q(status="completed") & Q(completed_on__isnull=True)),
                name="%(app_label)s_%(class)s_completed_on_iff_completed",
                violation_error_message=_("只有已完成的转接才有完成日期。"),
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status="pending"),
                name="%(app_label)s_%(class)s_one_pending_per_member",
                violation_error_message=_("该党员已有一条办理中的组织关系转接。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_direction_display()}"


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def compose_name(*, family: str, given: str) -> str:
    """A full name from its parts: "张伟" (family name first, no space) for a Chinese name,
    "Anna Müller" (given name first) for a Latin one."""
    family, given = family.strip(), given.strip()
    if _CJK.search(family + given):
        return f"{family}{given}"
    return f"{given} {family}".strip()


# Who changed what in an account is recorded like every other record; never the password
# hash or the calendar key, nor the login time (not a change anyone made).
@tracked(exclude=("password", "calendar_token_hash", "last_login"))
class User(AbstractUser):
    """A portal account: an employee, a social worker, district staff or a superuser.

    Staff scope: ``streets`` for street social workers, ``district`` for district
    staff; a superuser sees everything. As a record, a user belongs to the
    street of the building they work in. The e-mail (which resets the password) and
    the phone are changed by the person only (members/contacts.py), never by staff.
    """

    street_path = "building__street"
    district_path = "building__street__district"

    # The name as the person writes it ("张伟", "Anna Müller"): one field, never split, shown
    # everywhere through ``display_name`` (issue 15). first_name/last_name stay for Django's sake.
    real_name = models.CharField(
        _("姓名"),
        max_length=50,
        blank=True,
        default="",
        db_default="",
        help_text=_("按本人习惯书写，如“张伟”；签到时工作人员看到这个名字。"),
    )

    class PersonType(models.TextChoices):
        EMPLOYEE = "employee", _("楼宇白领")
        RIDER = "rider", _("外卖骑手")
        RESIDENT = "resident", _("社区居民")

    phone = models.CharField(_("手机号码"), max_length=11, blank=True, validators=[validate_mobile])
    building = models.ForeignKey(
        "buildings.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所在楼宇"),
    )
    enterprise = models.ForeignKey(
        "buildings.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("工作单位"),
    )
    party_member = models.OneToOneField(
        PartyMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="user",
        verbose_name=_("关联党员档案"),
        help_text=_("由街道社工核实后关联；关联后可预约“仅限党员”的活动。"),
    )
    streets = models.ManyToManyField(
        "buildings.Street",
        blank=True,
        related_name="social_workers",
        verbose_name=_("负责街道"),
        help_text=_("街道社工：只能查看和修改这些街道的数据。"),
    )
    district = models.ForeignKey(
        "buildings.District",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("所属区"),
        help_text=_("区级工作人员：只能查看和修改本区的数据。"),
    )
    partner = models.ForeignKey(
        "buildings.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("所属共建单位"),
        help_text=_("共建单位工作人员：只能查看本单位的场所、结对和报到党员。"),
    )
    person_type = models.CharField(
        _("身份"), max_length=20, choices=PersonType.choices, default=PersonType.EMPLOYEE
    )
    platform = models.CharField(
        _("所属平台或站点"),
        max_length=100,
        blank=True,
        help_text=_("外卖骑手填写所属平台或配送站点，如“饿了么·长寿路站”。"),
    )
    language = models.CharField(
        _("语言"), max_length=10, choices=[("zh-hans", "简体中文"), ("en", "English")], default="zh-hans"
    )
    # The private calendar feed's key is shown to its owner once, when it is made; only its
    # SHA-256 digest is kept (members/accounts.py), like an API key's.
    calendar_token_hash = models.CharField(
        _("日历订阅密钥摘要"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text=_("私人日历订阅地址密钥的摘要；重置后旧地址立即失效。"),
    )
    notify_by_email = models.BooleanField(_("邮件提醒"), default=True)
    notify_in_portal = models.BooleanField(_("站内提醒"), default=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        swappable = "AUTH_USER_MODEL"
        # The account list (200,000 employees and more) and its filters. A flag alone is no use
        # as an index (nearly every account is an active employee); what the lists read is:
        indexes = [
            # A social worker's or district's list: the employee accounts (staff accounts are
            # superusers' business, UserAdmin.scope_filter) of the street's buildings, counted from
            # this index alone (a 62 ms scan became 1 ms), with the "active" and "joining date"
            # filters inside it.
            models.Index(
                fields=["building", "is_active", "date_joined"],
                condition=Q(is_staff=False, is_superuser=False),
                name="user_employee_building_idx",
            ),
            # The rare accounts in the list's username order: staff, superusers and deactivated
            # accounts (a few hundred). The superuser's "staff", "superuser" and "inactive" filters
            # read this small index (30 ms scans became 0.1 ms); their common opposites walk the
            # username index, where nearly every row matches.
            models.Index(
                fields=["username"],
                condition=Q(is_staff=True) | Q(is_superuser=True) | Q(is_active=False),
                name="user_staff_or_inactive_idx",
            ),
            # "Joined today / in the past 7 days" across the city (the superuser's list).
            models.Index(fields=["date_joined"], name="user_date_joined_idx"),
            # Staff find an account (or a booker) by the whole phone number. Not unique: the
            # phone logs nobody in and resets nothing, and a unique phone made sign-up answer
            # "this number is registered" to anyone who asked (and let anyone squat a number).
            models.Index(fields=["phone"], condition=~Q(phone=""), name="user_phone_idx"),
        ]

    def get_full_name(self) -> str:
        """The person's name as they write it; empty when they gave none."""
        return self.real_name.strip() or compose_name(family=self.last_name, given=self.first_name)

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The one name shown for this account everywhere: e-mails, portal, admin, exports, API."""
        return self.get_full_name() or self.username

    def clean(self) -> None:
        super().clean()
        self.real_name = " ".join(self.real_name.split())
        if self.enterprise_id and self.building_id and self.enterprise.building_id != self.building_id:
            raise ValidationError({"enterprise": _("工作单位不在所选楼宇中。")})
        if self.person_type == self.PersonType.RIDER and not self.platform.strip():
            raise ValidationError({"platform": _("外卖骑手请填写所属平台或站点。")})


class MemberLinkRequest(models.Model):
    """An employee asks to be linked to their PartyMember record; a social worker decides.

    Every request is kept, whether or not a record matched the name and ID number typed
    (members/accounts.py): the employee gets one answer whatever the case, and the street's
    social worker sees what was asked — ``member`` is empty when nothing matched — and who
    keeps failing. ``street`` is the street that decides: the record's, or else the one of
    the building the employee works in.
    """

    street_path = "street"
    district_path = "street__district"

    class Status(models.TextChoices):
        PENDING = "pending", _("待核实")
        APPROVED = "approved", _("已关联")
        REJECTED = "rejected", _("已驳回")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="member_link_requests", verbose_name=_("用户")
    )
    member = models.ForeignKey(
        PartyMember,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="link_requests",
        verbose_name=_("党员档案"),
        help_text=_("与填写的姓名和身份证号都匹配的档案；为空表示没有匹配的档案。"),
    )
    name = models.CharField(_("填写的姓名"), max_length=50, blank=True)
    id_number_hint = models.CharField(
        _("填写的身份证号"), max_length=18, blank=True, help_text=_("只保存遮盖后的号码。")
    )
    street = models.ForeignKey(
        "buildings.Street",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("核实街道"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("核实人"),
    )
    decided_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    decision_note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("党员身份关联申请")
        verbose_name_plural = _("党员身份关联申请")
        ordering = ["-created_at"]
        indexes = [
            # A street's queue, newest first; an applicant's recent failures.
            models.Index(fields=["street", "-created_at"], name="linkrequest_street_idx"),
            models.Index(fields=["user", "-created_at"], name="linkrequest_user_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="%(app_label)s_%(class)s_one_pending_per_user",
                violation_error_message=_("您已有一条待核实的申请。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(member__isnull=False),
                name="%(app_label)s_%(class)s_approved_has_member",
                violation_error_message=_("没有匹配档案的申请不能核实通过。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.member or self.name}"


class ApiToken(models.Model):
    """A REST API key (``Authorization: Token <key>``) acting as its user.

    Only a SHA-256 hash of the key is stored, with the key's first characters
    (``prefix``) to find the row and to let people tell their keys apart. The
    key itself is shown once, when it is issued (members/tokens.py).
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("所属用户")
    )
    name = models.CharField(_("用途说明"), max_length=100, help_text=_("如：静安区社工部数据对接"))
    prefix = models.CharField(_("密钥前缀"), max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签发人"),
    )
    expires_at = models.DateTimeField(_("到期时间"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("吊销人"),
        editable=False,
    )

    class Meta:
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="%(app_label)s_%(class)s_expires_after_creation",
                violation_error_message=_("到期时间必须晚于签发时间。"),
            ),
            models.CheckConstraint(
                condition=Q(key_hash__regex=r"^[0-9a-f]{64}$"),
                name="%(app_label)s_%(class)s_key_hash_is_sha256",
                violation_error_message=_("密钥摘要必须是 SHA-256 十六进制值。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        from django.utils import timezone

        return self.expires_at <= (now or timezone.now())


@tracked
class HomeRegistration(models.Model):
    """双报到: a party member reports to the community partner where they live.

    One active registration per member at a time (a database constraint); moving ends the
    current one and starts another, so the rows are the history. Written only by
    members/registrations.py. The partner's staff see who registered with them
    (``partner_path``); the social workers of the member's organization see that they did.
    """

    street_path = "partner__street"
    district_path = "partner__street__district"
    partner_path = "partner"

    member = models.ForeignKey(
        PartyMember, on_delete=models.PROTECT, related_name="home_registrations", verbose_name=_("党员")
    )
    partner = models.ForeignKey(
        "buildings.Partner",
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("报到社区（共建单位）"),
    )
    registered_on = models.DateField(_("报到日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("双报到登记")
        verbose_name_plural = _("双报到登记")
        ordering = ["-registered_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(ended_on__isnull=True),
                name="%(app_label)s_%(class)s_one_active_per_member",
                violation_error_message=_("该党员已在一个社区报到。"),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("registered_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束日期不能早于报到日期。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.partner}"

    @classmethod
    def scope_q_for_streets(cls, street_ids) -> Q:
        """A street's social workers see registrations with its partners and those of its members."""
        return Q(partner__street__in=street_ids) | Q(member__organization__street__in=street_ids)

    @property
    def is_active(self) -> bool:
        return self.ended_on is None
