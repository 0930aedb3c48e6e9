"""Admin for party organizations, members, transfers, link requests and users (scoped)."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from core.adminkit import (
    DistrictListFilter,
    ReadOnlyInlineMixin,
    ScopedAdmin,
    ScopedTabularInline,
    SpreadsheetAdminMixin,
    StreetListFilter,
    masked_column,
    note_form_response,
    related_column,
)
from core.masking import mask_value
from core.scoping import scope_queryset

# The API keys' admin registers itself (members/admin_tokens.py).
from . import admin_tokens  # noqa: F401
from .models import HomeRegistration, MemberLinkRequest, MemberTransfer, PartyMember, PartyOrganization, User

TERM_WARNING_DAYS = 90
CONTACT_FIELDS_NOTE = _(
    "邮箱（用于找回密码）和手机号码只能由本人在门户的“我的账号”中修改：新邮箱须经确认，原邮箱会收到通知。"
)


class TermListFilter(admin.SimpleListFilter):
    """换届: terms that have ended, or end within the next 90 days."""

    title = _("换届")
    parameter_name = "term"

    def lookups(self, request, model_admin):
        return [("expired", _("已到期")), ("soon", _("90天内到期")), ("ok", _("未到期"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        soon = today + datetime.timedelta(days=TERM_WARNING_DAYS)
        if self.value() == "expired":
            return queryset.filter(term_ends_on__lt=today)
        if self.value() == "soon":
            return queryset.filter(term_ends_on__gte=today, term_ends_on__lte=soon)
        if self.value() == "ok":
            return queryset.filter(Q(term_ends_on__gt=soon) | Q(term_ends_on__isnull=True))
        return queryset


class StandaloneListFilter(admin.SimpleListFilter):
    title = _("组建方式")
    parameter_name = "standalone"

    def lookups(self, request, model_admin):
        return [("yes", _("单独组建")), ("no", _("联合组建"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(enterprise__isnull=False)
        if self.value() == "no":
            return queryset.filter(enterprise__isnull=True)
        return queryset


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    ordering = ("street_id", "name")  # as Meta.ordering, which GROUP BY drops
    list_display = (
        "name",
        "kind",
        "street",
        "parent",
        "enterprise",
        "secretary",
        "member_count",
        "founded_on",
        "term_ends_on",
    )
    list_select_related = ("street__district", "parent", "enterprise", "secretary")
    list_filter = ("kind", StandaloneListFilter, TermListFilter, StreetListFilter, DistrictListFilter)
    search_fields = ("name",)
    autocomplete_fields = ("parent", "street", "enterprise", "secretary", "buildings")
    date_hierarchy = "term_ends_on"
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "parent", "street", "enterprise", "secretary")}),
        (_("覆盖楼宇"), {"fields": ("buildings",)}),
        (_("任期"), {"fields": ("founded_on", "term_ends_on")}),
        (_("记录"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def scope_filter(self, request, queryset):
        if is_transfer_destination_lookup(request):
            return queryset  # any organization may receive a transfer (MemberTransferAdmin)
        return super().scope_filter(request, queryset)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_member_count=Count("members", distinct=True))

    @admin.display(description=_("党员数"), ordering="_member_count")
    def member_count(self, obj) -> int:
        return getattr(obj, "_member_count", 0)


class MemberTransferInline(ReadOnlyInlineMixin, ScopedTabularInline):
    model = MemberTransfer
    fk_name = "member"
    fields = (
        "direction",
        "from_organization",
        "to_organization",
        "external_organization",
        "status",
        "requested_on",
        "completed_on",
    )
    verbose_name_plural = _("组织关系转接记录")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_organization", "to_organization")


@admin.register(PartyMember)
class PartyMemberAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    personal_fields = ("phone", "id_number")
    list_display = (
        "name",
        "gender",
        masked_column("phone", _("手机号码")),
        masked_column("id_number", _("身份证号")),
        "organization",
        related_column("organization__street", _("街道")),
        "enterprise",
        "status",
        "is_mobile",
        "joined_on",
    )
    list_select_related = ("organization__street__district", "enterprise")
    list_filter = ("status", "is_mobile", "gender", "education", StreetListFilter, DistrictListFilter)
    search_fields = ("name", "=phone", "=id_number", "organization__name")
    search_help_text = _("按姓名或党组织名称搜索；手机号码和身份证号须完整输入。")
    autocomplete_fields = ("organization", "enterprise")
    date_hierarchy = "joined_on"
    readonly_fields = ("created_at", "updated_at")
    inlines = (MemberTransferInline,)
    fieldsets = (
        (None, {"fields": ("name", "gender", "birth_date", "education")}),
        (_("身份与联系方式"), {"fields": ("id_number", "phone")}),
        (_("党籍"), {"fields": ("organization", "status", "joined_on", "is_mobile")}),
        (_("工作单位"), {"fields": ("enterprise",)}),
        (_("记录"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )


def organizations_in_scope(user):
    return scope_queryset(PartyOrganization.objects.all(), user).values("pk")


def is_transfer_destination_lookup(request) -> bool:
    """The autocomplete of a transfer's destination organization (see MemberTransferAdmin)."""
    return (
        request.path.endswith("/autocomplete/")
        and request.GET.get("app_label") == "members"
        and request.GET.get("model_name") == "membertransfer"
        and request.GET.get("field_name") == "to_organization"
    )


@admin.register(MemberTransfer)
class MemberTransferAdmin(ScopedAdmin):
    """Transfers, requested and decided through members/transfers.py.

    A transfer concerns two sides: it is visible to the member's street and to
    the streets of its sending and receiving organizations, so the receiving
    side can complete it. The destination may be any organization of the city
    (the one deliberate exception to scoped choices: a member moving to another
    street is the common case); everything else stays within the territory.
    """

    list_display = (
        "member",
        "direction",
        "from_organization",
        "to_organization",
        "external_organization",
        "status",
        "requested_on",
        "completed_on",
        "created_by",
    )
    list_select_related = (
        "member__organization__street",
        "from_organization",
        "to_organization",
        "created_by",
    )
    list_filter = ("status", "direction", StreetListFilter, DistrictListFilter)
    search_fields = ("member__name", "=member__id_number", "external_organization")
    autocomplete_fields = ("member", "to_organization")
    date_hierarchy = "requested_on"
    fields = (
        "member",
        "direction",
        "from_organization",
        "to_organization",
        "external_organization",
        "requested_on",
        "note",
        "status",
        "completed_on",
        "created_by",
        "created_at",
    )
    readonly_fields = ("from_organization", "status", "completed_on", "created_by", "created_at")
    actions = ("complete_transfers", "cancel_transfers")

    def scope_filter(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        orgs = organizations_in_scope(request.user)
        return queryset.filter(
            Q(member__organization__in=orgs) | Q(from_organization__in=orgs) | Q(to_organization__in=orgs)
        )

    def get_field_queryset(self, db, db_field, request):
        if db_field.name == "to_organization":
            return PartyOrganization.objects.using(db).order_by("name")
        return super().get_field_queryset(db, db_field, request)

    def get_fields(self, request, obj=None):
        if obj is None:  # what the sending side fills in; the rest follows from the write side
            return ("member", "direction", "to_organization", "external_organization", "requested_on", "note")
        return self.fields

    def get_changeform_initial_data(self, request):
        return {"requested_on": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # Direction, sides and dates change only through the actions; the note stays editable.
            return [f for f in self.fields if f != "note"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        from members.transfers import request_transfer

        created = request_transfer(
            member=obj.member,
            direction=obj.direction,
            to_organization=obj.to_organization,
            external_organization=obj.external_organization,
            requested_on=obj.requested_on,
            note=obj.note,
            by=request.user,
        )
        for field in ("pk", "from_organization_id", "status", "created_by_id", "created_at"):
            setattr(obj, field, getattr(created, field))
        self.ensure_in_scope(request, obj)

    @admin.action(description=_("完成转接"), permissions=["change"])
    def complete_transfers(self, request, queryset):
        from members.transfers import complete_transfer

        self.run_domain_action(
            request,
            queryset,
            lambda transfer: complete_transfer(transfer=transfer, by=request.user),
            done_message=_t("已完成 %(count)d 条组织关系转接。"),
        )

    @admin.action(description=_("撤销"), permissions=["change"])
    def cancel_transfers(self, request, queryset):
        from members.transfers import cancel_transfer

        self.run_domain_action(
            request,
            queryset,
            lambda transfer: cancel_transfer(transfer=transfer, by=request.user),
            done_message=_t("已撤销 %(count)d 条组织关系转接。"),
        )


RECENT_FAILURE_DAYS = 30
REPEATED_FAILURES = 3


def failed_requests_q() -> Q:
    """A request that did not link: nothing matched, or the social worker rejected it."""
    return Q(member__isnull=True) | Q(status=MemberLinkRequest.Status.REJECTED)


class MatchListFilter(admin.SimpleListFilter):
    title = _("档案匹配")
    parameter_name = "match"

    def lookups(self, request, model_admin):
        return [("found", _("匹配")), ("none", _("未找到匹配档案")), ("linked", _("档案已关联其他账号"))]

    def queryset(self, request, queryset):
        if self.value() == "found":
            return queryset.filter(member__isnull=False).filter(
                Q(member__user__isnull=True) | Q(member__user=F("user"))
            )
        if self.value() == "none":
            return queryset.filter(member__isnull=True)
        if self.value() == "linked":
            return queryset.filter(member__user__isnull=False).exclude(member__user=F("user"))
        return queryset


class RepeatedFailureFilter(admin.SimpleListFilter):
    """Applicants who keep trying names and ID numbers that do not link (issue 14: a probe)."""

    title = _("重复失败")
    parameter_name = "failures"

    def lookups(self, request, model_admin):
        return [
            (
                "repeated",
                _("近%(days)s天失败%(n)s次及以上") % {"days": RECENT_FAILURE_DAYS, "n": REPEATED_FAILURES},
            )
        ]

    def queryset(self, request, queryset):
        if self.value() == "repeated":
            return queryset.filter(_recent_failures__gte=REPEATED_FAILURES)
        return queryset


@admin.register(MemberLinkRequest)
class MemberLinkRequestAdmin(ScopedAdmin):
    """Every request the link form received, matched or not (members/accounts.py).

    The applicant got the same answer in every case; here the social worker sees what was
    typed (the ID number masked), whether a record matched, and how often the applicant
    failed lately — the sign of someone probing names and ID numbers.
    """

    list_display = (
        "user",
        "name",
        "id_number_hint",
        "match",
        related_column("member__organization", _("所在党组织")),
        related_column("street", _("核实街道")),
        "status",
        "recent_failures",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    list_select_related = ("user", "member__organization", "member__user", "street__district", "decided_by")
    list_filter = ("status", MatchListFilter, RepeatedFailureFilter, StreetListFilter, DistrictListFilter)
    search_fields = ("user__username", "name", "member__name")
    date_hierarchy = "created_at"
    fields = (
        "user",
        "applicant_workplace",
        "name",
        "id_number_hint",
        "match",
        "member",
        "member_record",
        "street",
        "status",
        "recent_failures",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    readonly_fields = fields
    actions = ("approve_requests", "reject_requests")

    def get_queryset(self, request):
        since = timezone.now() - datetime.timedelta(days=RECENT_FAILURE_DAYS)
        failures = (
            MemberLinkRequest.objects.filter(user=OuterRef("user"), created_at__gte=since)
            .filter(failed_requests_q())
            .order_by()
            .values("user")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(_recent_failures=Coalesce(Subquery(failures), 0))

    def has_add_permission(self, request):
        return False  # employees ask in the portal

    @admin.display(description=_("档案匹配"))
    def match(self, obj) -> str:
        if obj.member_id is None:
            return _t("未找到匹配档案")
        holder = getattr(obj.member, "user", None)
        if holder is not None and holder.pk != obj.user_id:
            return _t("档案已关联其他账号“%(user)s”") % {"user": holder.get_username()}
        return _t("匹配")

    @admin.display(description=_("近30天失败次数"), ordering="_recent_failures")
    def recent_failures(self, obj) -> int:
        return getattr(obj, "_recent_failures", 0)

    @admin.display(description=_("申请人所在楼宇和单位"))
    def applicant_workplace(self, obj) -> str:
        user = obj.user
        return " · ".join(str(x) for x in (user.building, user.enterprise) if x) or "—"

    @admin.display(description=_("档案中的党组织和单位"))
    def member_record(self, obj) -> str:
        member = obj.member
        if member is None:
            return "—"
        return " · ".join(str(x) for x in (member.organization, member.enterprise) if x) or "—"

    @admin.action(description=_("核实通过并关联"), permissions=["change"])
    def approve_requests(self, request, queryset):
        from .linking import approve_link_request

        self.run_domain_action(
            request,
            queryset,
            lambda link: approve_link_request(request=link, by=request.user),
            done_message=_t("已核实并关联 %(count)d 条申请。"),
        )

    @admin.action(description=_("驳回"), permissions=["change"])
    def reject_requests(self, request, queryset):
        from .linking import reject_link_request

        page = note_form_response(
            self,
            request,
            queryset,
            action="reject_requests",
            title=_t("驳回党员身份关联申请"),
            label=_t("驳回理由（申请人可见）"),
        )
        if page is not None:
            return page
        note = request.POST.get("note", "")
        self.run_domain_action(
            request,
            queryset,
            lambda link: reject_link_request(request=link, by=request.user, note=note),
            done_message=_t("已驳回 %(count)d 条申请。"),
        )
        return None


class StaffScopeUserChangeForm(UserChangeForm):
    """A territory (streets or a district) only works for a staff account: say so, don't save a trap."""

    def clean(self):
        cleaned = super().clean()
        has_scope = (
            bool(cleaned.get("streets")) or bool(cleaned.get("district")) or bool(cleaned.get("partner"))
        )
        if has_scope and "is_staff" in self.fields and not cleaned.get("is_staff"):
            self.add_error(
                "is_staff", _t("设置了负责街道或所属区的用户须勾选“工作人员状态”，才能登录管理后台。")
            )
        return cleaned


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    """Superusers manage accounts and staff scope; others see and correct employees of their streets."""

    form = StaffScopeUserChangeForm
    personal_fields = ("phone",)
    list_display = (
        "username",
        "full_name",
        masked_column("phone", _("手机号码")),
        "building",
        "enterprise",
        "is_party_member",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_select_related = ("building", "enterprise")
    # Joining date as a list filter, not a date_hierarchy: the hierarchy's year links cost a
    # DISTINCT over every account in view (200,000 for the city) on each page.
    list_filter = (
        "is_staff",
        "is_superuser",
        "is_active",
        "groups",
        ("date_joined", admin.DateFieldListFilter),
        StreetListFilter,
        DistrictListFilter,
    )
    search_fields = ("username", "real_name", "first_name", "last_name", "email", "=phone")
    autocomplete_fields = (
        "building",
        "enterprise",
        "party_member",
        "district",
        "streets",
        "partner",
        "groups",
    )
    filter_horizontal = ("user_permissions",)
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("个人信息"),
            {
                "fields": ("real_name", "email", "phone", "language"),
                "description": CONTACT_FIELDS_NOTE,
            },
        ),
        (_("工作单位"), {"fields": ("person_type", "building", "enterprise", "platform", "party_member")}),
        (
            _("工作人员范围"),
            {
                "fields": ("streets", "district", "partner"),
                "description": _(
                    "街道社工填写负责街道；区级工作人员填写所属区；共建单位工作人员填写所属共建单位。"
                    "须同时勾选“工作人员状态”。"
                ),
            },
        ),
        (
            _("权限"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("提醒"), {"fields": ("notify_by_email", "notify_in_portal")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    # What a street social worker / district staff may correct for an employee: a name, a
    # building, an employer — never the e-mail (it resets the password) or the phone.
    limited_fieldsets = (
        (None, {"fields": ("username",)}),
        (
            _("个人信息"),
            {
                "fields": ("real_name", "email", "masked_phone"),
                "description": CONTACT_FIELDS_NOTE,
            },
        ),
        (_("工作单位"), {"fields": ("building", "enterprise", "party_member")}),
        (_("状态"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    limited_readonly_fields = (
        "username",
        "email",
        "masked_phone",
        "party_member",
        "last_login",
        "date_joined",
    )
    #: the account's own contact details: changed by the person only (members/contacts.py)
    contact_fields = ("email", "phone")

    def scope_filter(self, request, queryset):
        queryset = super().scope_filter(request, queryset)
        if request.user.is_superuser:
            return queryset
        # Staff accounts (colleagues, superusers) are managed by superusers only.
        return queryset.filter(is_staff=False, is_superuser=False)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if request.user.is_superuser:
            columns.insert(columns.index("is_staff"), "staff_scope")
        return columns

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            # The changelist adds list_select_related only to a queryset without any
            # select_related, so it is repeated here (or each row costs two queries).
            queryset = queryset.select_related("district", *self.list_select_related).prefetch_related(
                "streets"
            )
        return queryset

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_fieldsets(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.limited_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if not request.user.is_superuser:
            return self.limited_readonly_fields
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # a superuser too: whoever sets the e-mail can reset the password
            fields += [name for name in self.contact_fields if name not in fields]
        return fields

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj) -> str:
        return mask_value("phone", obj.phone) or "—"

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and (obj.is_staff or obj.is_superuser):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    @admin.display(description=_("姓名"), ordering="real_name")
    def full_name(self, obj) -> str:
        return obj.get_full_name()

    @admin.display(description=_("已关联党员"), boolean=True, ordering="party_member")
    def is_party_member(self, obj) -> bool:
        return obj.party_member_id is not None

    @admin.display(description=_("工作人员范围"))
    def staff_scope(self, obj) -> str:
        parts = [str(s) for s in obj.streets.all()]
        if obj.district_id:
            parts.insert(0, _t("%(district)s（全区）") % {"district": obj.district})
        if obj.is_superuser:
            parts.insert(0, _t("全市"))
        return "、".join(parts) or "—"


@admin.register(HomeRegistration)
class HomeRegistrationAdmin(ScopedAdmin):
    """双报到, read-only: members register themselves in the portal (members/registrations.py).

    A partner's staff see the members registered with them; a street's social workers see
    those with their street's partners and those of their street's members.
    """

    list_display = (
        "member",
        related_column("member__organization", _("所在党组织")),
        "partner",
        "registered_on",
        "ended_on",
    )
    list_select_related = ("member__organization", "partner")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("member__name", "partner__name")
    autocomplete_fields = ("member", "partner")
    date_hierarchy = "registered_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
