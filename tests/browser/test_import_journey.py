"""The social worker's spreadsheet import in Chromium, in Chinese and in English (screenshots in
test-artifacts/18-import-*): download the members template, upload a file with three wrong rows,
see the preview with the errors, download the error rows, confirm the valid rows, fix the three,
upload them again, confirm; the members are in the list and their history names the import."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from members.models import PartyMember
from tests.members.factories import PASSWORD, PartyOrganizationFactory
from tests.spreadsheet_support import ORGANIZATION, SAMPLES

from .conftest import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(street_a):
    from django.contrib.auth.models import Group

    from members.groups import SOCIAL_WORKER, ensure_groups
    from tests.members.factories import StaffUserFactory

    ensure_groups()  # a transactional test starts from an emptied database
    PartyOrganizationFactory(street=street_a, name=ORGANIZATION)
    user = StaffUserFactory(username="shegong_import", streets=[street_a])
    user.groups.add(Group.objects.get(name=SOCIAL_WORKER))
    return user


def login(page, user) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/admin/login/?next=/admin/members/partymember/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()


def fix_error_rows(path: str, out: Path) -> Path:
    """What the person does in Excel: correct the three rows, delete the error column."""
    from members.validators import id_number_check_char

    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 3
    id_cell = rows[0][headers.index("身份证号")]
    id_cell.value = id_cell.value[:17] + id_number_check_char(id_cell.value[:17])
    rows[1][headers.index("手机号码")].value = "13900210005"
    rows[2][headers.index("入党日期")].value = "2016-07-01"
    sheet.delete_cols(headers.index("错误说明") + 1)
    book.save(out)
    return out


def test_import_members_with_three_wrong_rows(page, worker, shoot, tmp_path):
    login(page, worker)
    expect(page.get_by_role("link", name="导入", exact=True)).to_be_visible()
    shoot(page, "18-import-01-member-list")

    with page.expect_download() as template:
        page.get_by_role("link", name="下载导入模板").click()
    assert template.value.suggested_filename == "partymember-template.xlsx"
    template.value.save_as(tmp_path / "template.xlsx")
    headers = [c.value for c in openpyxl.load_workbook(tmp_path / "template.xlsx").worksheets[0][1]]
    assert headers[:4] == ["姓名", "性别", "出生日期", "身份证号"]

    page.get_by_role("link", name="导入", exact=True).click()
    expect(page.get_by_role("heading", name="各列说明")).to_be_visible()
    shoot(page, "18-import-02-upload")
    page.locator("#id_import_file").set_input_files(str(SAMPLES / "members-errors.xlsx"))
    page.get_by_role("button", name="上传并预览").click()

    rows = page.locator("#import-rows tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#import-rows")).to_contain_text("身份证号校验位不正确，请核对后重新输入。")
    expect(page.locator("#import-rows")).to_contain_text("请输入11位中国大陆手机号码（以13–19开头）。")
    expect(page.locator("#import-rows")).to_contain_text("入党日期必须晚于出生日期。")
    expect(page.locator(".count-new")).to_contain_text("7")
    shoot(page, "18-import-03-preview-with-errors")

    with page.expect_download() as errors:
        page.get_by_role("link", name="下载有误的行（Excel）").click()
    errors.value.save_as(tmp_path / "errors.xlsx")
    fixed = fix_error_rows(tmp_path / "errors.xlsx", tmp_path / "fixed.xlsx")

    page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".messagelist")).to_contain_text("导入完成：新增 7 条")
    shoot(page, "18-import-04-applied-seven")
    assert PartyMember.objects.count() == 7

    page.get_by_role("link", name="上传新文件").click()
    page.locator("#id_import_file").set_input_files(str(fixed))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator(".count-new")).to_contain_text("3")
    expect(page.locator(".count-invalid")).to_contain_text("0")
    shoot(page, "18-import-05-fixed-preview")
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".messagelist")).to_contain_text("导入完成：新增 3 条")
    assert PartyMember.objects.count() == 10

    page.get_by_role("link", name="返回列表").click()
    expect(page.locator("#result_list")).to_contain_text("刘洋")
    shoot(page, "18-import-06-members-in-list")

    member = PartyMember.objects.get(name="刘洋")
    page.goto(f"/admin/members/partymember/{member.pk}/history/")
    expect(page.locator("#change-history")).to_contain_text("导入 #")
    expect(page.locator("#change-history")).to_contain_text("（fixed.xlsx）")
    shoot(page, "18-import-07-history-names-the-import")


def test_the_import_pages_in_english(browser, live_server, worker, shoot):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=DESKTOP,
        locale="en-US",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
    )
    page = context.new_page()
    try:
        login(page, worker)
        page.get_by_role("link", name="Import", exact=True).click()
        expect(page.get_by_role("heading", name="The columns")).to_be_visible()
        shoot(page, "18-import-en-01-upload")
        page.locator("#id_import_file").set_input_files(str(SAMPLES / "members-errors.xlsx"))
        page.get_by_role("button", name="Upload and preview").click()
        expect(page.locator("#import-rows")).to_contain_text("ID number")
        expect(page.locator("#import-rows tbody tr")).to_have_count(3)
        shoot(page, "18-import-en-02-preview-with-errors")
        page.get_by_label("All or nothing").check()
        page.get_by_role("button", name="Confirm the import").click()
        expect(page.locator(".messagelist")).to_contain_text("nothing was written")
        shoot(page, "18-import-en-03-all-or-nothing-refused")
        assert PartyMember.objects.count() == 0
    finally:
        context.close()
