"""Spreadsheet import/export of party organizations and party members.

Natural keys: an organization is its name within its street; a member their ID number.
A member's organization is named within the row's street, their employer by credit
code or by name within the street. ID numbers and phones are personal data: masked in
exports for users without ``members.view_personal_data`` (core.spreadsheets.resources).
"""

from __future__ import annotations

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from import_export import widgets as ie_widgets

from buildings.resources import (
    STREET_LABEL,
    InStreetWidget,
    StreetColumn,
    StreetWidget,
    buildings_in_street,
    enterprise_lookup,
    row_street,
)
from core.spreadsheets.registry import register
from core.spreadsheets.resources import Column, PortalResource
from core.spreadsheets.widgets import (
    BooleanWidget,
    ChoiceWidget,
    DateWidget,
    TextWidget,
    UpperTextWidget,
    cell_str,
)

from .models import PartyMember, PartyOrganization

LIST_SEPARATORS = ("、", ",", "，", ";", "；", "\n")


def organizations_in_street(street, name):
    return PartyOrganization.objects.filter(street=street, name=name)


class ParentOrganizationWidget(InStreetWidget):
    """The parent organization: by name within the row's street, else the one of that name in the city."""

    def find(self, street, name):
        try:
            return super().find(street, name)
        except ValueError:
            found = list(PartyOrganization.objects.filter(name=name)[:2])
            if len(found) == 1:
                return found[0]
            raise


class BuildingsWidget(ie_widgets.ManyToManyWidget):
    """Buildings by name within the row's street, separated by "、" (or commas, semicolons)."""

    def __init__(self, **kwargs):
        super().__init__(model=PartyOrganization.buildings.field.related_model, field="name", **kwargs)
        self.one = InStreetWidget(buildings_in_street, missing=_t("“%(street)s”没有名为“%(name)s”的楼宇。"))

    def clean(self, value, row=None, **kwargs):
        text = cell_str(value)
        for separator in LIST_SEPARATORS:
            text = text.replace(separator, "、")
        names = [name.strip() for name in text.split("、") if name.strip()]
        if not names:
            return []
        street = row_street(row or {}, self.one.streets)
        return [self.one.find(street, name) for name in names]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return "、".join(sorted(building.name for building in value.all()))


def enterprise_column(label, help_text) -> Column:
    return Column(
        "enterprise",
        label,
        InStreetWidget(enterprise_lookup, missing=_t("“%(street)s”没有名为“%(name)s”的企业。")),
        example="",
        help=help_text,
    )


@register
class PartyOrganizationResource(PortalResource):
    scope_column = "street"
    export_select_related = ("street__district", "parent", "enterprise")
    export_prefetch_related = ("buildings",)
    template_note = _("上级党组织须已存在，或在本文件中排在前面。书记请在导入党员后于后台指定。")

    street = Column(
        "street",
        STREET_LABEL,
        StreetWidget(),
        required=True,
        example="南京西路街道",
        help=_("党组织所属的街道；同名街道写成“区 · 街道”。"),
    )
    name = Column("name", _("名称"), required=True, example="静安嘉里中心联合党委")
    kind = Column(
        "kind", _("类型"), ChoiceWidget(PartyOrganization.Kind.choices), required=True, example="联合党委"
    )
    parent = Column(
        "parent",
        _("上级党组织"),
        ParentOrganizationWidget(
            organizations_in_street, missing=_t("“%(street)s”没有名为“%(name)s”的党组织。")
        ),
        help=_("上级党组织的名称（本街道的，或全市唯一的名称）。"),
    )
    buildings = Column(
        "buildings",
        _("覆盖楼宇"),
        BuildingsWidget(),
        example="静安嘉里中心",
        help=_("本街道楼宇的名称，多个用“、”分隔。"),
    )
    enterprise = enterprise_column(
        _("所属企业（单独组建）"), _("单独组建的填写企业名称或统一社会信用代码；联合组建的留空。")
    )
    founded_on = Column("founded_on", _("成立日期"), DateWidget(), required=True, example="2018-07-01")
    term_ends_on = Column("term_ends_on", _("换届日期"), DateWidget(), example="2026-07-01")

    class Meta(PortalResource.Meta):
        model = PartyOrganization
        fields = ("street", "name", "kind", "parent", "buildings", "enterprise", "founded_on", "term_ends_on")
        import_id_fields = ("street", "name")


@register
class PartyMemberResource(PortalResource):
    scope_column = "street"
    export_select_related = ("organization__street__district", "enterprise")

    name = Column("name", _("姓名"), required=True, example="张伟")
    gender = Column(
        "gender", _("性别"), ChoiceWidget(PartyMember.Gender.choices), required=True, example="男"
    )
    birth_date = Column("birth_date", _("出生日期"), DateWidget(), required=True, example="1990-03-07")
    id_number = Column(
        "id_number",
        _("身份证号"),
        UpperTextWidget(),
        required=True,
        personal=True,
        example="310106199003071232",
        help=_("18位，党员的唯一标识；出生日期须与之一致。"),
    )
    phone = Column("phone", _("手机号码"), TextWidget(), required=True, personal=True, example="13800138000")
    education = Column(
        "education", _("学历"), ChoiceWidget(PartyMember.Education.choices), required=True, example="本科"
    )
    joined_on = Column("joined_on", _("入党日期"), DateWidget(), required=True, example="2015-07-01")
    status = Column(
        "status",
        _("党员类别"),
        ChoiceWidget(PartyMember.Status.choices),
        example="正式党员",
        default=PartyMember.Status.FULL,
    )
    street = StreetColumn(help=_("所在党组织所属的街道；同名街道写成“区 · 街道”。"))
    organization = Column(
        "organization",
        _("所在党组织"),
        InStreetWidget(organizations_in_street, missing=_t("“%(street)s”没有名为“%(name)s”的党组织。")),
        required=True,
        example="静安嘉里中心联合党委",
        help=_("该街道中党组织的名称。"),
    )
    enterprise = enterprise_column(_("工作单位"), _("企业名称（本街道的）或统一社会信用代码；可留空。"))
    is_mobile = Column("is_mobile", _("流动党员"), BooleanWidget(), example="否", allowed=_("是、否"))

    class Meta(PortalResource.Meta):
        model = PartyMember
        fields = (
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "education",
            "joined_on",
            "status",
            "street",
            "organization",
            "enterprise",
            "is_mobile",
        )
        import_id_fields = ("id_number",)
