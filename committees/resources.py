"""Spreadsheet import/export of committee seats (楼委会 rosters).

A seat is found by its committee (the building's, named within the row's street), role,
person and start date. The committee must exist (it is founded in the admin); a seat's
party member is named by ID number, among the members the importing user may see.
"""

from __future__ import annotations

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from import_export import widgets as ie_widgets

from buildings.resources import InStreetWidget, StreetColumn
from core.scoping import scope_queryset
from core.spreadsheets.registry import register
from core.spreadsheets.resources import Column, PortalResource
from core.spreadsheets.widgets import ChoiceWidget, DateWidget, IntegerWidget, TextWidget, UpperTextWidget
from members.models import PartyMember

from .models import BuildingCommittee, CommitteeSeat


def committees_in_street(street, name):
    return BuildingCommittee.objects.filter(building__street=street, building__name=name).select_related(
        "building"
    )


class MemberByIdNumberWidget(ie_widgets.Widget):
    """A party member by ID number, among those the importing user may see."""

    user = None

    def clean(self, value, row=None, **kwargs):
        number = UpperTextWidget().clean(value)
        if not number:
            return None
        members = PartyMember.objects.all()
        if self.user is not None:
            members = scope_queryset(members, self.user)
        member = members.filter(id_number=number).first()
        if member is None:
            raise ValueError(_t("在您负责的范围内找不到这个身份证号的党员。"))
        return member

    def render(self, value, obj=None, **kwargs):
        return value.id_number if value is not None else ""


@register
class CommitteeSeatResource(PortalResource):
    scope_column = "street"
    export_select_related = ("committee__building__street__district", "member")
    template_note = _("楼委会须已在后台建立；同一楼宇、职务、姓名和任职开始日期视为同一任职。")

    street = StreetColumn(help=_("楼宇所在的街道；同名街道写成“区 · 街道”。"))
    committee = Column(
        "committee",
        _("楼宇"),
        InStreetWidget(
            committees_in_street,
            missing=_t("“%(street)s”的“%(name)s”还没有楼委会（或没有这座楼宇）。"),
            render=lambda committee: committee.building.name,
        ),
        required=True,
        example="南京西路国际大厦",
        help=_("楼委会所在楼宇的名称。"),
    )
    role = Column("role", _("职务"), ChoiceWidget(CommitteeSeat.Role.choices), required=True, example="委员")
    person_name = Column("person_name", _("姓名"), required=True, example="李明")
    phone = Column("phone", _("联系电话"), TextWidget(), personal=True, example="13900001111")
    affiliation = Column("affiliation", _("所在单位"), example="上海示例科技有限公司")
    member = Column(
        "member",
        _("关联党员身份证号"),
        MemberByIdNumberWidget(),
        personal=True,
        help=_("任职者是党员时填写其身份证号；可留空。"),
    )
    floor = Column("floor", _("负责楼层"), IntegerWidget(), help=_("层长必填。"))
    starts_on = Column("starts_on", _("任职开始"), DateWidget(), required=True, example="2024-01-01")
    ends_on = Column("ends_on", _("任职结束"), DateWidget(), help=_("在任则留空。"))

    class Meta(PortalResource.Meta):
        model = CommitteeSeat
        fields = (
            "street",
            "committee",
            "role",
            "person_name",
            "phone",
            "affiliation",
            "member",
            "floor",
            "starts_on",
            "ends_on",
        )
        import_id_fields = ("committee", "role", "person_name", "starts_on")
