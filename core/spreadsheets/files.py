"""Reading an uploaded file into rows: .xlsx (openpyxl) and .csv in UTF-8 or GBK (tablib).

The parsing is django-import-export's (its ``XLSX`` and ``CSV`` formats, over openpyxl
and tablib); what is ours is deciding whether a file may be read at all, with a
message a person understands: too big, empty, not a spreadsheet, an old .xls, a CSV
in neither UTF-8 nor GBK. Two small changes to the library's readers: an .xlsx is read
from its *first* sheet (the library reads the sheet that was active when the file was
saved, which is our explanation sheet if that is where the person last looked), and
blank rows and unnamed trailing columns are dropped (Excel keeps both after a row is
cleared).

CSV encodings: a UTF-8 BOM or valid UTF-8 is UTF-8; anything else is decoded as
GB18030, the superset of GBK that Excel on Chinese Windows writes ("CSV (逗号分隔)").
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import tablib
from django.conf import settings
from django.utils.translation import gettext as _t
from import_export.formats import base_formats

from .errors import SpreadsheetRefused

MAX_BYTES_DEFAULT = 50 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old .xls (and .doc) container


def max_bytes() -> int:
    return int(getattr(settings, "SPREADSHEET_MAX_BYTES", MAX_BYTES_DEFAULT))


@dataclass(frozen=True)
class Upload:
    """A file as it was uploaded: its name and bytes."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def kind(self) -> str:
        return "xlsx" if self.name.lower().endswith((".xlsx", ".xlsm")) else "csv"


def check_size(size: int) -> None:
    if size > max_bytes():
        raise SpreadsheetRefused(
            "too_big",
            _t("文件超过 %(mb)d MB，无法导入。请拆分成几个较小的文件。")
            % {"mb": max_bytes() // (1024 * 1024)},
        )
    if size == 0:
        raise SpreadsheetRefused("empty", _t("文件是空的。"))


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SpreadsheetRefused(
            "encoding", _t("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码的 CSV，或 .xlsx 文件。")
        ) from None


class FirstSheetXLSX(base_formats.XLSX):
    """The library's XLSX reader, on the first sheet instead of the active one."""

    def create_dataset(self, in_stream):
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        try:
            rows = book.worksheets[0].iter_rows(values_only=True)
            dataset = tablib.Dataset()
            headers = list(next(rows, []))
            dataset.headers = headers
            for row in rows:
                values = list(row)[: len(headers)]
                dataset.append(values + [None] * (len(headers) - len(values)))
            return dataset
        finally:
            book.close()


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def tidy(dataset: tablib.Dataset) -> tablib.Dataset:
    """Headers stripped, unnamed trailing columns and blank rows dropped.

    ``sheet_rows`` on the result: each row's number as the spreadsheet shows it (the
    header is row 1), so that a report says "row 7" where the person sees row 7.
    """
    headers = ["" if h is None else str(h).strip() for h in dataset.headers or []]
    while headers and headers[-1] == "":
        headers.pop()
    width = len(headers)
    tidy_set = tablib.Dataset(headers=headers)
    sheet_rows = []
    for number, row in enumerate(dataset, start=2):
        values = list(row)[:width]
        values += [None] * (width - len(values))
        if all(_is_blank(v) for v in values):
            continue
        tidy_set.append(values)
        sheet_rows.append(number)
    tidy_set.sheet_rows = sheet_rows
    return tidy_set


def read_dataset(upload: Upload) -> tablib.Dataset:
    """The rows of ``upload`` (headers first), or ``SpreadsheetRefused`` saying why not."""
    check_size(len(upload.data))
    name = upload.name.lower()
    if name.endswith(".xls") or upload.data.startswith(OLE_MAGIC):
        raise SpreadsheetRefused(
            "old_excel", _t("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再导入。")
        )
    if name.endswith((".xlsx", ".xlsm")):
        if not upload.data.startswith(XLSX_MAGIC):
            raise SpreadsheetRefused("not_spreadsheet", _t("该文件不是有效的 .xlsx 电子表格。"))
        try:
            dataset = FirstSheetXLSX().create_dataset(upload.data)
        except Exception:  # openpyxl raises many kinds for a damaged or foreign zip
            raise SpreadsheetRefused("not_spreadsheet", _t("该文件不是有效的 .xlsx 电子表格。")) from None
    elif name.endswith((".csv", ".txt")):
        text = decode_csv(upload.data)
        if "\x00" in text:
            raise SpreadsheetRefused("not_spreadsheet", _t("该文件不是 CSV 文本文件。"))
        try:
            dataset = base_formats.CSV().create_dataset(text)
        except Exception:
            raise SpreadsheetRefused("not_spreadsheet", _t("无法读取该 CSV 文件。")) from None
    else:
        raise SpreadsheetRefused("not_spreadsheet", _t("只能导入 .xlsx 或 .csv 电子表格文件。"))
    dataset = tidy(dataset)
    if not dataset.headers:
        raise SpreadsheetRefused("empty", _t("文件中没有表头，请使用下载的模板。"))
    if not len(dataset):
        raise SpreadsheetRefused("empty", _t("文件中没有数据行。"))
    return dataset
