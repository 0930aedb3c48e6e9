"""Spreadsheet import/export of buildings and enterprises, and the look-ups every app's sheets share.

A sheet names places the way people do: a street by its name ("南京西路街道", or
"静安区 · 南京西路街道" where two districts have one of that name), a building or an
organization by its name *within the row's street*. ``StreetWidget``, ``StreetColumn``
and ``InStreetWidget`` do that once for every app's resources (members, committees,
services build on them).

Natural keys: a building is its name within its street; an enterprise its unified
social credit code.
"""

from __future__ import annotations

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from import_export import widgets as ie_widgets

from core.spreadsheets.registry import register
from core.spreadsheets.resources import Column, PortalResource, street_of
from core.spreadsheets.widgets import (
    BooleanWidget,
    DecimalWidget,
    IntegerWidget,
    TextWidget,
    UpperTextWidget,
    cell_str,
)

from .models import Building, Enterprise, Street

STREET_LABEL = _("街道")
CREDIT_CODE_LENGTH = 18


class StreetWidget(ie_widgets.Widget):
    """A street by name, or "区 · 街道" when the name alone is not enough."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._found: dict = {}

    def find(self, text: str) -> Street:
        text = cell_str(text)
        if text not in self._found:
            self._found[text] = self._lookup(text)
        found = self._found[text]
        if isinstance(found, Exception):
            raise found
        return found

    def _lookup(self, text: str):
        if not text:
            return ValueError(_t("请填写街道。"))
        district, sep, name = text.replace("·", "·").rpartition("·")
        streets = Street.objects.select_related("district")
        streets = (
            streets.filter(district__name=district.strip(), name=name.strip())
            if sep
            else streets.filter(name=text)
        )
        found = list(streets[:2])
        if not found:
            return ValueError(_t("没有名为“%(name)s”的街道。") % {"name": text})
        if len(found) > 1:
            return ValueError(_t("有多个名为“%(name)s”的街道，请写成“区 · 街道”。") % {"name": text})
        return found[0]

    def clean(self, value, row=None, **kwargs):
        return self.find(value)

    def render(self, value, obj=None, **kwargs):
        return value.name if value is not None else ""


class StreetColumn(Column):
    """The row's street, for records that reach their street through another record (an
    enterprise through its building, a member through their organization). It is checked
    here (its errors show in this column) and the other columns look up within it; the
    record's own street is what it exports and compares."""

    def __init__(self, **kwargs):
        kwargs.setdefault("example", "南京西路街道")
        kwargs.setdefault("help", _("记录所在的街道；同名街道写成“区 · 街道”。"))
        super().__init__(
            attribute="import_street", label=STREET_LABEL, widget=StreetWidget(), required=True, **kwargs
        )

    def get_value(self, instance):
        return street_of(instance)


def row_street(row, finder: StreetWidget) -> Street:
    try:
        return finder.find(row.get(str(STREET_LABEL)))
    except ValueError:
        raise ValueError(_t("请先填写正确的街道。")) from None


class InStreetWidget(ie_widgets.Widget):
    """A record by its name within the row's street (``lookup(street, name)`` returns a queryset)."""

    def __init__(self, lookup, *, missing, render=None, **kwargs):
        super().__init__(**kwargs)
        self.lookup = lookup
        self.missing = missing
        self.render_value = render or (lambda obj: obj.name)
        self.streets = StreetWidget()
        self._found: dict = {}

    def find(self, street, name: str):
        key = (street.pk, name)
        if key not in self._found:
            found = list(self.lookup(street, name)[:2])
            if not found:
                self._found[key] = ValueError(self.missing % {"name": name, "street": street.name})
            elif len(found) > 1:
                self._found[key] = ValueError(
                    _t("“%(street)s”有多个名为“%(name)s”的记录，请改用唯一的标识。")
                    % {"name": name, "street": street.name}
                )
            else:
                self._found[key] = found[0]
        found = self._found[key]
        if isinstance(found, Exception):
            raise found
        return found

    def clean(self, value, row=None, **kwargs):
        name = cell_str(value)
        if not name:
            return None
        return self.find(row_street(row or {}, self.streets), name)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(self.render_value(value))


def buildings_in_street(street, name):
    return Building.objects.filter(street=street, name=name)


def enterprise_lookup(street, text):
    """An enterprise by its credit code (anywhere) or by its name within the street."""
    if len(text) == CREDIT_CODE_LENGTH and text.isalnum() and text.upper() == text:
        return Enterprise.objects.filter(credit_code=text).select_related("building__street")
    return Enterprise.objects.filter(building__street=street, name=text).select_related("building__street")


def building_column(**kwargs) -> Column:
    return Column(
        "building",
        _("所在楼宇"),
        InStreetWidget(buildings_in_street, missing=_t("“%(street)s”没有名为“%(name)s”的楼宇。")),
        required=True,
        example="静安嘉里中心",
        help=_("该街道中楼宇的名称。"),
        **kwargs,
    )


@register
class BuildingResource(PortalResource):
    scope_column = "street"
    export_select_related = ("street__district",)

    street = Column(
        "street",
        STREET_LABEL,
        StreetWidget(),
        required=True,
        example="南京西路街道",
        help=_("楼宇所在的街道；同名街道写成“区 · 街道”。"),
    )
    name = Column("name", _("楼宇名称"), required=True, example="静安嘉里中心")
    address = Column("address", _("地址"), required=True, example="南京西路1515号")
    floors = Column("floors", _("楼层数"), IntegerWidget(), required=True, example="45", allowed="1–200")
    floor_area_m2 = Column(
        "floor_area_m2", _("建筑面积（㎡）"), DecimalWidget(), required=True, example="120000"
    )
    is_key_building = Column(
        "is_key_building", _("重点楼宇"), BooleanWidget(), example="是", allowed=_("是、否")
    )
    property_company = Column("property_company", _("物业公司"), example="嘉里物业")
    employee_count = Column("employee_count", _("从业人员数"), IntegerWidget(), example="8000", default=0)

    class Meta(PortalResource.Meta):
        model = Building
        fields = (
            "street",
            "name",
            "address",
            "floors",
            "floor_area_m2",
            "is_key_building",
            "property_company",
            "employee_count",
        )
        import_id_fields = ("street", "name")


@register
class EnterpriseResource(PortalResource):
    scope_column = "street"
    export_select_related = ("building__street__district",)

    credit_code = Column(
        "credit_code",
        _("统一社会信用代码"),
        UpperTextWidget(),
        required=True,
        example="91310000MA1K4L2X38",
        help=_("18位，企业的唯一标识。"),
    )
    name = Column("name", _("企业名称"), required=True, example="上海示例科技有限公司")
    street = StreetColumn()
    building = building_column()
    floor = Column("floor", _("所在楼层"), IntegerWidget(), required=True, example="12")
    employee_count = Column("employee_count", _("员工数"), IntegerWidget(), example="120", default=0)
    party_member_count = Column("party_member_count", _("党员数"), IntegerWidget(), example="8", default=0)
    industry = Column("industry", _("行业"), TextWidget(), example="信息技术")

    class Meta(PortalResource.Meta):
        model = Enterprise
        fields = (
            "credit_code",
            "name",
            "street",
            "building",
            "floor",
            "employee_count",
            "party_member_count",
            "industry",
        )
        import_id_fields = ("credit_code",)
