"""Helpers for the spreadsheet import tests: the sample files, sheets built in memory, running an import."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from core.spreadsheets import jobs
from core.spreadsheets.writer import workbook_bytes

SAMPLES = Path(__file__).resolve().parents[1] / "docs" / "samples"
STREET = "南京西路街道"
ORGANIZATION = "南京西路街道楼宇联合党委"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def xlsx(headers, rows) -> bytes:
    return workbook_bytes([("数据", list(headers), [list(r) for r in rows])])


def xlsx_raw(headers, rows) -> bytes:
    """An .xlsx with cells as Excel stores what people type (numbers as numbers), not our text cells."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_xlsx(data: bytes) -> list[list]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def csv_bytes(headers, rows, *, encoding="utf-8", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode(encoding)


def preview(*, user, model, name, data):
    job = jobs.start_import(user=user, model_label=model, file_name=name, data=data)
    return jobs.preview_import(job_id=job.pk)


def apply(job, *, by=None, all_or_nothing=False):
    jobs.claim_for_apply(job_id=job.pk, by=by, all_or_nothing=all_or_nothing)
    return jobs.apply_import(job_id=job.pk)


def import_file(*, user, model, name, data, all_or_nothing=False):
    """Preview then apply, as the admin does; returns the finished job."""
    return apply(
        preview(user=user, model=model, name=name, data=data), by=user, all_or_nothing=all_or_nothing
    )


def rows_of(job, kind):
    return [row for row in job.report["rows"] if row["kind"] == kind]
