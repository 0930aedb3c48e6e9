"""Spreadsheet import and export in the admin (core/adminkit/spreadsheets.py): the buttons, the
template, upload → preview → error rows → confirm, refusals shown on the form (never a 500),
someone else's import, the large-file path through Celery, and .xlsx exports that are masked and
formula-safe on every list."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.spreadsheets.models import ImportJob
from members.models import PartyMember
from tests.buildings.factories import BuildingFactory
from tests.members.factories import PartyMemberFactory, PartyOrganizationFactory, StaffUserFactory
from tests.spreadsheet_support import ORGANIZATION, read_xlsx, sample

pytestmark = pytest.mark.django_db
IMPORT = "admin:members_partymember_import"


@pytest.fixture
def organization(street_a):
    return PartyOrganizationFactory(street=street_a, name=ORGANIZATION)


@pytest.fixture
def worker_client(client, social_worker):
    client.force_login(social_worker)
    return client


def upload(client, name, data):
    return client.post(reverse(IMPORT), {"import_file": SimpleUploadedFile(name, data)})


def test_the_member_list_offers_the_template_and_the_import(worker_client, district_staff, client):
    page = worker_client.get(reverse("admin:members_partymember_changelist")).content.decode()
    assert reverse(IMPORT) in page and reverse("admin:members_partymember_import_template") in page
    assert "导出所选党员（Excel，可再导入）" in page
    client.force_login(district_staff)  # reads members, keeps no member records: no import
    page = client.get(reverse("admin:members_partymember_changelist")).content.decode()
    assert reverse(IMPORT) not in page
    assert client.get(reverse(IMPORT)).status_code == 403


def test_the_template_has_the_columns_an_example_and_an_explanation_sheet(worker_client):
    response = worker_client.get(reverse("admin:members_partymember_import_template"))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    data, help_sheet = book.worksheets
    rows = list(data.iter_rows(values_only=True))
    assert rows[0][:5] == ("姓名", "性别", "出生日期", "身份证号", "手机号码")
    assert rows[1][:4] == ("张伟", "男", "1990-03-07", "310106199003071232")
    explained = {row[0]: row for row in help_sheet.iter_rows(values_only=True)}
    assert explained["学历"][1] == "必填" and "本科" in explained["学历"][3]
    assert explained["工作单位"][1] == "选填"


def test_the_template_in_english(worker_client):
    worker_client.cookies["django_language"] = "en"
    response = worker_client.get(
        reverse("admin:members_partymember_import_template"), HTTP_ACCEPT_LANGUAGE="en"
    )
    headers = read_xlsx(response.content)[0]
    assert headers[:3] == ["Name", "Gender", "Date of birth"]


def test_upload_preview_error_rows_then_confirm(worker_client, organization, social_worker):
    response = upload(worker_client, "members-errors.xlsx", sample("members-errors.xlsx"))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:members_partymember_import_job", args=[job.pk]
    )
    page = worker_client.get(response["Location"]).content.decode()
    assert "身份证号校验位不正确" in page and "入党日期必须晚于出生日期" in page
    assert "确认导入" in page and not PartyMember.objects.exists()

    errors = worker_client.get(reverse("admin:members_partymember_import_errors", args=[job.pk]))
    headers, *rows = read_xlsx(errors.content)
    assert headers[-1] == "错误说明" and len(rows) == 3
    assert rows[0][0] == "刘洋" and "（原第4行）身份证号：身份证号校验位不正确" in rows[0][-1]

    page = worker_client.get(reverse("admin:members_partymember_import_job", args=[job.pk]), {"kind": "new"})
    assert "王芳" in page.content.decode()

    done = worker_client.post(reverse("admin:members_partymember_import_confirm", args=[job.pk]), follow=True)
    assert "导入完成：新增 7 条" in done.content.decode()
    assert PartyMember.objects.count() == 7

    # the error rows, fixed, go back in through the same form
    fixed_rows = [[*row[:-1]] for row in rows]
    from members.validators import id_number_check_char

    fixed_rows[0][3] = fixed_rows[0][3][:17] + id_number_check_char(fixed_rows[0][3][:17])
    fixed_rows[1][4] = "13900210005"
    fixed_rows[2][6] = "2016-07-01"
    from tests.spreadsheet_support import xlsx

    response = upload(worker_client, "fixed.xlsx", xlsx(headers, fixed_rows))
    again = ImportJob.objects.latest("pk")
    assert again.new_count == 3 and again.invalid_count == 0
    worker_client.post(reverse("admin:members_partymember_import_confirm", args=[again.pk]))
    assert PartyMember.objects.count() == 10


def test_all_or_nothing_from_the_admin(worker_client, organization):
    upload(worker_client, "members-errors.xlsx", sample("members-errors.xlsx"))
    job = ImportJob.objects.get()
    response = worker_client.post(
        reverse("admin:members_partymember_import_confirm", args=[job.pk]),
        {"all_or_nothing": "on"},
        follow=True,
    )
    assert "没有写入任何数据" in response.content.decode()
    assert not PartyMember.objects.exists()


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("photo.png", b"\x89PNG\r\n", "只能导入 .xlsx 或 .csv 电子表格文件。"),
        ("members.xlsx", b"garbage", "该文件不是有效的 .xlsx 电子表格。"),
        ("members.csv", "姓名,微信号\n张三,x\n".encode(), "无法识别的列：微信号"),
    ],
)
def test_a_refused_file_is_a_form_error(worker_client, name, data, message):
    response = upload(worker_client, name, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_empty_upload_is_a_form_error(worker_client):
    response = upload(worker_client, "members.xlsx", b"")
    assert response.status_code == 200 and not ImportJob.objects.exists()


def test_someone_elses_import_is_not_found(client, worker_client, organization, street_a):
    upload(worker_client, "members-valid.xlsx", sample("members-valid.xlsx"))
    job = ImportJob.objects.get()
    other = StaffUserFactory(streets=[street_a])
    other.groups.set(job.user.groups.all())
    client.force_login(other)
    assert client.get(reverse("admin:members_partymember_import_job", args=[job.pk])).status_code == 404
    response = client.post(reverse("admin:members_partymember_import_confirm", args=[job.pk]))
    assert response.status_code == 404 and not PartyMember.objects.exists()


def test_a_large_file_goes_to_celery_and_the_page_shows_its_progress(
    worker_client, organization, settings, django_capture_on_commit_callbacks
):
    from core.spreadsheets.tasks import apply_import_task, preview_import_task

    settings.SPREADSHEET_SYNC_ROWS = 5
    with django_capture_on_commit_callbacks() as callbacks:
        upload(worker_client, "members-valid.xlsx", sample("members-valid.xlsx"))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PREVIEWING and len(callbacks) == 1
    page = worker_client.get(reverse("admin:members_partymember_import_job", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in page and "已处理 0 行（0%）" in page
    preview_import_task.apply(args=[job.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        worker_client.post(reverse("admin:members_partymember_import_confirm", args=[job.pk]))
    assert len(callbacks) == 1 and not PartyMember.objects.exists()
    apply_import_task.apply(args=[job.pk])
    assert PartyMember.objects.count() == 10
    page = worker_client.get(reverse("admin:members_partymember_import_job", args=[job.pk])).content.decode()
    assert "已导入" in page and 'http-equiv="refresh"' not in page


def post_action(client, changelist: str, action: str, pks):
    return client.post(reverse(changelist), {"action": action, "_selected_action": [str(pk) for pk in pks]})


def test_the_member_export_is_masked_in_the_template_columns(worker_client, organization):
    member = PartyMemberFactory(organization=organization)
    response = post_action(worker_client, "admin:members_partymember_changelist", "export_xlsx", [member.pk])
    headers, row = read_xlsx(response.content)
    assert headers[:4] == ["姓名", "性别", "出生日期", "身份证号"]
    assert member.id_number not in row and member.phone not in row
    csv_text = post_action(worker_client, "admin:members_partymember_changelist", "export_csv", [member.pk])
    body = b"".join(csv_text.streaming_content).decode("utf-8-sig")
    assert member.id_number not in body and body.splitlines()[0].startswith("姓名,性别,出生日期,身份证号")


def test_excel_exports_are_formula_safe_on_lists_with_and_without_a_resource(worker_client, street_a):
    building = BuildingFactory(street=street_a, name='=HYPERLINK("http://evil","点我")')
    response = post_action(worker_client, "admin:buildings_building_changelist", "export_xlsx", [building.pk])
    cells = read_xlsx(response.content)[1]
    assert cells[1] == "'" + building.name
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert all(cell.data_type != "f" for row in book.worksheets[0].iter_rows() for cell in row)
    # a list without a resource exports its list columns, through the same cell writer
    from tests.committees.factories import BuildingCommitteeFactory

    committee = BuildingCommitteeFactory(building=building)
    response = post_action(
        worker_client, "admin:committees_buildingcommittee_changelist", "export_xlsx", [committee.pk]
    )
    assert any(str(cell).startswith("'=HYPERLINK") for cell in read_xlsx(response.content)[1])


def test_every_admin_list_offers_an_excel_export(superuser, rf):
    request = rf.get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        if hasattr(model_admin, "export_csv"):
            assert "export_xlsx" in model_admin.get_actions(request), model
