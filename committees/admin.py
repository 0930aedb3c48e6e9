"""Admin for building committees (楼委会) and their seats, scoped to the user's territory."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from core.adminkit import (
    DistrictListFilter,
    ReadOnlyInlineMixin,
    ScopedAdmin,
    ScopedStackedInline,
    ScopedTabularInline,
    SpreadsheetAdminMixin,
    StreetListFilter,
    mask_value,
    masked_column,
    note_form_response,
    related_column,
)
from core.scoping import has_staff_scope

from . import demands, risk
from .models import (
    Agreement,
    AgreementCommitment,
    BuildingCommittee,
    CommitteeMeeting,
    CommitteeSeat,
    Demand,
    DemandAttachment,
    DemandCategory,
    DemandStep,
    EnterpriseContact,
    EnterpriseRiskOverride,
    MeetingResolution,
    Visit,
)
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


class CommitteeSeatInline(ScopedStackedInline):
    """Each seat on three lines, not one 2,000-px table row: the whole form, its "任职结束" and
    "删除" and every error beside its field, fits a 1366-px laptop (issue 15)."""

    model = CommitteeSeat
    personal_fields = ("phone",)
    fields = (
        ("role", "person_name", "phone"),
        ("affiliation", "member", "floor"),
        ("starts_on", "ends_on"),
    )
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


# --- The committee's work: categories, contacts, visits, demands ---------------------------------


@admin.register(DemandCategory)
class DemandCategoryAdmin(ScopedAdmin):
    """The city's list of demand categories: every staff user reads it (to choose one), superusers edit."""

    list_display = ("name", "handling_level", "deadline_days", "is_risk_signal", "is_active", "position")
    search_fields = ("name",)
    ordering = ("position", "name")

    def scope_filter(self, request, queryset):
        return queryset if has_staff_scope(request.user) else queryset.none()


@admin.register(EnterpriseContact)
class EnterpriseContactAdmin(ScopedAdmin):
    list_display = ("enterprise", related_column("enterprise__building", _("楼宇")), "user", "created_at")
    list_select_related = ("enterprise__building__street", "user")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("enterprise__name", "user__username")
    autocomplete_fields = ("enterprise", "user")


class VisitDemandInline(ReadOnlyInlineMixin, ScopedTabularInline):
    """The demands raised during the visit (raised from the demand list's "add", with this visit)."""

    model = Demand
    fields = ("title", "category", "state", "deadline")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category")


@admin.register(Visit)
class VisitAdmin(ScopedAdmin):
    list_display = (
        "enterprise",
        related_column("enterprise__building", _("楼宇")),
        related_column("enterprise__building__street", _("街道")),
        "visited_on",
        "visited_by",
        "met_with",
    )
    list_select_related = ("enterprise__building__street", "visited_by")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("enterprise__name", "topics", "met_with")
    autocomplete_fields = ("enterprise",)
    date_hierarchy = "visited_on"
    fields = ("enterprise", "visited_on", "companions", "met_with", "topics")
    inlines = (VisitDemandInline,)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.visited_by = request.user
        super().save_model(request, obj, form, change)


class DemandStepInline(ReadOnlyInlineMixin, ScopedTabularInline):
    model = DemandStep
    fields = ("at", "actor", "from_state", "to_state", "note")
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class DemandAttachmentInline(ReadOnlyInlineMixin, ScopedTabularInline):
    model = DemandAttachment
    fields = ("original_name", "content_type", "size", "uploaded_at")
    show_change_link = False


class OverdueFilter(admin.SimpleListFilter):
    title = _("超期")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("已超期")), ("no", _("未超期"))]

    def queryset(self, request, queryset):
        overdue = Q(state__in=Demand.OPEN_STATES, deadline__lt=timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class DemandAddForm(forms.ModelForm):
    """Raising a demand on an enterprise's behalf (e.g. during a visit): the rest is the write side's."""

    class Meta:
        model = Demand
        fields = ("enterprise", "visit", "category", "title", "description")


class SeatAssignForm(forms.Form):
    """The intermediate page of "交办楼委会成员": a current seat of the demands' building's committee."""

    seat = forms.ModelChoiceField(queryset=CommitteeSeat.objects.none(), label=_("承办的楼委会成员"))
    note = forms.CharField(
        label=_("说明"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, seats, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seat"].queryset = seats


@admin.register(Demand)
class DemandAdmin(ScopedAdmin):
    list_display = (
        "__str__",
        "enterprise_and_building",
        related_column("building__street", _("街道")),
        "category",
        "state",
        "deadline",
        "submitter_name",
        "submitted_on",
        "rating",
    )
    list_select_related = ("enterprise", "building__street__district", "category", "submitter")
    list_filter = ("state", "category", OverdueFilter, StreetListFilter, DistrictListFilter)
    search_fields = ("title", "enterprise__name", "building__name")
    autocomplete_fields = ("enterprise", "visit", "category")
    date_hierarchy = "submitted_at"
    readonly_fields = (
        "building",
        "enterprise",
        "submitter",
        "visit",
        "category",
        "title",
        "description",
        "state",
        "handler_kind",
        "handler_seat",
        "handler_department",
        "deadline",
        "resolution",
        "resolved_at",
        "confirm_by",
        "decline_reason",
        "closed_at",
        "rating",
        "rating_comment",
        "submitted_at",
    )
    inlines = (DemandStepInline, DemandAttachmentInline)
    actions = (
        "accept_demands",
        "decline_demands",
        "assign_to_seat",
        "assign_to_property",
        "assign_to_street",
        "assign_to_district",
        "start_demands",
        "note_demands",
        "resolve_demands",
    )

    @admin.display(description=_("企业 · 楼宇"), ordering="enterprise__name")
    def enterprise_and_building(self, obj) -> str:
        """The enterprise, its building under it (one column: the list fits a 1366-px laptop)."""
        return format_html("{}<br>{}", obj.enterprise.name, obj.building.name)

    @admin.display(description=_("提出人"), ordering="submitter__username")
    def submitter_name(self, obj) -> str:
        """The name, and the phone masked under it (one column: the list fits a 1366-px laptop)."""
        user = obj.submitter
        return format_html(
            '{}<br><span class="nowrap">{}</span>',
            user.get_full_name() or user.username,
            mask_value("phone", user.phone),
        )

    @admin.display(description=_("提交时间"), ordering="submitted_at")
    def submitted_on(self, obj) -> datetime.date:
        # The day is enough in the list (the page has the time): the list fits a 1366-px laptop.
        return timezone.localdate(obj.submitted_at)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DemandAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return list(DemandAddForm._meta.fields) if obj is None else list(self.readonly_fields)

    def get_inlines(self, request, obj):
        return () if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is edited on the change page
        data = form.cleaned_data
        created = demands.submit_demand(
            user=request.user,
            enterprise=data["enterprise"],
            category=data["category"],
            title=data["title"],
            description=data["description"],
            visit=data.get("visit"),
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        self.ensure_in_scope(request, obj)

    def save_related(self, request, form, formsets, change):
        return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing is edited on the change page (the actions move a demand): no save buttons.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _run(self, request, queryset, func, done: str):
        self.run_domain_action(request, queryset, func, done_message=done)

    @admin.action(description=_("受理所选诉求"), permissions=["change"])
    def accept_demands(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o: demands.accept_demand(user=request.user, demand=o),
            _t("已受理 %(count)d 条诉求。"),
        )

    def _with_note(self, request, queryset, *, action, title, label, func, done):
        page = note_form_response(self, request, queryset, action=action, title=title, label=label)
        if page is not None:
            return page
        note = request.POST.get("note", "")
        self._run(request, queryset, lambda o: func(o, note), done)
        return None

    @admin.action(description=_("不予受理所选诉求"), permissions=["change"])
    def decline_demands(self, request, queryset):
        return self._with_note(
            request,
            queryset,
            action="decline_demands",
            title=_t("不予受理"),
            label=_t("理由（提出人可见）"),
            func=lambda o, note: demands.decline_demand(user=request.user, demand=o, reason=note),
            done=_t("已不予受理 %(count)d 条诉求。"),
        )

    def _assign(self, request, queryset, kind, action, title, label):
        return self._with_note(
            request,
            queryset,
            action=action,
            title=title,
            label=label,
            func=lambda o, note: demands.assign_demand(
                user=request.user, demand=o, handler_kind=kind, department=note
            ),
            done=_t("已交办 %(count)d 条诉求。"),
        )

    @admin.action(description=_("交办所选诉求给楼委会成员"), permissions=["change"])
    def assign_to_seat(self, request, queryset):
        """An intermediate page choosing a current seat of the building's committee (one building at a time)."""
        buildings = set(queryset.values_list("building_id", flat=True))
        if len(buildings) != 1:
            self.message_user(request, _t("交办楼委会成员时，请只选择同一楼宇的诉求。"), messages.ERROR)
            return None
        building_id = buildings.pop()
        seats = (
            CommitteeSeat.objects.filter(committee__building_id=building_id)
            .filter(demands.current_seat_q(today=timezone.localdate()))
            .select_related("member")
            .order_by("role", "id")
        )
        form = SeatAssignForm(request.POST if "confirm" in request.POST else None, seats=seats)
        if not (form.is_bound and form.is_valid()):
            context = {
                **self.admin_site.each_context(request),
                "title": _t("交办楼委会成员"),
                "subtitle": None,
                "form": form,
                "queryset": queryset,
                "action": "assign_to_seat",
                "opts": self.opts,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            request.current_app = self.admin_site.name
            return TemplateResponse(request, "admin/action_note.html", context)
        seat, note = form.cleaned_data["seat"], form.cleaned_data["note"]
        self._run(
            request,
            queryset,
            lambda o: demands.assign_demand(
                user=request.user, demand=o, handler_kind=Demand.HandlerKind.SEAT, seat=seat, note=note
            ),
            _t("已交办 %(count)d 条诉求。"),
        )
        return None

    @admin.action(description=_("交办物业"), permissions=["change"])
    def assign_to_property(self, request, queryset):
        return self._assign(
            request,
            queryset,
            Demand.HandlerKind.PROPERTY,
            "assign_to_property",
            _t("交办物业"),
            _t("物业名称"),
        )

    @admin.action(description=_("交办街道部门"), permissions=["change"])
    def assign_to_street(self, request, queryset):
        return self._assign(
            request,
            queryset,
            Demand.HandlerKind.STREET,
            "assign_to_street",
            _t("交办街道部门"),
            _t("部门名称"),
        )

    @admin.action(description=_("交办区级部门"), permissions=["change"])
    def assign_to_district(self, request, queryset):
        return self._assign(
            request,
            queryset,
            Demand.HandlerKind.DISTRICT,
            "assign_to_district",
            _t("交办区级部门"),
            _t("部门名称"),
        )

    @admin.action(description=_("开始办理所选诉求"), permissions=["change"])
    def start_demands(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda o: demands.start_demand(user=request.user, demand=o),
            _t("已开始办理 %(count)d 条诉求。"),
        )

    @admin.action(description=_("记录进展"), permissions=["change"])
    def note_demands(self, request, queryset):
        return self._with_note(
            request,
            queryset,
            action="note_demands",
            title=_t("记录进展"),
            label=_t("进展说明"),
            func=lambda o, note: demands.add_note(user=request.user, demand=o, note=note),
            done=_t("已为 %(count)d 条诉求记录进展。"),
        )

    @admin.action(description=_("办结所选诉求"), permissions=["change"])
    def resolve_demands(self, request, queryset):
        return self._with_note(
            request,
            queryset,
            action="resolve_demands",
            title=_t("办结"),
            label=_t("办理结果（提出人可见）"),
            func=lambda o, note: demands.resolve_demand(user=request.user, demand=o, resolution=note),
            done=_t("已办结 %(count)d 条诉求。"),
        )


class TimelineReadOnlyAdmin(ScopedAdmin):
    """Rows the write side writes (committees/demands.py): listed, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in (self.exclude or ())]


@admin.register(DemandStep)
class DemandStepAdmin(TimelineReadOnlyAdmin):
    list_display = ("demand", "at", "actor", "from_state", "to_state", "note")
    list_select_related = ("demand", "actor")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("demand__title", "note")
    date_hierarchy = "at"


@admin.register(DemandAttachment)
class DemandAttachmentAdmin(TimelineReadOnlyAdmin):
    list_display = ("original_name", "demand", "content_type", "size", "uploaded_by", "uploaded_at")
    list_select_related = ("demand", "uploaded_by")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("original_name", "demand__title")
    exclude = ("file",)


class MeetingResolutionInline(ScopedStackedInline):
    """Stacked: five fields with two autocompletes fit a 1366-px laptop only one under another."""

    model = MeetingResolution
    fields = ("text", "demand", "owner", "due_on", "done_on")
    autocomplete_fields = ("demand", "owner")
    extra = 1
    show_change_link = False


@admin.register(CommitteeMeeting)
class CommitteeMeetingAdmin(ScopedAdmin):
    list_display = ("topic", "committee", related_column("committee__building__street", _("街道")), "held_on")
    list_select_related = ("committee__building__street",)
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("topic", "committee__building__name")
    autocomplete_fields = ("committee", "attendees", "agenda")
    date_hierarchy = "held_on"
    fields = ("committee", "held_on", "topic", "attendees", "agenda", "minutes")
    inlines = (MeetingResolutionInline,)
    history_includes = (MeetingResolution,)

    def save_formset(self, request, form, formset, change):
        from .meetings import put_resolution_done_on_timeline, put_resolution_on_timeline

        new = [f.instance for f in formset.forms if f.instance.pk is None and f.has_changed()]
        # A resolution marked done (now or on creation): its follow-up goes on the demand's timeline too.
        done = [
            f.instance
            for f in formset.forms
            if "done_on" in f.changed_data
            and f.cleaned_data.get("done_on")
            and not f.cleaned_data.get("DELETE")
        ]
        super().save_formset(request, form, formset, change)
        for obj in new:
            if isinstance(obj, MeetingResolution) and obj.pk:
                put_resolution_on_timeline(resolution=obj, user=request.user)
        for obj in done:
            if isinstance(obj, MeetingResolution) and obj.pk:
                put_resolution_done_on_timeline(resolution=obj, user=request.user)


@admin.register(MeetingResolution)
class MeetingResolutionAdmin(ScopedAdmin):
    list_display = ("__str__", "meeting", "demand", "owner", "due_on", "done_on")
    list_select_related = ("meeting__committee__building", "demand", "owner")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("text", "meeting__topic")
    autocomplete_fields = ("meeting", "demand", "owner")
    date_hierarchy = "due_on"

    def save_model(self, request, obj, form, change):
        from .meetings import put_resolution_done_on_timeline, put_resolution_on_timeline

        super().save_model(request, obj, form, change)
        if not change:
            put_resolution_on_timeline(resolution=obj, user=request.user)
        if "done_on" in form.changed_data and obj.done_on:
            put_resolution_done_on_timeline(resolution=obj, user=request.user)


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


class RiskOverrideForm(forms.ModelForm):
    """Setting an enterprise's risk colour by hand: the checks and the record are committees/risk.py's."""

    class Meta:
        model = EnterpriseRiskOverride
        fields = ("enterprise", "colour", "reason")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        enterprise = data.get("enterprise") or (self.instance.enterprise if self.instance.pk else None)
        colour = data.get("colour")
        if enterprise is not None and colour:
            from django.db import transaction

            # The write function decides (reason, territory, permission); rolled back here, run for real on save.
            try:
                with transaction.atomic():
                    risk.override_colour(
                        user=self.user, enterprise=enterprise, colour=colour, reason=data.get("reason", "")
                    )
                    transaction.set_rollback(True)
            except risk.RiskOverrideError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(EnterpriseRiskOverride)
class EnterpriseRiskOverrideAdmin(ScopedAdmin):
    """The social workers' overrides of the computed risk colour: who, when, why (and the history)."""

    list_display = ("enterprise", "colour", "reason", "set_by", "set_at")
    list_select_related = ("enterprise", "set_by")
    search_fields = ("enterprise__name",)
    autocomplete_fields = ("enterprise",)
    readonly_fields = ("set_by", "set_at")
    form = RiskOverrideForm

    def _may_override(self, request) -> bool:
        return request.user.is_superuser or request.user.has_perm(risk.CHANGE_PERMISSION)

    def has_add_permission(self, request):
        return self._may_override(request)

    def has_change_permission(self, request, obj=None):
        return self._may_override(request) and (obj is None or self.is_in_scope(request, obj))

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class WithUser(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return WithUser

    def get_readonly_fields(self, request, obj=None):
        return ("enterprise", "set_by", "set_at") if obj is not None else ("set_by", "set_at")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = risk.override_colour(
            user=request.user,
            enterprise=obj.enterprise,
            colour=data["colour"],
            reason=data["reason"],
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        risk.clear_override(user=request.user, enterprise=obj.enterprise_id)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
