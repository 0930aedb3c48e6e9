"""Spreadsheet import/export of events (the service calendar).

An event is found by its space and start time (two events never overlap in one space);
its space is named within the row's building (and the building within the row's
street). A new event is saved as the admin saves one; a change to an existing event goes
through ``services.events.update_event``, as the admin's does: under the event's lock,
bookers told of a new time or place, capacity and cancellation through the booking
engine.
"""

from __future__ import annotations

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from buildings.resources import InStreetWidget, StreetColumn, buildings_in_street, row_street
from core.spreadsheets.registry import register
from core.spreadsheets.resources import Column, PortalResource
from core.spreadsheets.widgets import ChoiceWidget, DateTimeWidget, IntegerWidget, TextWidget, cell_str
from members.resources import organizations_in_street

from .events import update_event
from .models import Event, Space

BUILDING_LABEL = _("楼宇")
TRACKED_FIELDS = (
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


class SpaceWidget(InStreetWidget):
    """A space by name among the spaces of the row's building ("服务站 / 空间" if two share a name)."""

    def __init__(self):
        super().__init__(None, missing="")
        self.buildings = InStreetWidget(
            buildings_in_street, missing=_t("“%(street)s”没有名为“%(name)s”的楼宇。")
        )

    def clean(self, value, row=None, **kwargs):
        text = cell_str(value)
        if not text:
            return None
        row = row or {}
        street = row_street(row, self.streets)
        try:
            building = self.buildings.find(street, cell_str(row.get(str(BUILDING_LABEL))))
        except ValueError:
            raise ValueError(_t("请先填写正确的楼宇。")) from None
        key = (building.pk, text)
        if key not in self._found:
            station, sep, name = text.replace("／", "/").rpartition("/")
            spaces = Space.objects.filter(station__building=building, name=name.strip())
            if sep:
                spaces = spaces.filter(station__name=station.strip())
            found = list(spaces[:2])
            if not found:
                self._found[key] = ValueError(
                    _t("“%(building)s”没有名为“%(name)s”的空间。") % {"building": building.name, "name": text}
                )
            elif len(found) > 1:
                self._found[key] = ValueError(
                    _t("“%(building)s”有多个名为“%(name)s”的空间，请写成“服务站/空间”。")
                    % {"building": building.name, "name": text}
                )
            else:
                self._found[key] = found[0]
        found = self._found[key]
        if isinstance(found, Exception):
            raise found
        return found


@register
class EventResource(PortalResource):
    scope_column = "street"
    export_select_related = ("space__station__street__district", "space__station__building", "organizer")
    template_note = _("同一空间、同一开始时间的活动视为同一活动，导入时更新；已有预约的人会收到变更通知。")

    title = Column("title", _("标题"), required=True, example="新时代青年党课")
    kind = Column("kind", _("类型"), ChoiceWidget(Event.Kind.choices), required=True, example="党课")
    street = StreetColumn()
    building = Column(
        "import_building",
        BUILDING_LABEL,
        InStreetWidget(buildings_in_street, missing=_t("“%(street)s”没有名为“%(name)s”的楼宇。")),
        required=True,
        example="南京西路国际大厦",
        source=lambda event: event.space.station.building if event.space_id else None,
    )
    space = Column("space", _("空间"), SpaceWidget(), required=True, example="党群活动室")
    starts_at = Column(
        "starts_at", _("开始时间"), DateTimeWidget(), required=True, example="2025-07-01 14:00"
    )
    ends_at = Column("ends_at", _("结束时间"), DateTimeWidget(), required=True, example="2025-07-01 16:00")
    capacity = Column("capacity", _("名额"), IntegerWidget(), required=True, example="40")
    waitlist_limit = Column("waitlist_limit", _("候补上限"), IntegerWidget(), example="10", default=50)
    audience = Column(
        "audience",
        _("面向对象"),
        ChoiceWidget(Event.Audience.choices),
        example="所有人",
        default=Event.Audience.EVERYONE,
    )
    status = Column(
        "status", _("状态"), ChoiceWidget(Event.Status.choices), example="草稿", default=Event.Status.DRAFT
    )
    booking_opens_at = Column(
        "booking_opens_at", _("开始报名"), DateTimeWidget(), required=True, example="2025-06-20 09:00"
    )
    booking_closes_at = Column(
        "booking_closes_at", _("截止报名"), DateTimeWidget(), required=True, example="2025-07-01 12:00"
    )
    cancel_deadline = Column(
        "cancel_deadline", _("取消截止"), DateTimeWidget(), required=True, example="2025-07-01 12:00"
    )
    speaker = Column("speaker", _("主讲人"), example="王老师")
    organizer = Column(
        "organizer",
        _("主办党组织"),
        InStreetWidget(organizations_in_street, missing=_t("“%(street)s”没有名为“%(name)s”的党组织。")),
        help=_("本街道党组织的名称；可留空。"),
    )
    description = Column("description", _("介绍"), TextWidget())

    class Meta(PortalResource.Meta):
        model = Event
        fields = (
            "title",
            "kind",
            "street",
            "building",
            "space",
            "starts_at",
            "ends_at",
            "capacity",
            "waitlist_limit",
            "audience",
            "status",
            "booking_opens_at",
            "booking_closes_at",
            "cancel_deadline",
            "speaker",
            "organizer",
            "description",
        )
        import_id_fields = ("space", "starts_at")

    def find_existing(self, row):
        space = self.fields["space"].clean(row)
        starts_at = self.fields["starts_at"].clean(row)
        if space is None or starts_at is None:
            return None
        return (
            Event.objects.filter(space=space, starts_at=starts_at)
            .exclude(status=Event.Status.CANCELLED)
            .first()
        )

    def after_init_instance(self, instance, new, row, **kwargs):
        super().after_init_instance(instance, new, row, **kwargs)
        self._before = (
            None if new else {name: getattr(instance, name) for name in (*TRACKED_FIELDS, "confirmed_count")}
        )

    def clean_row(self, instance) -> dict:
        """The admin form's rules (services/admin.py EventAdminForm), for a sheet."""
        before = self._before
        if before is None:
            if instance.status == Event.Status.CANCELLED:
                return {"status": _t("新建活动不能直接设为已取消。")}
            return {}
        errors = {}
        if before["status"] == Event.Status.CANCELLED and instance.status != Event.Status.CANCELLED:
            errors["status"] = _t("已取消的活动不能恢复，请新建活动。")
        if instance.capacity is not None and instance.capacity < before["confirmed_count"]:
            errors["capacity"] = _t("名额不能少于已确认的人数（%(n)s人）。") % {
                "n": before["confirmed_count"]
            }
        return errors

    def save_record(self, instance, is_create) -> None:
        if is_create:
            instance.save(force_insert=True)
            return
        changed = [name for name in TRACKED_FIELDS if getattr(instance, name) != self._before[name]]
        update_event(event=instance, fields=changed, by=self.user)
