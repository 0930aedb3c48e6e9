"""Admin for service stations, spaces, events, bookings and space reservations (scoped).

Bookings are written only by the booking engine (services/booking.py): the
admin shows them read-only and its actions (cancel a booking, cancel an event,
promote the waitlist, change the capacity) call the engine. Counselling
bookings are confidential: without ``services.view_confidential`` they are
absent from every list, inline, search, export and history here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from core.adminkit import (
    DistrictListFilter,
    ReadOnlyInlineMixin,
    ScopedAdmin,
    ScopedTabularInline,
    SpreadsheetAdminMixin,
    StreetListFilter,
    can_view_confidential,
    hide_confidential,
    note_form_response,
    related_column,
)

from .events import update_event
from .models import (
    Booking,
    Event,
    HoursCorrection,
    Pairing,
    ServiceStation,
    Space,
    SpaceReservation,
    VolunteerHours,
    VolunteerProject,
)
from .volunteering import can_see_resident

# --- Stations and spaces ---------------------------------------------------------------


#: The building or the community partner a station belongs to, as a list column.
OWNER_OF_STATION = related_column(
    "station__owner_name", _("楼宇/共建单位"), ordering="station__building__name"
)
OWNER_OF_SPACE = related_column(
    "space__station__owner_name", _("楼宇/共建单位"), ordering="space__station__building__name"
)


class SpaceInline(ScopedTabularInline):
    model = Space
    fields = ("name", "function", "capacity")
    extra = 1


@admin.register(ServiceStation)
class ServiceStationAdmin(ScopedAdmin):
    list_display = (
        "name",
        "building",
        "partner",
        "street",
        "floor",
        "area_m2",
        "opening_hours",
        "is_active",
    )
    list_select_related = ("building", "partner", "street__district")
    list_filter = ("is_active", StreetListFilter, DistrictListFilter)
    search_fields = ("name", "building__name", "partner__name")
    autocomplete_fields = ("building", "partner")
    inlines = (SpaceInline,)


@admin.register(Space)
class SpaceAdmin(ScopedAdmin):
    list_display = ("name", "station", OWNER_OF_STATION, "function", "capacity")
    list_select_related = ("station__street", "station__building", "station__partner")
    list_filter = ("function", StreetListFilter, DistrictListFilter)
    search_fields = ("name", "station__name", "station__building__name", "station__partner__name")
    autocomplete_fields = ("station",)


# --- Events and their bookings --------------------------------------------------------------


class TimeListFilter(admin.SimpleListFilter):
    title = _("时间")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", _("未开始")), ("ongoing", _("进行中")), ("past", _("已结束"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "ongoing":
            return queryset.filter(starts_at__lte=now, ends_at__gt=now)
        if self.value() == "past":
            return queryset.filter(ends_at__lte=now)
        return queryset


class EventAdminForm(forms.ModelForm):
    """Refuses, with the current figures, what the booking engine would refuse on save."""

    class Meta:
        model = Event
        fields = (
            "title",
            "kind",
            "status",
            "audience",
            "description",
            "speaker",
            "organizer",
            "space",
            "starts_at",
            "ends_at",
            "capacity",
            "waitlist_limit",
            "booking_opens_at",
            "booking_closes_at",
            "cancel_deadline",
        )

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if self.instance.pk is None:
            if status == Event.Status.CANCELLED:
                self.add_error("status", _t("新建活动不能直接设为已取消。"))
            return cleaned
        current = (
            Event.objects.filter(pk=self.instance.pk).values("status", "confirmed_count", "ends_at").first()
        )
        if current is None:
            return cleaned
        if current["status"] == Event.Status.CANCELLED and status and status != Event.Status.CANCELLED:
            self.add_error("status", _t("已取消的活动不能恢复，请新建活动。"))
        elif (
            "status" in self.changed_data
            and status == Event.Status.CANCELLED
            and timezone.now() >= current["ends_at"]
        ):
            self.add_error("status", _t("该活动已结束，不能取消。"))
        capacity = cleaned.get("capacity")
        if "capacity" in self.changed_data and capacity is not None and capacity < current["confirmed_count"]:
            self.add_error(
                "capacity",
                _t("名额不能少于已确认的人数（%(n)s人）。") % {"n": current["confirmed_count"]},
            )
        return cleaned


class BookingInline(ReadOnlyInlineMixin, ScopedTabularInline):
    """An event's bookings, read-only: they are written by the booking engine."""

    model = Booking
    fields = ("user", "status", "created_at", "confirmed_at", "cancelled_at", "checked_in_at")
    show_change_link = True
    verbose_name_plural = _("预约名单")

    def scope_filter(self, request, queryset):
        return hide_confidential(super().scope_filter(request, queryset), request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


def checkin_url(event_id: int) -> str:
    try:
        return f"{reverse('portal:checkin')}?event={event_id}"
    except NoReverseMatch:
        return f"/checkin/?event={event_id}"


@admin.register(Event)
class EventAdmin(SpreadsheetAdminMixin, ScopedAdmin):
    form = EventAdminForm
    list_display = (
        "title",
        "kind",
        "starts_at",
        "space",
        OWNER_OF_SPACE,
        "status",
        "audience",
        "seats",
        "checkin_link",
    )
    list_select_related = (
        "space__station__street",
        "space__station__building",
        "space__station__partner",
        "organizer",
    )
    list_filter = ("status", "kind", "audience", TimeListFilter, StreetListFilter, DistrictListFilter)
    search_fields = (
        "title",
        "speaker",
        "space__station__name",
        "space__station__building__name",
        "space__station__partner__name",
    )
    autocomplete_fields = ("space", "organizer")
    date_hierarchy = "starts_at"
    readonly_fields = ("confirmed_count", "waitlist_count", "created_at", "updated_at", "checkin_link")
    fieldsets = (
        (None, {"fields": ("title", "kind", "status", "audience", "description", "speaker", "organizer")}),
        (_("时间地点"), {"fields": ("space", "starts_at", "ends_at")}),
        (
            _("报名"),
            {
                "fields": (
                    "capacity",
                    "waitlist_limit",
                    "booking_opens_at",
                    "booking_closes_at",
                    "cancel_deadline",
                    "confirmed_count",
                    "waitlist_count",
                    "checkin_link",
                )
            },
        ),
        (_("记录"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (BookingInline,)
    actions = ("cancel_events", "promote_waitlists")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Staff reach check-in from the event's page, at the top, whatever the screen's width.
        if obj is not None and obj.pk and obj.status == Event.Status.PUBLISHED:
            context["checkin_url"] = checkin_url(obj.pk)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_inline_instances(self, request, obj=None):
        # A counselling slot's booker is confidential: no list at all without the permission.
        if obj is not None and obj.is_confidential and not can_view_confidential(request.user):
            return []
        return super().get_inline_instances(request, obj)

    @admin.display(description=_("名额"), ordering="confirmed_count")
    def seats(self, obj) -> str:
        # Seats taken, capacity and the waitlist in one column: the list fits a laptop (issue 15).
        text = f"{obj.confirmed_count}/{obj.capacity}"
        if obj.waitlist_count:
            text += " · " + _t("候补 %(n)s") % {"n": obj.waitlist_count}
        return text

    @admin.display(description=_("签到"))
    def checkin_link(self, obj) -> str:
        if obj.pk is None or obj.status != Event.Status.PUBLISHED:
            return "—"
        return format_html('<a href="{}">{}</a>', checkin_url(obj.pk), _t("去签到"))

    def save_model(self, request, obj, form, change):
        """New events are saved as they are; an edit goes through ``update_event`` (services/events.py):
        field edits under the event lock, a new time or place announced to the bookers, capacity
        and cancellation through the booking engine, all in the admin's transaction."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        update_event(event=obj, fields=form.changed_data, by=request.user, times_to_the_minute=True)
        self.ensure_in_scope(request, obj)

    @admin.action(description=_("取消所选活动（同时取消全部预约）"), permissions=["change"])
    def cancel_events(self, request, queryset):
        from services.booking import cancel_event

        self.run_domain_action(
            request,
            queryset,
            lambda event: cancel_event(event=event, by=request.user),
            done_message=_t("已取消 %(count)d 个活动，相关预约已一并取消。"),
        )

    @admin.action(description=_("按候补顺序递补空余名额"), permissions=["change"])
    def promote_waitlists(self, request, queryset):
        from services.booking import promote_waitlist

        promoted = 0

        def promote(event):
            nonlocal promoted
            promoted += len(promote_waitlist(event=event))

        self.run_domain_action(request, queryset, promote, done_message=_t("已处理 %(count)d 个活动。"))
        self.message_user(request, _t("共递补 %(n)d 人。") % {"n": promoted})


class ConfidentialKindFilter(admin.SimpleListFilter):
    """Event kind, without offering counselling to those who may not see it."""

    title = _("活动类型")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = Event.Kind.choices
        if not can_view_confidential(request.user):
            kinds = [(k, label) for k, label in kinds if k != Event.Kind.COUNSELLING]
        return kinds

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(event__kind=self.value())
        return queryset


@admin.register(Booking)
class BookingAdmin(ScopedAdmin):
    list_display = (
        "number",
        "event",
        related_column("event__starts_at", _("活动开始")),
        "booker",
        "status",
        "created_at",
        "status_changed_at",
    )
    list_display_links = ("number",)
    list_select_related = ("event__space__station__street", "user")
    # Booking time as a list filter (today, past 7 days, this month, this year), not a
    # date_hierarchy: the hierarchy's year and month links cost a DISTINCT over every
    # booking in view (a million for the city) on each page.
    list_filter = (
        "status",
        ConfidentialKindFilter,
        ("created_at", admin.DateFieldListFilter),
        StreetListFilter,
        DistrictListFilter,
    )
    search_fields = ("event__title", "user__username", "user__real_name", "=user__phone")
    search_help_text = _("按活动标题、预约人姓名或用户名搜索；手机号码须完整输入。")
    # Newest first, along booking_created_idx: a page reads 50 rows whatever the filter.
    ordering = ("-created_at", "-id")
    fields = ("event", "user", "status", "created_at", "confirmed_at", "cancelled_at", "checked_in_at")
    readonly_fields = fields
    actions = ("cancel_bookings", "confirm_attendance")

    def scope_filter(self, request, queryset):
        return hide_confidential(super().scope_filter(request, queryset), request.user)

    @admin.display(description=_("编号"), ordering="pk")
    def number(self, obj) -> str:
        return f"#{obj.pk}"

    @admin.display(description=_("状态时间"))
    def status_changed_at(self, obj):
        # When the booking got its present status (confirmed, cancelled, checked in): one column
        # instead of three, so the list fits a laptop; the booking's page shows all three.
        when = {
            Booking.Status.CONFIRMED: obj.confirmed_at,
            Booking.Status.CANCELLED: obj.cancelled_at,
            Booking.Status.ATTENDED: obj.checked_in_at,
        }.get(obj.status)
        return timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else "—"

    @admin.display(description=_("预约人"), ordering="user__real_name")
    def booker(self, obj) -> str:
        return obj.user.display_name

    def has_add_permission(self, request):
        return False  # bookings are made by people in the portal, through the booking engine

    def has_delete_permission(self, request, obj=None):
        return False  # the engine's counters depend on them; cancel instead

    @admin.action(description=_("取消所选预约（工作人员）"), permissions=["change"])
    def cancel_bookings(self, request, queryset):
        from services.booking import cancel_booking

        self.run_domain_action(
            request,
            queryset.select_related("event"),
            lambda booking: cancel_booking(booking=booking, by=request.user),
            done_message=_t("已取消 %(count)d 条预约，空出的名额已按候补顺序递补。"),
        )

    @admin.action(description=_("确认所选志愿服务预约已到场（记入时长）"), permissions=["change"])
    def confirm_attendance(self, request, queryset):
        """After a volunteer shift: the person came, the shift's hours are credited (once)."""
        from services.volunteering import confirm_attendance

        self.run_domain_action(
            request,
            queryset.select_related("event"),
            lambda booking: confirm_attendance(booking=booking, by=request.user),
            done_message=_t("已确认 %(count)d 条预约到场，志愿时长已记入。"),
        )


# --- Space reservations ------------------------------------------------------------------


@admin.register(SpaceReservation)
class SpaceReservationAdmin(ScopedAdmin):
    list_display = (
        "purpose",
        "organization",
        "space",
        OWNER_OF_SPACE,
        "starts_at",
        "ends_at",
        "attendees",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
    )
    list_select_related = (
        "organization",
        "space__station__street",
        "space__station__building",
        "space__station__partner",
        "requested_by",
        "decided_by",
    )
    list_filter = ("status", TimeListFilter, StreetListFilter, DistrictListFilter)
    search_fields = ("purpose", "organization__name", "space__name", "space__station__building__name")
    autocomplete_fields = ("space", "organization")
    date_hierarchy = "starts_at"
    fields = (
        "space",
        "organization",
        "purpose",
        "attendees",
        "starts_at",
        "ends_at",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
        "decision_note",
        "created_at",
    )
    readonly_fields = ("status", "requested_by", "decided_by", "decided_at", "decision_note", "created_at")
    actions = ("approve_reservations", "reject_reservations")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != SpaceReservation.Status.REQUESTED:
            return self.fields  # a decided reservation is a record: use the actions, not edits
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        from services.reservations import request_reservation

        created = request_reservation(
            user=request.user,
            organization=obj.organization,
            space=obj.space,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            purpose=obj.purpose,
            attendees=obj.attendees,
        )
        obj.pk = created.pk
        obj.status, obj.requested_by, obj.created_at = (
            created.status,
            created.requested_by,
            created.created_at,
        )
        self.ensure_in_scope(request, obj)

    @admin.action(description=_("批准所选场地预约"), permissions=["change"])
    def approve_reservations(self, request, queryset):
        from services.reservations import approve_reservation

        self.run_domain_action(
            request,
            queryset,
            lambda reservation: approve_reservation(reservation=reservation, by=request.user),
            done_message=_t("已批准 %(count)d 条场地预约。"),
        )

    @admin.action(description=_("驳回所选场地预约"), permissions=["change"])
    def reject_reservations(self, request, queryset):
        from services.reservations import reject_reservation

        page = note_form_response(
            self,
            request,
            queryset,
            action="reject_reservations",
            title=_t("驳回场地预约"),
            label=_t("驳回理由（申请人可见）"),
        )
        if page is not None:
            return page
        note = request.POST.get("note", "")
        self.run_domain_action(
            request,
            queryset,
            lambda reservation: reject_reservation(reservation=reservation, by=request.user, note=note),
            done_message=_t("已驳回 %(count)d 条场地预约。"),
        )
        return None


# --- Volunteer service -----------------------------------------------------------------------


@admin.register(VolunteerProject)
class VolunteerProjectAdmin(ScopedAdmin):
    list_display = ("name", "partner", "street", "is_active")
    list_select_related = ("partner", "street__district")
    list_filter = ("is_active", StreetListFilter, DistrictListFilter)
    search_fields = ("name", "partner__name")
    autocomplete_fields = ("street", "partner")


@admin.register(Pairing)
class PairingAdmin(ScopedAdmin):
    """Pairings; the resident's name and address only for the partner's own staff (and superusers)."""

    list_display = ("__str__", "partner", "volunteer", "started_on", "ended_on")
    list_select_related = ("partner__street", "volunteer")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("partner__name", "volunteer__username")
    autocomplete_fields = ("partner", "volunteer")
    export_fields = ("partner", "volunteer", "started_on", "ended_on")

    def _sees_residents(self, request) -> bool:
        user = request.user
        return user.is_superuser or bool(getattr(user, "partner_id", None))

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if self._sees_residents(request):
            return (*columns[:1], "resident_name", *columns[1:])
        return columns

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or ())
        if (
            obj is None
            and not self._sees_residents(request)
            or obj is not None
            and not can_see_resident(request.user, obj)
        ):
            excluded += list(Pairing.resident_fields)
        return excluded

    def has_add_permission(self, request):
        # A pairing names a resident: made by the partner's staff, who keep the resident's details.
        return self._sees_residents(request) and super().has_add_permission(request)


class HoursCorrectionInline(ReadOnlyInlineMixin, ScopedTabularInline):
    model = HoursCorrection
    fields = ("old_hours", "new_hours", "reason", "corrected_by", "corrected_at")
    verbose_name_plural = _("时长更正记录")


class CorrectHoursForm(forms.Form):
    """The intermediate page of "correct hours": the new hours and the reason, both required."""

    hours = forms.DecimalField(
        label=_("更正后的时长（小时）"), min_value=0, max_value=24, max_digits=4, decimal_places=1
    )
    note = forms.CharField(
        label=_("更正原因（记入更正记录）"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(VolunteerHours)
class VolunteerHoursAdmin(ScopedAdmin):
    """Earned hours, read-only: written by check-in and confirmation (services/volunteering.py).

    Staff change them only through the "correct hours" action, with a reason (``correct_hours``).
    """

    list_display = ("event", "user", "hours", "earned_at", "confirmed_by")
    list_select_related = ("event", "user", "confirmed_by")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("event__title", "user__username")
    autocomplete_fields = ("booking", "user", "event", "confirmed_by")
    date_hierarchy = "earned_at"
    inlines = (HoursCorrectionInline,)
    actions = ("correct_hours",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_correct_permission(self, request, obj=None):
        return request.user.has_perm("services.change_volunteerhours")

    @admin.action(description=_("更正所选志愿时长（须填写原因）"), permissions=["correct"])
    def correct_hours(self, request, queryset):
        from services.volunteering import correct_hours

        form = CorrectHoursForm(request.POST if "confirm" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            context = {
                **self.admin_site.each_context(request),
                "title": _t("更正志愿时长"),
                "subtitle": None,
                "form": form,
                "queryset": queryset,
                "action": "correct_hours",
                "opts": self.opts,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            request.current_app = self.admin_site.name
            return TemplateResponse(request, "admin/action_note.html", context)
        hours, reason = form.cleaned_data["hours"], form.cleaned_data["note"]
        self.run_domain_action(
            request,
            queryset,
            lambda record: correct_hours(record=record, hours=hours, reason=reason, by=request.user),
            done_message=_t("已更正 %(count)d 条志愿时长，原因已记录。"),
            permission="correct",
        )
        return None

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HoursCorrection)
class HoursCorrectionAdmin(ScopedAdmin):
    list_display = ("record", "old_hours", "new_hours", "reason", "corrected_by", "corrected_at")
    list_select_related = ("record__event", "corrected_by")
    list_filter = (StreetListFilter, DistrictListFilter)
    search_fields = ("reason",)
    autocomplete_fields = ("record", "corrected_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
