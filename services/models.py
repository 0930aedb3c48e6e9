"""Party–mass service stations, their spaces, events, bookings and space reservations."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.constraints import ConstraintErrorFields
from core.history import tracked

from .triggers import (
    TsTzRange,
    booking_tally_triggers,
    occupancy_triggers,
    sequence_trigger,
    station_street_triggers,
)


class ServiceStation(ConstraintErrorFields, models.Model):
    """党群服务站 — in a building, or a community partner's place (canteen, party-group service site).

    Owned by exactly one of ``building`` and ``partner`` (a database constraint). ``street``
    is the owner's street, copied by the database (``station_street_triggers``) so that the
    territory of every space, event and booking is one join away whoever owns the station.
    """

    street_path = "street"
    district_path = "street__district"
    partner_path = "partner"
    constraint_error_fields = {
        "services_servicestation_unique_name_in_building": "name",
        "services_servicestation_unique_name_in_partner": "name",
        "services_servicestation_one_owner": "building",
    }

    building = models.ForeignKey(
        "buildings.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stations",
        verbose_name=_("楼宇"),
    )
    partner = models.ForeignKey(
        "buildings.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stations",
        verbose_name=_("共建单位"),
        help_text=_("社区向骑手和白领开放的场所（食堂、党群服务点等）填写所属共建单位，不填楼宇。"),
    )
    # Kept by the database from the owner (see station_street_triggers); never edited.
    street = models.ForeignKey(
        "buildings.Street",
        on_delete=models.PROTECT,
        related_name="stations",
        verbose_name=_("街道"),
        editable=False,
    )
    name = models.CharField(_("名称"), max_length=100)
    floor = models.SmallIntegerField(_("所在楼层"))
    area_m2 = models.DecimalField(_("面积（㎡）"), max_digits=8, decimal_places=2)
    opening_hours = models.CharField(
        _("开放时间"), max_length=200, blank=True, help_text=_("如：工作日 9:00–18:00")
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    description = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("开放中"), default=True)

    class Meta:
        verbose_name = _("党群服务站")
        verbose_name_plural = _("党群服务站")
        ordering = ["street_id", "building_id", "name"]
        triggers = station_street_triggers()
        constraints = [
            models.UniqueConstraint(
                fields=["building", "name"],
                condition=Q(building__isnull=False),
                name="%(app_label)s_%(class)s_unique_name_in_building",
                violation_error_message=_("该楼宇已有同名服务站。"),
            ),
            models.UniqueConstraint(
                fields=["partner", "name"],
                condition=Q(partner__isnull=False),
                name="%(app_label)s_%(class)s_unique_name_in_partner",
                violation_error_message=_("该共建单位已有同名场所。"),
            ),
            models.CheckConstraint(
                condition=Q(building__isnull=False, partner__isnull=True)
                | Q(building__isnull=True, partner__isnull=False),
                name="%(app_label)s_%(class)s_one_owner",
                violation_error_message=_("服务站必须且只能属于一座楼宇或一个共建单位。"),
            ),
            models.CheckConstraint(
                condition=Q(area_m2__gt=0),
                name="%(app_label)s_%(class)s_area_positive",
                violation_error_message=_("面积必须大于0。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # The database sets the street (station_street_triggers); copying it here too keeps
        # this instance usable after save() without a reload.
        owner = self.owner
        if owner is not None:
            self.street_id = owner.street_id
        super().save(*args, **kwargs)

    @property
    def owner(self):
        """The building or the partner the station belongs to."""
        return self.building if self.building_id else self.partner

    @property
    def owner_name(self) -> str:
        owner = self.owner
        return owner.name if owner is not None else ""

    @property
    def address(self) -> str:
        owner = self.owner
        return owner.address if owner is not None else ""

    @property
    def is_community_place(self) -> bool:
        """A partner's place, shared with the building's people (the "other way")."""
        return self.partner_id is not None


class Space(ConstraintErrorFields, models.Model):
    """A room or counter of a station."""

    street_path = "station__street"
    district_path = "station__street__district"
    partner_path = "station__partner"
    constraint_error_fields = {"services_space_unique_name_in_station": "name"}

    class Function(models.TextChoices):
        RECEPTION = "reception", _("接待窗口")
        AFFAIRS = "affairs", _("事务办理")
        OFFICE = "office", _("驻点办公")
        ACTIVITY_ROOM = "activity_room", _("活动室")

    station = models.ForeignKey(
        ServiceStation, on_delete=models.PROTECT, related_name="spaces", verbose_name=_("服务站")
    )
    name = models.CharField(_("名称"), max_length=100)
    function = models.CharField(_("功能"), max_length=20, choices=Function.choices)
    capacity = models.PositiveIntegerField(_("容纳人数"))

    class Meta:
        verbose_name = _("空间")
        verbose_name_plural = _("空间")
        ordering = ["station_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_station",
                violation_error_message=_("该服务站已有同名空间。"),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gt=0),
                name="%(app_label)s_%(class)s_capacity_positive",
                violation_error_message=_("容纳人数必须大于0。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station.name} · {self.name}"

    def clean(self) -> None:
        """The room may not shrink below what is already planned in it and has not ended.

        Event.clean() and SpaceReservation.clean() keep new events and reservations
        within the capacity; this is the other side: the capacity of a space that already
        holds them (admin, inline on the station, API).
        """
        if self.pk is None or not self.capacity:
            return
        now = timezone.now()
        event = (
            Event.objects.filter(space_id=self.pk, ends_at__gt=now, capacity__gt=self.capacity)
            .exclude(status=Event.Status.CANCELLED)
            .order_by("-capacity", "starts_at")
            .values("title", "capacity")
            .first()
        )
        if event is not None:
            raise ValidationError(
                {
                    "capacity": _("容纳人数不能少于本空间未结束的活动《%(title)s》的名额（%(n)s人）。")
                    % {"title": event["title"], "n": event["capacity"]}
                }
            )
        reservation = (
            SpaceReservation.objects.filter(
                space_id=self.pk,
                status=SpaceReservation.Status.APPROVED,
                ends_at__gt=now,
                attendees__gt=self.capacity,
            )
            .order_by("-attendees", "starts_at")
            .values("purpose", "attendees")
            .first()
        )
        if reservation is not None:
            raise ValidationError(
                {
                    "capacity": _(
                        "容纳人数不能少于本空间已批准的场地预约（%(purpose)s）的预计人数（%(n)s人）。"
                    )
                    % {"purpose": reservation["purpose"], "n": reservation["attendees"]}
                }
            )


# The seat counters are the booking engine's tally, not an edit: a booking writes no Event history row
# (the booking's own history records who booked and when).
@tracked(exclude=("confirmed_count", "waitlist_count", "sequence"))
class Event(models.Model):
    """A party class, lecture, social or counselling slot in a space.

    ``confirmed_count`` and ``waitlist_count`` are kept by the booking engine
    (services/booking.py) under the event's row lock; the database refuses a
    confirmed count above capacity, so overbooking is impossible even for code
    that bypasses the engine's checks.
    """

    street_path = "space__station__street"
    district_path = "space__station__street__district"
    partner_path = "space__station__partner"

    class Kind(models.TextChoices):
        PARTY_CLASS = "party_class", _("党课")
        SAFETY_LECTURE = "safety_lecture", _("安全讲座")
        YOUTH_SOCIAL = "youth_social", _("青年联谊")
        COUNSELLING = "counselling", _("心理咨询")
        VOLUNTEER = "volunteer", _("志愿服务")
        OTHER = "other", _("其他")

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("所有人")
        PARTY_MEMBERS = "party_members", _("仅限党员")
        # A building's station opening an event to riders and residents of the neighbourhood
        # (events at a building's station are otherwise for the people who work there).
        COMMUNITY = "community", _("面向社区开放（含居民、骑手）")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        CANCELLED = "cancelled", _("已取消")

    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="events", verbose_name=_("空间"))
    title = models.CharField(_("标题"), max_length=150)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    description = models.TextField(_("介绍"), blank=True)
    speaker = models.CharField(_("主讲人"), max_length=100, blank=True)
    organizer = models.ForeignKey(
        "members.PartyOrganization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organized_events",
        verbose_name=_("主办党组织"),
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(_("名额"))
    waitlist_limit = models.PositiveIntegerField(_("候补上限"), default=50, help_text=_("0 表示不设候补"))
    audience = models.CharField(
        _("面向对象"), max_length=20, choices=Audience.choices, default=Audience.EVERYONE
    )
    booking_opens_at = models.DateTimeField(_("开始报名"))
    booking_closes_at = models.DateTimeField(_("截止报名"))
    cancel_deadline = models.DateTimeField(_("取消截止"))
    project = models.ForeignKey(
        "VolunteerProject",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("志愿服务项目"),
    )
    volunteer_hours = models.DecimalField(
        _("志愿时长（小时）"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("志愿服务到场后记入的时长；留空则按活动时长计。"),
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    confirmed_count = models.PositiveIntegerField(_("已确认人数"), default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(_("候补人数"), default=0, editable=False)
    # Raised by the database on every change of what a calendar shows (the sequence trigger in Meta):
    # the iCalendar SEQUENCE of its bookings (services/calendar.py), never lowered.
    sequence = models.PositiveIntegerField(_("修订次数"), default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        ordering = ["starts_at", "id"]
        permissions = [("view_confidential", _("可查看心理咨询预约人"))]
        # A non-cancelled event occupies its space (see SpaceOccupancy).
        triggers = [
            *occupancy_triggers("event_id", "{row}.status <> 'cancelled'"),
            # Time, place, title, status: what a subscribed calendar shows (services/calendar.py).
            sequence_trigger(
                fields=("space", "starts_at", "ends_at", "title", "status"),
                columns=("space_id", "starts_at", "ends_at", "title", "status"),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="event_status_starts_idx"),
            models.Index(fields=["space", "starts_at"], name="event_space_starts_idx"),
            # "Not ended yet": the portal's upcoming list counts its events, and finds the
            # earliest start among them, from this index alone (services.selectors).
            models.Index(fields=["status", "ends_at"], include=["starts_at"], name="event_status_ends_idx"),
            # Lists in the default order (the admin's, the API's): a page without a status filter.
            models.Index(fields=["starts_at", "id"], name="event_starts_idx"),
            # The audience filter across the city (superusers' admin list, the API): members-only
            # events are the rare value (~6 %), read here in list order and counted from this
            # small index (a 40 ms scan of 50,000 events became 3 ms). "Everyone" is most events:
            # event_starts_idx with a filter. Lists scoped to a street reach their events through
            # event_space_starts_idx and filter the audience there (a few hundred a year).
            models.Index(
                fields=["starts_at", "id"],
                condition=Q(audience="party_members"),
                name="event_members_only_starts_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束时间必须晚于开始时间。"),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gt=0),
                name="%(app_label)s_%(class)s_capacity_positive",
                violation_error_message=_("名额必须大于0。"),
            ),
            models.CheckConstraint(
                condition=Q(booking_closes_at__gt=F("booking_opens_at"))
                & Q(booking_closes_at__lte=F("ends_at")),
                name="%(app_label)s_%(class)s_booking_window",
                violation_error_message=_("报名截止须晚于开始报名，且不晚于活动结束。"),
            ),
            models.CheckConstraint(
                condition=Q(booking_opens_at__lte=F("starts_at")),
                name="%(app_label)s_%(class)s_booking_opens_before_start",
                violation_error_message=_("开始报名时间不能晚于活动开始。"),
            ),
            models.CheckConstraint(
                condition=Q(cancel_deadline__lte=F("starts_at")),
                name="%(app_label)s_%(class)s_cancel_deadline_before_start",
                violation_error_message=_("取消截止时间不能晚于活动开始。"),
            ),
            models.CheckConstraint(
                condition=~Q(kind="counselling") | Q(capacity=1),
                name="%(app_label)s_%(class)s_counselling_one_person",
                violation_error_message=_("心理咨询为一对一，名额必须为1。"),
            ),
            models.CheckConstraint(
                condition=Q(volunteer_hours__isnull=True) | Q(volunteer_hours__gt=0, kind="volunteer"),
                name="%(app_label)s_%(class)s_volunteer_hours",
                violation_error_message=_("只有志愿服务可以设置志愿时长，且须大于0。"),
            ),
            models.CheckConstraint(
                condition=Q(confirmed_count__lte=F("capacity")),
                name="%(app_label)s_%(class)s_not_overbooked",
                violation_error_message=_("已确认人数不能超过名额。"),
            ),
            ExclusionConstraint(
                name="%(app_label)s_%(class)s_no_overlap_in_space",
                expressions=[
                    ("space", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=~Q(status="cancelled"),
                violation_error_message=_("该空间在这段时间已有其他活动。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.confirmed_count, 0)

    @property
    def is_confidential(self) -> bool:
        return self.kind == self.Kind.COUNSELLING

    @property
    def credited_hours(self):
        """The hours a volunteer shift credits: as stated, or else its length (to 0.1 h)."""
        if self.volunteer_hours is not None:
            return self.volunteer_hours
        seconds = Decimal((self.ends_at - self.starts_at).total_seconds())
        return (seconds / Decimal(3600)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @classmethod
    def confidential_q(cls) -> Q:
        """Who books a counselling slot is confidential (core.scoping.hide_confidential)."""
        return Q(kind=cls.Kind.COUNSELLING)

    def clean(self) -> None:
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("结束时间必须晚于开始时间。")
        if (
            self.booking_opens_at
            and self.booking_closes_at
            and self.booking_closes_at <= self.booking_opens_at
        ):
            errors["booking_closes_at"] = _("报名截止须晚于开始报名。")
        elif self.booking_closes_at and self.ends_at and self.booking_closes_at > self.ends_at:
            errors["booking_closes_at"] = _("报名截止不能晚于活动结束。")
        if self.booking_opens_at and self.starts_at and self.booking_opens_at > self.starts_at:
            errors["booking_opens_at"] = _("开始报名时间不能晚于活动开始。")
        if self.cancel_deadline and self.starts_at and self.cancel_deadline > self.starts_at:
            errors["cancel_deadline"] = _("取消截止时间不能晚于活动开始。")
        if self.kind == self.Kind.COUNSELLING and self.capacity not in (None, 1):
            errors["capacity"] = _("心理咨询为一对一，名额必须为1。")
        elif self.space_id and self.capacity and self.capacity > self.space.capacity:
            errors["capacity"] = _("名额不能超过空间容纳人数（%(n)s人）。") % {"n": self.space.capacity}
        if (
            "starts_at" not in errors
            and "ends_at" not in errors
            and self.space_id
            and self.starts_at
            and self.ends_at
            and self.ends_at > self.starts_at
            and self.status != self.Status.CANCELLED
        ):
            # Event–event overlap is the ExclusionConstraint's (validate_constraints);
            # event–reservation overlap spans two tables, so it is checked here.
            clash = (
                SpaceOccupancy.overlapping(
                    space_id=self.space_id, starts_at=self.starts_at, ends_at=self.ends_at
                )
                .filter(reservation__isnull=False)
                .first()
            )
            if clash is not None:
                errors["starts_at"] = clash.conflict_message
        if errors:
            raise ValidationError(errors)


@tracked(exclude=("sequence",))
class Booking(models.Model):
    """A person's seat (or place on the waitlist) at an event.

    Written only through services/booking.py. Waitlist order is first come,
    first served: ``(created_at, id)`` of the waitlisted rows.
    """

    street_path = "event__space__station__street"
    district_path = "event__space__station__street__district"
    partner_path = "event__space__station__partner"

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("已确认")
        WAITLISTED = "waitlisted", _("候补中")
        CANCELLED = "cancelled", _("已取消")
        ATTENDED = "attended", _("已签到")
        NO_SHOW = "no_show", _("未到场")

    ACTIVE = (Status.CONFIRMED, Status.WAITLISTED)

    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("活动")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("预约人"),
    )
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, db_index=True)
    created_at = models.DateTimeField(_("预约时间"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    # Raised by the database on every change of status (see Event.sequence).
    sequence = models.PositiveIntegerField(_("修订次数"), default=0, db_default=0, editable=False)

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["event", "status", "created_at"], name="booking_event_status_idx"),
            models.Index(fields=["user", "status"], name="booking_user_status_idx"),
            # The admin's and the API's booking lists are ordered by (created_at, id): with this
            # index a page of a million bookings reads 50 rows instead of sorting them all.
            models.Index(fields=["created_at", "id"], name="booking_created_idx"),
        ]
        # Bookings per event and status, for the statistics (see BookingTally).
        triggers = [
            *booking_tally_triggers(),
            sequence_trigger(fields=("status",), columns=("status",)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="%(app_label)s_%(class)s_one_active_per_user",
                violation_error_message=_("您已预约过该活动。"),
            ),
            models.CheckConstraint(
                condition=Q(status="attended", checked_in_at__isnull=False)
                | (~Q(status="attended") & Q(checked_in_at__isnull=True)),
                name="%(app_label)s_%(class)s_checked_in_iff_attended",
                violation_error_message=_("只有已签到的预约才有签到时间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @classmethod
    def confidential_q(cls) -> Q:
        """A counselling booking names its booker: confidential (core.scoping.hide_confidential)."""
        return Q(event__kind=Event.Kind.COUNSELLING)


class BookingTally(models.Model):
    """How many bookings an event has in each status, kept by PostgreSQL (``booking_tally_triggers``).

    The activity statistics (services/stats.py) sum these per month and kind
    instead of grouping a million bookings on every request. Written only by the
    triggers on Booking, in the transaction that changes the bookings; never
    write it from Python. An event without bookings has no row.
    """

    event = models.OneToOneField(
        Event,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="tally",
        verbose_name=_("活动"),
    )
    confirmed = models.IntegerField(_("已确认"), default=0)
    waitlisted = models.IntegerField(_("候补中"), default=0)
    cancelled = models.IntegerField(_("已取消"), default=0)
    attended = models.IntegerField(_("已签到"), default=0)
    no_show = models.IntegerField(_("未到场"), default=0)

    class Meta:
        verbose_name = _("活动预约计数")
        verbose_name_plural = _("活动预约计数")

    def __str__(self) -> str:
        return f"{self.event_id}"


@tracked
class SpaceReservation(models.Model):
    """A party organization's request to use a space (e.g. a branch's theme-day meeting)."""

    street_path = "space__station__street"
    district_path = "space__station__street__district"

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")
        CANCELLED = "cancelled", _("已撤销")

    space = models.ForeignKey(
        Space, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("空间")
    )
    organization = models.ForeignKey(
        "members.PartyOrganization",
        on_delete=models.PROTECT,
        related_name="space_reservations",
        verbose_name=_("党组织"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="space_reservations",
        verbose_name=_("申请人"),
    )
    purpose = models.CharField(_("用途"), max_length=200)
    attendees = models.PositiveIntegerField(_("预计人数"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("场地预约")
        verbose_name_plural = _("场地预约")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["space", "starts_at"], name="reservation_space_starts_idx")]
        # An approved reservation occupies its space (see SpaceOccupancy).
        triggers = occupancy_triggers("reservation_id", "{row}.status = 'approved'")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束时间必须晚于开始时间。"),
            ),
            models.CheckConstraint(
                condition=Q(attendees__gt=0),
                name="%(app_label)s_%(class)s_attendees_positive",
                violation_error_message=_("预计人数必须大于0。"),
            ),
            ExclusionConstraint(
                name="%(app_label)s_%(class)s_no_overlap_approved",
                expressions=[
                    ("space", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status="approved"),
                violation_error_message=_("该空间在这段时间已有批准的预约。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.purpose}"

    def clean(self) -> None:
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("结束时间必须晚于开始时间。")
        if self.space_id and self.attendees and self.attendees > self.space.capacity:
            errors["attendees"] = _("预计人数超过空间容纳人数（%(n)s人）。") % {"n": self.space.capacity}
        if (
            "ends_at" not in errors
            and self.status == self.Status.APPROVED
            and self.space_id
            and self.starts_at
            and self.ends_at
        ):
            # Reservation–reservation overlap is the ExclusionConstraint's;
            # reservation–event overlap spans two tables, so it is checked here.
            clash = (
                SpaceOccupancy.overlapping(
                    space_id=self.space_id, starts_at=self.starts_at, ends_at=self.ends_at
                )
                .filter(event__isnull=False)
                .first()
            )
            if clash is not None:
                errors["starts_at"] = clash.conflict_message
        if errors:
            raise ValidationError(errors)


class SpaceOccupancy(models.Model):
    """Who holds a space when: one row per non-cancelled event and per approved reservation.

    An exclusion constraint works on one table, but the rule "an event and an
    approved reservation never overlap in one space" spans two. This table is
    the one place both kinds of booking of a room meet, and its exclusion
    constraint enforces the rule for every write path (admin, API, bulk SQL).
    It is written only by the PostgreSQL triggers on Event and SpaceReservation
    (``occupancy_triggers``); never write it from Python.
    """

    street_path = "space__station__street"
    district_path = "space__station__street__district"

    space = models.ForeignKey(Space, on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("空间"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    # DO_NOTHING: the delete triggers remove the row (Django's foreign keys are
    # deferred, so the owner may go first).
    event = models.OneToOneField(
        Event,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="occupancy",
        verbose_name=_("活动"),
    )
    reservation = models.OneToOneField(
        SpaceReservation,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="occupancy",
        verbose_name=_("场地预约"),
    )

    class Meta:
        verbose_name = _("空间占用")
        verbose_name_plural = _("空间占用")
        ordering = ["space_id", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(event__isnull=False, reservation__isnull=True)
                | Q(event__isnull=True, reservation__isnull=False),
                name="%(app_label)s_%(class)s_exactly_one_owner",
                violation_error_message=_("空间占用必须且只能对应一个活动或一条场地预约。"),
            ),
            ExclusionConstraint(
                name="%(app_label)s_%(class)s_no_overlap",
                expressions=[
                    ("space", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                violation_error_message=_("该空间在这段时间已被活动或批准的场地预约占用。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.space_id} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"

    @classmethod
    def overlapping(cls, *, space_id: int, starts_at, ends_at) -> models.QuerySet[SpaceOccupancy]:
        """Occupancies of ``space_id`` overlapping the half-open period [starts_at, ends_at)."""
        return (
            cls.objects.filter(space_id=space_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
            .select_related("event", "reservation__organization")
            .order_by("starts_at", "id")
        )

    @property
    def conflict_message(self) -> str:
        """What a person asking for this space at an overlapping time should read."""
        if self.event_id is not None:
            return _("该时段与活动《%(title)s》冲突。") % {"title": self.event.title}
        return _("该时段与党组织“%(organization)s”已批准的场地预约（%(purpose)s）冲突。") % {
            "organization": self.reservation.organization.name,
            "purpose": self.reservation.purpose,
        }


# --- Volunteer service (志愿服务) ---------------------------------------------------------------


class VolunteerProject(ConstraintErrorFields, models.Model):
    """A volunteer project grouping its shifts (events of kind "volunteer"), e.g. "keep elderly
    residents company, Tuesdays"."""

    street_path = "street"
    district_path = "street__district"
    partner_path = "partner"
    constraint_error_fields = {"services_volunteerproject_unique_name_in_street": "name"}

    street = models.ForeignKey(
        "buildings.Street",
        on_delete=models.PROTECT,
        related_name="volunteer_projects",
        verbose_name=_("街道"),
    )
    partner = models.ForeignKey(
        "buildings.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_projects",
        verbose_name=_("共建单位"),
    )
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("介绍"), blank=True)
    is_active = models.BooleanField(_("进行中"), default=True)

    class Meta:
        verbose_name = _("志愿服务项目")
        verbose_name_plural = _("志愿服务项目")
        ordering = ["street_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_street",
                violation_error_message=_("该街道已有同名志愿服务项目。"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.partner_id and self.street_id and self.partner.street_id != self.street_id:
            raise ValidationError({"partner": _("共建单位不在所选街道。")})


# The resident's name and address stay out of the history (which social workers read).
@tracked(exclude=("resident_name", "resident_address"))
class Pairing(models.Model):
    """结对: a volunteer (a rider or an employee) keeps an elderly resident the partner looks after company.

    The resident's name and address are the partner's: only its staff see them
    (services/volunteering.py ``can_see_resident``); everyone else sees that a pairing exists.
    """

    street_path = "partner__street"
    district_path = "partner__street__district"
    partner_path = "partner"
    #: fields only the partner's staff see (admin, API)
    resident_fields = ("resident_name", "resident_address")

    partner = models.ForeignKey(
        "buildings.Partner", on_delete=models.PROTECT, related_name="pairings", verbose_name=_("共建单位")
    )
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pairings", verbose_name=_("志愿者")
    )
    resident_name = models.CharField(_("老人姓名"), max_length=50)
    resident_address = models.CharField(_("老人住址"), max_length=200)
    started_on = models.DateField(_("结对日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("结对")
        verbose_name_plural = _("结对")
        ordering = ["partner_id", "-started_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束日期不能早于结对日期。"),
            )
        ]

    def __str__(self) -> str:
        return _("结对 #%(n)s") % {"n": self.pk}


@tracked
class VolunteerHours(models.Model):
    """The hours a person earned by attending a volunteer shift: one row per attended booking.

    Written only by services/volunteering.py: on check-in, or when staff confirm attendance
    after the shift; corrected only with a reason (``HoursCorrection``).
    """

    street_path = "event__space__station__street"
    district_path = "event__space__station__street__district"
    partner_path = "event__space__station__partner"

    booking = models.OneToOneField(
        Booking, on_delete=models.PROTECT, related_name="volunteer_hours", verbose_name=_("预约")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="volunteer_hours",
        verbose_name=_("志愿者"),
    )
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="hours_earned", verbose_name=_("志愿服务")
    )
    hours = models.DecimalField(_("时长（小时）"), max_digits=5, decimal_places=1)
    earned_at = models.DateTimeField(_("记入时间"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认人"),
        help_text=_("活动后由工作人员确认到场时填写；现场签到的为空。"),
    )

    class Meta:
        verbose_name = _("志愿服务时长")
        verbose_name_plural = _("志愿服务时长")
        ordering = ["-earned_at", "-id"]
        indexes = [
            models.Index(fields=["user", "earned_at"], name="volunteerhours_user_idx"),
            models.Index(fields=["earned_at"], name="volunteerhours_earned_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gte=0) & Q(hours__lte=24),
                name="%(app_label)s_%(class)s_hours_range",
                violation_error_message=_("时长应在0到24小时之间。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} · {self.hours}"


class HoursCorrection(models.Model):
    """A staff correction of earned hours, with its reason: the record behind every changed figure."""

    street_path = "record__event__space__station__street"
    district_path = "record__event__space__station__street__district"
    partner_path = "record__event__space__station__partner"

    record = models.ForeignKey(
        VolunteerHours, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("时长记录")
    )
    old_hours = models.DecimalField(_("原时长"), max_digits=5, decimal_places=1)
    new_hours = models.DecimalField(_("新时长"), max_digits=5, decimal_places=1)
    reason = models.CharField(_("更正原因"), max_length=200)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("更正人")
    )
    corrected_at = models.DateTimeField(_("更正时间"))

    class Meta:
        verbose_name = _("时长更正")
        verbose_name_plural = _("时长更正")
        ordering = ["-corrected_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="%(app_label)s_%(class)s_reason_given",
                violation_error_message=_("更正时长须填写原因。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.old_hours} → {self.new_hours}"
