"""Members and organizations from spreadsheets (members/resources.py): each validator's message on its
row and column, the territory, personal data masked on export and a masked cell refused on import."""

from __future__ import annotations

import datetime

import pytest

from core.spreadsheets.models import ImportJob
from members.models import PartyMember, PartyOrganization
from members.resources import PartyMemberResource
from tests.members.factories import PartyMemberFactory, PartyOrganizationFactory
from tests.spreadsheet_support import (
    ORGANIZATION,
    import_file,
    preview,
    read_xlsx,
    rows_of,
    sample,
    xlsx,
    xlsx_raw,
)

pytestmark = pytest.mark.django_db
MODEL = "members.partymember"


@pytest.fixture
def organization(street_a):
    return PartyOrganizationFactory(street=street_a, name=ORGANIZATION)


def one_row_with(column: str, value: str):
    headers, *rows = read_xlsx(sample("members-valid.xlsx"))
    rows[0][headers.index(column)] = value
    return xlsx(headers, rows[:2])


@pytest.mark.parametrize(
    "column,value,message",
    [
        ("身份证号", "310106199003071231", "身份证号校验位不正确，请核对后重新输入。"),
        ("身份证号", "31010619900307123", "身份证号应为18位：前17位数字，最后一位为数字或X。"),
        ("身份证号", "990106199003071232", "身份证号前两位不是有效的省级行政区划代码。"),
        ("手机号码", "12800138000", "请输入11位中国大陆手机号码（以13–19开头）。"),
        ("入党日期", "1980-05-01", "入党日期必须晚于出生日期。"),
        ("出生日期", "1990-03-08", "出生日期与身份证号不一致。"),
        ("出生日期", "1990年13月40日", "日期“1990年13月40日”无法识别，请写成 2024-03-01。"),
        ("性别", "未知", "“未知”不是可选的值，可选：男、女。"),
        ("学历", "小学", "“小学”不是可选的值"),
        ("流动党员", "也许", "应填写“是”或“否”。"),
        ("所在党组织", "不存在的党支部", "“南京西路街道”没有名为“不存在的党支部”的党组织。"),
        ("街道", "月球街道", "没有名为“月球街道”的街道。"),
        ("工作单位", "91310000MA1K4L2X38", "“南京西路街道”没有名为“91310000MA1K4L2X38”的企业。"),
    ],
)
def test_each_validators_message_on_its_row_and_column(social_worker, organization, column, value, message):
    job = preview(user=social_worker, model=MODEL, name="m.xlsx", data=one_row_with(column, value))
    [invalid] = rows_of(job, "invalid")
    assert invalid["n"] == 2
    assert any(col == column and message in text for col, text in invalid["errors"]), invalid["errors"]
    assert [row["kind"] for row in job.report["rows"]] == ["invalid", "new"]


def test_chinese_dates_are_read(social_worker, organization):
    job = preview(
        user=social_worker, model=MODEL, name="m.xlsx", data=one_row_with("入党日期", "2012年7月1日")
    )
    assert [row["kind"] for row in job.report["rows"]] == ["new", "new"]


def test_dates_and_numbers_as_people_type_them(social_worker, organization):
    headers, *rows = read_xlsx(sample("members-valid.xlsx"))
    row = rows[0]
    row[headers.index("手机号码")] = 13900210000.0  # what Excel makes of a phone typed as a number
    row[headers.index("身份证号")] = row[headers.index("身份证号")].lower()
    row[headers.index("出生日期")] = datetime.datetime(1988, 1, 10)  # a date cell
    row[headers.index("入党日期")] = "2012/7/1"
    job = import_file(user=social_worker, model=MODEL, name="m.xlsx", data=xlsx_raw(headers, [row]))
    assert job.new_count == 1, job.report
    member = PartyMember.objects.get()
    assert str(member.joined_on) == "2012-07-01" and member.phone == "13900210000"


def test_a_row_for_another_street_is_that_rows_error(social_worker, organization, street_b):
    PartyOrganizationFactory(street=street_b, name="陆家嘴金融城党委")
    headers, *rows = read_xlsx(sample("members-valid.xlsx"))
    rows[1][headers.index("街道")] = "陆家嘴街道"
    rows[1][headers.index("所在党组织")] = "陆家嘴金融城党委"
    job = import_file(user=social_worker, model=MODEL, name="m.xlsx", data=xlsx(headers, rows[:3]))
    [invalid] = rows_of(job, "invalid")
    assert invalid["n"] == 3
    assert invalid["errors"] == [["街道", "“陆家嘴街道”不在您负责的街道范围内。"]]
    assert PartyMember.objects.count() == 2
    assert not PartyMember.objects.filter(organization__street=street_b).exists()


def test_an_existing_member_of_another_street_is_not_changed(social_worker, organization, street_b):
    elsewhere = PartyMemberFactory(organization=PartyOrganizationFactory(street=street_b), name="别处党员")
    headers, *rows = read_xlsx(sample("members-valid.xlsx"))
    rows[0][headers.index("身份证号")] = elsewhere.id_number
    rows[0][headers.index("出生日期")] = str(elsewhere.birth_date)
    job = import_file(user=social_worker, model=MODEL, name="m.xlsx", data=xlsx(headers, rows[:1]))
    assert rows_of(job, "invalid")[0]["errors"] == [["街道", "该记录属于您负责范围以外的街道，不能修改。"]]
    elsewhere.refresh_from_db()
    assert elsewhere.name == "别处党员" and elsewhere.organization.street == street_b


def test_district_staff_read_only_for_members_may_not_import_them(district_staff):
    from members.admin import PartyMemberAdmin

    class Request:
        user = district_staff

    from django.contrib import admin

    assert not PartyMemberAdmin(PartyMember, admin.site).has_import_permission(Request())


def test_export_masks_personal_data_without_the_permission_and_its_masked_cells_are_not_imported(
    social_worker, organization
):
    from core.spreadsheets.writer import export_response

    member = PartyMemberFactory(organization=organization)
    response = export_response(
        PartyMemberResource(user=social_worker), PartyMember.objects.all(), file_format="xlsx", basename="m"
    )
    headers, row = read_xlsx(response.content)
    assert member.id_number not in row and member.phone not in row
    assert row[headers.index("身份证号")] == member.id_number[:3] + "*" * 11 + member.id_number[-4:]
    job = import_file(user=social_worker, model=MODEL, name="export.xlsx", data=response.content)
    assert job.invalid_count == 1 and job.new_count == job.changed_count == 0
    assert any("已脱敏" in message for _c, message in rows_of(job, "invalid")[0]["errors"])


def test_a_masked_phone_on_an_existing_record_keeps_the_stored_phone(superuser, social_worker, organization):
    """With the full ID number (typed or exported by someone allowed) a masked phone means "unchanged"."""
    from core.spreadsheets.writer import export_response

    member = PartyMemberFactory(organization=organization)
    response = export_response(
        PartyMemberResource(user=superuser), PartyMember.objects.all(), file_format="xlsx", basename="m"
    )
    headers, row = read_xlsx(response.content)
    row[headers.index("手机号码")] = member.phone[:3] + "****" + member.phone[-4:]
    job = import_file(user=social_worker, model=MODEL, name="m.xlsx", data=xlsx(headers, [row]))
    assert job.unchanged_count == 1, job.report
    member.refresh_from_db()
    assert member.phone == PartyMember.objects.get().phone


def test_organizations_with_their_buildings_and_parent(social_worker, street_a):
    from tests.buildings.factories import BuildingFactory

    BuildingFactory(street=street_a, name="甲大厦")
    BuildingFactory(street=street_a, name="乙大厦")
    headers = [
        "街道",
        "名称",
        "类型",
        "上级党组织",
        "覆盖楼宇",
        "所属企业（单独组建）",
        "成立日期",
        "换届日期",
    ]
    rows = [
        ["南京西路街道", "楼宇联合党委", "联合党委", "", "甲大厦、乙大厦", "", "2018-07-01", "2023-07-01"],
        ["南京西路街道", "甲大厦党支部", "党支部", "楼宇联合党委", "甲大厦", "", "2019-01-01", ""],
        ["南京西路街道", "换届有误党支部", "党支部", "", "", "", "2019-01-01", "2018-01-01"],
    ]
    job = import_file(
        user=social_worker, model="members.partyorganization", name="o.xlsx", data=xlsx(headers, rows)
    )
    assert (job.new_count, job.invalid_count) == (2, 1)
    assert rows_of(job, "invalid")[0]["errors"] == [["", "换届日期必须晚于成立日期。"]]
    joint = PartyOrganization.objects.get(name="楼宇联合党委")
    assert sorted(joint.buildings.values_list("name", flat=True)) == ["乙大厦", "甲大厦"]
    assert PartyOrganization.objects.get(name="甲大厦党支部").parent == joint
    again = import_file(
        user=social_worker, model="members.partyorganization", name="o.xlsx", data=xlsx(headers, rows[:2])
    )
    assert again.unchanged_count == 2


def test_the_status_of_a_refused_file_is_never_half_done(social_worker, organization):
    job = import_file(
        user=social_worker,
        model=MODEL,
        name="m.xlsx",
        data=sample("members-errors.xlsx"),
        all_or_nothing=True,
    )
    assert job.status == ImportJob.Status.ROLLED_BACK and not PartyMember.objects.exists()
