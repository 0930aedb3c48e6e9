"""Running one import through django-import-export and turning its result into a row report.

``run_import`` is the one place that calls ``Resource.import_data``: the admin's preview
and confirmation, the Celery tasks, ``manage.py import_records`` and the benchmark all
come through it, so they report the same rows the same way.

* **Preview** (``dry_run=True``): every row is validated *and written* inside a
  transaction that is then rolled back, so what the database itself would refuse (a
  duplicate within the file, an overlapping event) shows in the preview too.
* **Apply**: one transaction, each row in a savepoint; invalid rows are left out and
  every valid row is written — or, with ``all_or_nothing``, a single invalid row rolls
  the whole transaction back. A row that fails for an unexpected reason (a bug, not a
  rule) rolls everything back too: nothing is ever half-done.
* Every change is written inside ``pghistory.context(import_id=…, import_file=…)``, so
  the history of each record names the import it came from.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from dataclasses import dataclass, field

import pghistory
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from import_export.results import RowResult

from .widgets import cell_str

logger = logging.getLogger(__name__)

KINDS = {
    RowResult.IMPORT_TYPE_NEW: "new",
    RowResult.IMPORT_TYPE_UPDATE: "changed",
    RowResult.IMPORT_TYPE_SKIP: "unchanged",
    RowResult.IMPORT_TYPE_INVALID: "invalid",
    RowResult.IMPORT_TYPE_ERROR: "error",
}

#: how a row's outcome is named in the preview, the result and the command's report
KIND_LABELS = {
    "new": _("新增"),
    "changed": _("修改"),
    "unchanged": _("未变"),
    "invalid": _("有误"),
    "error": _("系统错误"),
}


def raw_text(value) -> str:
    """A cell as the person typed it, for the error-rows download."""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return cell_str(value)


@dataclass
class Report:
    """What an import did (or would do) to each row."""

    dry_run: bool
    headers: list[str]
    rows: list[dict] = field(default_factory=list)
    applied: bool = False
    #: a system error (not a rule) stopped the import: nothing was written
    failed: bool = False
    message: str = ""
    #: the saved records by kind ("new", "changed"), for the admin log of untracked models
    instances: dict = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return sum(1 for row in self.rows if row["kind"] == kind)

    @property
    def counts(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in ("new", "changed", "unchanged", "invalid", "error")}

    def as_json(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "headers": self.headers,
            "rows": self.rows,
            "applied": self.applied,
            "message": self.message,
        }


def error_pairs(resource, error: ValidationError) -> list[list[str]]:
    """[column header, message] for each message of a row's ``ValidationError``."""
    pairs = []
    if hasattr(error, "error_dict"):
        for key, errors in error.error_dict.items():
            label = resource.column_label(key)
            for message in ValidationError(errors).messages:
                pairs.append([label, message])
    else:
        pairs = [["", message] for message in error.messages]
    return pairs


def run_import(
    *,
    resource,
    dataset,
    dry_run: bool,
    all_or_nothing: bool = False,
    history: dict | None = None,
) -> Report:
    """Import ``dataset`` (headers already checked) with ``resource``; the report of every row."""
    sheet_rows = getattr(dataset, "sheet_rows", None) or list(range(2, len(dataset) + 2))
    # A preview writes no history (it is rolled back): no context, no per-statement set_config.
    context = pghistory.context(**history) if history else contextlib.nullcontext()
    with context:
        result = resource.import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=False,
            use_transactions=True,
            rollback_on_validation_errors=all_or_nothing,
            retain_instance_in_row_result=True,
        )
    report = Report(dry_run=dry_run, headers=list(dataset.headers))
    for index, row_result in enumerate(result.rows):
        kind = KINDS.get(row_result.import_type, row_result.import_type)
        row = {"n": sheet_rows[index] if index < len(sheet_rows) else index + 2, "kind": kind}
        if row_result.object_repr:
            row["label"] = str(row_result.object_repr)
        if kind == "changed" and row_result.diff:
            row["changes"] = [list(change) for change in row_result.diff]
        if kind == "invalid":
            row["errors"] = error_pairs(resource, row_result.validation_error)
        elif kind == "error":
            for error in row_result.errors:
                logger.error("import row %s failed: %s", row["n"], error.traceback)
            row["errors"] = [["", _t("处理这一行时发生系统错误，本次导入没有写入任何数据。")]]
        if kind in ("invalid", "error"):
            row["values"] = [raw_text(v) for v in dataset[index]]
            row.setdefault("label", row["values"][0] if row["values"] else "")
        elif kind in ("new", "changed") and row_result.instance is not None:
            report.instances.setdefault(kind, []).append(row_result.instance)
        report.rows.append(row)
    for error in result.base_errors:
        logger.error("import failed: %s", error.traceback)
        report.message = _t("导入过程中发生系统错误，没有写入任何数据。")
    failed = result.has_errors()
    report.failed = failed
    rolled_back = failed or (all_or_nothing and result.has_validation_errors())
    report.applied = not dry_run and not rolled_back
    if failed and not report.message:
        report.message = _t("导入过程中发生系统错误，没有写入任何数据。")
    elif not dry_run and rolled_back:
        report.message = _t("已选择“全部或全不”，有 %(n)d 行有误，没有写入任何数据。") % {
            "n": report.count("invalid")
        }
    return report
