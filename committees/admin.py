"""Admin for building committees (楼委会) and their seats, scoped to the user's territory."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.adminkit import (
    DistrictListFilter,
    ScopedAdmin,
    ScopedTabularInline,
    SpreadsheetAdminMixin,
    StreetListFilter,
    masked_column,
    related_column,
)

from .models import Agreement, AgreementCommitment, BuildingCommittee, CommitteeSeat
from .selectors import with_chief_and_seat_count

TERM_WARNING_DAYS = 90


class CommitteeTermFilter(admin.SimpleListFilter):
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
            return queryset.filter(term_ends_on__gt=soon)
        return queryset


class CurrentSeatFilter(admin.SimpleListFilter):
    title = _("任职状态")
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", _("在任")), ("no", _("已离任"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        current = Q(ends_on__isnull=True) | Q(ends_on__gt=today)
        if self.value() == "yes":
            return queryset.filter(current)
        if self.value() == "no":
            return queryset.exclude(current)
        return queryset


class CommitteeSeatInline(ScopedTabularInline):
    model = CommitteeSeat
    personal_fields = ("phone",)
    fields = ("role", "person_name", "phone", "affiliation", "member", "floor", "starts_on", "ends_on")
    autocomplete_fields = ("member",)
    extra = 1
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")


@admin.register(BuildingCommittee)
class BuildingCommitteeAdmin(ScopedAdmin):
    list_display = (
        "__str__",
        "building",
        related_column("building__street", _("街道")),
        "chief",
        "seat_count",
        "founded_on",
        "term_starts_on",
        "term_ends_on",
    )
    list_select_related = ("building__street__district",)
    list_filter = (CommitteeTermFilter, StreetListFilter, DistrictListFilter)
    search_fields = ("building__name", "seats__person_name")
    autocomplete_fields = ("building",)
    date_hierarchy = "term_ends_on"
    readonly_fields = ("created_at", "updated_at")
    fields = ("building", "founded_on", "term_starts_on", "term_ends_on", "created_at", "updated_at")
    inlines = (CommitteeSeatInline,)
    history_includes = (CommitteeSeat,)

    def get_queryset(self, request):
        return with_chief_and_seat_count(super().get_queryset(request))

    @admin.display(description=_("楼长"), ordering="_chief")
    def chief(self, obj) -> str:
        return getattr(obj, "_chief", None) or "—"

    @admin.display(description=_("在任成员数"), ordering="_seat_count")
    def seat_count(self, obj) -> int:
        return getattr(obj, "_seat_count", 0)


@admin.register(CommitteeSeat)
class CommitteeSeatAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    personal_fields = ("phone",)
    list_display = (
        "person_name",
        "role",
        "committee",
        related_column("committee__building__street", _("街道")),
        masked_column("phone", _("联系电话")),
        "affiliation",
        "member",
        "floor",
        "starts_on",
        "ends_on",
    )
    list_select_related = ("committee__building__street__district", "member")
    list_filter = ("role", CurrentSeatFilter, StreetListFilter, DistrictListFilter)
    search_fields = ("person_name", "affiliation", "committee__building__name", "=phone")
    autocomplete_fields = ("committee", "member")
    date_hierarchy = "starts_on"


class AgreementCommitmentInline(ScopedTabularInline):
    model = AgreementCommitment
    fields = ("side", "text")
    extra = 2
    show_change_link = False


@admin.register(AgreementCommitment)
class AgreementCommitmentAdmin(ScopedAdmin):
    list_display = ("text", "side", "agreement")
    list_select_related = ("agreement__partner",)
    list_filter = ("side", StreetListFilter, DistrictListFilter)
    search_fields = ("text", "agreement__title")
    autocomplete_fields = ("agreement",)


@admin.register(Agreement)
class AgreementAdmin(ScopedAdmin):
    """共建协议 of the street's partners with its building committees."""

    list_display = (
        "title",
        "partner",
        related_column("partner__street", _("街道")),
        "starts_on",
        "ends_on",
        "status",
    )
    list_select_related = ("partner__street__district",)
    list_filter = ("status", StreetListFilter, DistrictListFilter)
    search_fields = ("title", "partner__name")
    autocomplete_fields = ("partner", "committees")
    date_hierarchy = "starts_on"
    inlines = (AgreementCommitmentInline,)
    fields = ("title", "partner", "committees", "starts_on", "ends_on", "status")
