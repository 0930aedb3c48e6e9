"""Admin for districts, streets, buildings and enterprises, scoped to the user's territory."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.adminkit import (
    DistrictListFilter,
    ScopedAdmin,
    SpreadsheetAdminMixin,
    StreetListFilter,
    masked_column,
    related_column,
)

from . import figures
from .models import Building, District, Enterprise, Partner, Street


class SuperuserWritesMixin:
    """Districts and streets are the map everyone works on: only superusers change it."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(District)
class DistrictAdmin(SuperuserWritesMixin, ScopedAdmin):
    ordering = ("code",)  # Meta.ordering does not reach a GROUP BY query (the counts)
    list_display = ("name", "code", "street_count")
    search_fields = ("name", "code")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_street_count=Count("streets"))

    @admin.display(description=_("街道数"), ordering="_street_count")
    def street_count(self, obj) -> int:
        return obj._street_count


@admin.register(Street)
class StreetAdmin(SuperuserWritesMixin, ScopedAdmin):
    ordering = ("district__code", "name")  # as Meta.ordering, which GROUP BY drops
    list_display = ("name", "district", "code", "building_count")
    list_select_related = ("district",)
    list_filter = (DistrictListFilter,)
    search_fields = ("name", "code", "district__name")
    autocomplete_fields = ("district",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_building_count=Count("buildings"))

    @admin.display(description=_("楼宇数"), ordering="_building_count")
    def building_count(self, obj) -> int:
        return obj._building_count


class HasPartyOrganizationFilter(admin.SimpleListFilter):
    title = _("党组织覆盖")
    parameter_name = "covered"

    def lookups(self, request, model_admin):
        return [("yes", _("已覆盖")), ("no", _("未覆盖"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(_covered=True)
        if self.value() == "no":
            return queryset.filter(_covered=False)
        return queryset


@admin.register(Building)
class BuildingAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    ordering = ("street_id", "name")  # as Meta.ordering, which GROUP BY drops
    list_display = (
        "name",
        "street",
        "address",
        "is_key_building",
        "floors",
        "employee_count",
        "enterprise_count",
        "covered",
        "has_committee",
    )
    list_select_related = ("street__district",)
    list_filter = (
        "is_key_building",
        HasPartyOrganizationFilter,
        StreetListFilter,
        DistrictListFilter,
    )
    search_fields = ("name", "address", "property_company")
    autocomplete_fields = ("street",)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("street", "name", "address", "is_key_building")}),
        (_("规模"), {"fields": ("floors", "floor_area_m2", "employee_count", "property_company")}),
        (_("记录"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _enterprise_count=Count("enterprises", distinct=True),
                _covered=figures.flag(figures.BUILDING_HAS_PARTY_ORGANIZATION),
                _has_committee=figures.flag(figures.BUILDING_HAS_COMMITTEE),
            )
        )

    @admin.display(description=_("企业数"), ordering="_enterprise_count")
    def enterprise_count(self, obj) -> int:
        return getattr(obj, "_enterprise_count", 0)

    @admin.display(description=_("党组织覆盖"), boolean=True, ordering="_covered")
    def covered(self, obj) -> bool:
        return getattr(obj, "_covered", False)

    @admin.display(description=_("已建楼委会"), boolean=True, ordering="_has_committee")
    def has_committee(self, obj) -> bool:
        return getattr(obj, "_has_committee", False)


@admin.register(Enterprise)
class EnterpriseAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    list_display = (
        "name",
        "credit_code",
        "building",
        related_column("building__street", _("街道")),
        "floor",
        "employee_count",
        "party_member_count",
        "industry",
        "risk_colour",
    )
    list_select_related = ("building__street__district",)
    list_filter = (StreetListFilter, DistrictListFilter, "industry")
    search_fields = ("name", "=credit_code", "building__name")
    autocomplete_fields = ("building",)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at", "risk_detail")
    fieldsets = (
        (None, {"fields": ("building", "name", "credit_code", "floor", "industry")}),
        (_("人员"), {"fields": ("employee_count", "party_member_count")}),
        (_("记录"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets[:2], (_("风险"), {"fields": ("risk_detail",)}), *fieldsets[2:])

    @admin.display(description=_("风险色"))
    def risk_detail(self, obj) -> str:
        """The colour, why, and the social worker's override if any (``figures.ENTERPRISE_RISK_DETAIL``)."""
        if obj is None or obj.pk is None:
            return "-"
        detail = figures.load(figures.ENTERPRISE_RISK_DETAIL, [obj.pk]).get(obj.pk)
        if detail is None:
            return "-"
        colour = format_html('<span class="risk-colour risk-{}">{}</span>', detail.colour, detail.label)
        reasons = format_html_join("", "<br>{}", ((reason,) for reason in detail.reasons))
        override, changed = detail.override, ""
        if override is not None:
            changed = format_html(
                "<br>{}",
                _("已由%(who)s于%(at)s人工调整（计算结果为%(computed)s）：%(reason)s")
                % {
                    "who": override.set_by,
                    "at": date_format(timezone.localtime(override.set_at), "DATETIME_FORMAT"),
                    "computed": override.computed_label,
                    "reason": override.reason,
                },
            )
        return format_html("{}{}{}", colour, reasons, changed)

    def get_changelist_instance(self, request):
        """The page's risk colours in one go (``figures.ENTERPRISE_RISK_COLOUR``, owned by committees)."""
        changelist = super().get_changelist_instance(request)
        rows = changelist.result_list  # evaluated here, once: the rows the page then shows
        colours = figures.load(figures.ENTERPRISE_RISK_COLOUR, [row.pk for row in rows])
        for row in rows:
            row._risk_colour = colours.get(row.pk)
        return changelist

    @admin.display(description=_("风险色"))
    def risk_colour(self, obj) -> str:
        colour = getattr(obj, "_risk_colour", None)
        if colour is None:
            colour = figures.load(figures.ENTERPRISE_RISK_COLOUR, [obj.pk]).get(obj.pk)
        if colour is None:
            return "-"
        value, label = colour
        return format_html('<span class="risk-colour risk-{}">{}</span>', value, label)


@admin.register(Partner)
class PartnerAdmin(ScopedAdmin):
    """共建单位: kept by the street's social workers; a partner's staff see their own unit."""

    personal_fields = ("phone",)
    list_display = (
        "name",
        "kind",
        "street",
        "address",
        "contact_name",
        masked_column("phone", _("联系电话")),
    )
    list_select_related = ("street__district",)
    list_filter = ("kind", StreetListFilter, DistrictListFilter)
    search_fields = ("name", "address", "contact_name", "=phone")
    autocomplete_fields = ("street",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("street", "name", "kind", "address")}),
        (_("联系人"), {"fields": ("contact_name", "phone")}),
        (_("记录"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
