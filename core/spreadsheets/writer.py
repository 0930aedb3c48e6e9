"""Writing spreadsheets: exports, templates and error rows, as .xlsx (openpyxl) or CSV (``core.csv``).

Every cell goes through the same two steps as the CSV writer — ``core.csv.cell_text``
then ``core.csv.safe_cell`` — so an .xlsx export is as formula-safe as a CSV one
(openpyxl would otherwise store a text starting with "=" as a formula). Cells are
written as text: an ID number or a phone stays exactly as it is, never a number in
scientific notation.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _t

from core.csv import cell_text, csv_response, safe_cell

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value) -> str:
    return safe_cell(cell_text(value))


def workbook_bytes(sheets: Iterable[tuple[str, list, Iterable[Iterable]]]) -> bytes:
    """An .xlsx file with one sheet per (title, headers, rows); the first sheet is the active one."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title=str(title)[:31])
        widths = [max(10, min(40, len(str(h)) * 2 + 4)) for h in headers]
        for index, width in enumerate(widths):
            sheet.column_dimensions[_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=_cell(header))
            cell.font = bold
            cell.fill = fill
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def xlsx_response(filename: str, sheets) -> HttpResponse:
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def export_rows(resource, queryset) -> Iterable[list]:
    columns = resource.columns()
    queryset = resource.export_queryset(queryset)
    for obj in resource.iter_queryset(queryset):
        yield [resource.export_field(column, obj) for column in columns]


def export_response(resource, queryset, *, file_format: str, basename: str):
    """The records of ``queryset`` in the template's columns, as .xlsx or CSV."""
    headers = resource.headers()
    if file_format == "xlsx":
        title = str(resource._meta.model._meta.verbose_name_plural)
        return xlsx_response(
            f"{basename}-{stamp()}.xlsx", [(title, headers, export_rows(resource, queryset))]
        )
    return csv_response(headers, export_rows(resource, queryset), f"{basename}-{stamp()}.csv")


def template_sheets(resource) -> list:
    """The import template: the columns with one example row, and a sheet explaining each column."""
    model = resource._meta.model
    notes = [
        [_t("说明"), "", _t("第一张工作表填写数据，每行一条记录；表头不要修改。"), ""],
        [_t("说明"), "", _t("日期写成 2024-03-01，时间写成 2024-03-01 14:30，是/否列写“是”或“否”。"), ""],
        [_t("说明"), "", _t("已有的记录按以下列识别，导入时更新；同一个文件导入两次不会重复。"), ""],
    ]
    keys = "、".join(resource.fields[name].column_name for name in resource.get_import_id_fields())
    notes[2][3] = keys
    if resource.template_note:
        notes.append([_t("说明"), "", str(resource.template_note), ""])
    return [
        (str(model._meta.verbose_name_plural), resource.headers(), [resource.example_row()]),
        (
            _t("填写说明"),
            [_t("列名"), _t("是否必填"), _t("填写说明"), _t("可选值")],
            [*resource.help_rows(), *notes],
        ),
    ]


def template_response(resource, *, basename: str) -> HttpResponse:
    return xlsx_response(f"{basename}-template.xlsx", template_sheets(resource))


def error_rows_response(job, *, basename: str) -> HttpResponse:
    """The invalid rows of an import as they were uploaded, with an error column, to fix and upload again."""
    from .resources import ERROR_COLUMN

    report = job.report or {}
    headers = [*report.get("headers", []), str(ERROR_COLUMN)]
    rows = []
    for row in report.get("rows", []):
        if row.get("kind") not in ("invalid", "error"):
            continue
        problems = "；".join(
            f"{column}：{message}" if column else message for column, message in row.get("errors", [])
        )
        explanation = _t("（原第%(n)s行）%(problems)s") % {"n": row["n"], "problems": problems}
        rows.append([*row.get("values", []), explanation])
    return xlsx_response(f"{basename}-errors-{job.pk}.xlsx", [(_t("错误行"), headers, rows)])
