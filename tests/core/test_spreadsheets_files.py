"""Which files an import refuses, with what message, before a row is read (core/spreadsheets/files.py,
``PortalResource.check_headers``): not a spreadsheet, empty, too big, missing or unknown columns;
and which it reads: .xlsx, CSV in UTF-8 with and without BOM, CSV in GBK."""

from __future__ import annotations

import pytest

from core.spreadsheets import jobs
from core.spreadsheets.errors import SpreadsheetRefused
from core.spreadsheets.models import ImportJob
from members.models import PartyMember
from members.resources import PartyMemberResource
from tests.members.factories import PartyOrganizationFactory
from tests.spreadsheet_support import ORGANIZATION, csv_bytes, import_file, read_xlsx, sample, xlsx

pytestmark = pytest.mark.django_db
MODEL = "members.partymember"


@pytest.fixture
def organization(street_a):
    return PartyOrganizationFactory(street=street_a, name=ORGANIZATION)


def refusal(user, name, data) -> SpreadsheetRefused:
    with pytest.raises(SpreadsheetRefused) as caught:
        jobs.start_import(user=user, model_label=MODEL, file_name=name, data=data)
    assert not ImportJob.objects.exists()  # a refused file leaves no log row and no data
    return caught.value


def valid_rows():
    return read_xlsx(sample("members-valid.xlsx"))


def test_a_file_that_is_not_a_spreadsheet_is_refused(social_worker):
    assert refusal(social_worker, "photo.jpg", b"\xff\xd8\xff\xe0 JFIF").code == "not_spreadsheet"
    assert "xlsx" in refusal(social_worker, "members.xlsx", b"not a zip at all").message
    assert refusal(social_worker, "members.xls", b"\xd0\xcf\x11\xe0 old excel").code == "old_excel"
    assert refusal(social_worker, "members.csv", b"a\x00b\x00").code == "not_spreadsheet"


def test_an_empty_file_is_refused(social_worker):
    assert refusal(social_worker, "members.xlsx", b"").message == "文件是空的。"
    headers_only = xlsx(valid_rows()[0], [])
    assert refusal(social_worker, "members.xlsx", headers_only).message == "文件中没有数据行。"
    assert refusal(social_worker, "members.csv", b"\n\n").code == "empty"


def test_a_file_over_50_mb_is_refused_with_its_size_in_the_message(social_worker):
    caught = refusal(social_worker, "members.csv", b"x" * (50 * 1024 * 1024 + 1))
    assert caught.code == "too_big"
    assert "50 MB" in caught.message


def test_missing_and_unknown_columns_are_refused_by_name(social_worker, organization):
    headers, *rows = valid_rows()
    without_phone = [[v for h, v in zip(headers, row, strict=True) if h != "手机号码"] for row in rows]
    caught = refusal(social_worker, "m.xlsx", xlsx([h for h in headers if h != "手机号码"], without_phone))
    assert caught.code == "columns" and "缺少必填列：手机号码" in caught.message

    caught = refusal(social_worker, "m.xlsx", xlsx([*headers, "微信号"], [[*row, "wx"] for row in rows]))
    assert "无法识别的列：微信号" in caught.message

    caught = refusal(social_worker, "m.xlsx", xlsx([*headers, "姓名"], [[*row, "x"] for row in rows]))
    assert "重复的列：姓名" in caught.message


def test_optional_columns_may_be_left_out(social_worker, organization):
    headers, *rows = valid_rows()
    keep = [i for i, h in enumerate(headers) if h not in ("工作单位", "流动党员", "党员类别")]
    job = import_file(
        user=social_worker,
        model=MODEL,
        name="m.xlsx",
        data=xlsx([headers[i] for i in keep], [[row[i] for i in keep] for row in rows]),
    )
    assert job.new_count == 10 and not PartyMember.objects.filter(is_mobile=True).exists()


def test_english_headers_are_read_as_well(social_worker, organization):
    from django.utils import translation

    headers, *rows = valid_rows()
    with translation.override("en"):
        english = PartyMemberResource().headers()
    assert english[0] == "Name" and english != headers
    job = import_file(user=social_worker, model=MODEL, name="m.xlsx", data=xlsx(english, rows))
    assert job.new_count == 10


@pytest.mark.parametrize(
    "encoding,bom",
    [("utf-8", False), ("utf-8", True), ("gbk", False)],
    ids=["utf-8", "utf-8-bom", "gbk"],
)
def test_csv_in_utf8_with_and_without_bom_and_in_gbk(social_worker, organization, encoding, bom):
    headers, *rows = valid_rows()
    data = csv_bytes(headers, rows, encoding=encoding, bom=bom)
    job = import_file(user=social_worker, model=MODEL, name="members.csv", data=data)
    assert job.status == ImportJob.Status.APPLIED and job.new_count == 10
    assert set(PartyMember.objects.values_list("name", flat=True)) == {row[0] for row in rows}


def test_the_gbk_sample_as_excel_writes_it(social_worker, organization):
    data = sample("members-gbk.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    job = import_file(user=social_worker, model=MODEL, name="members-gbk.csv", data=data)
    assert job.new_count == 10 and PartyMember.objects.filter(name="王芳").exists()


def test_blank_rows_are_skipped_and_rows_keep_their_sheet_numbers(social_worker, organization):
    headers, *rows = valid_rows()
    blank = [None] * len(headers)
    broken = list(rows[1])
    broken[4] = "123"
    job = jobs.preview_import(
        job_id=jobs.start_import(
            user=social_worker,
            model_label=MODEL,
            file_name="m.xlsx",
            data=xlsx(headers, [rows[0], blank, broken]),
        ).pk
    )
    assert job.total_rows == 2
    assert [(row["n"], row["kind"]) for row in job.report["rows"]] == [(2, "new"), (4, "invalid")]
