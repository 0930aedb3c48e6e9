"""The write side of an import: upload, preview, confirm (apply), discard — each a function.

The admin, the Celery tasks and ``manage.py import_records`` call these; none re-implements
them. States: previewing → previewed → applying → applied | rolled_back | failed, or
discarded. Confirming claims the job under its row lock (a second click, or a second
worker, is refused), then the import and the job's final state are written in one
transaction: either both are there or neither is, and a worker that dies half-way
leaves nothing behind (the task is delivered again and starts afresh).

Progress of a long import is written through a second database connection in its own
autocommit, so the admin page can show it while the import's transaction is still open.
"""

from __future__ import annotations

import copy
import datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _t

from .engine import Report, run_import
from .errors import ImportStateError
from .files import Upload, check_size, read_dataset
from .models import ImportJob
from .registry import resource_class_for

SYNC_ROWS_DEFAULT = 500
PROGRESS_EVERY = 200


def sync_rows() -> int:
    """Files with at most this many rows are previewed and applied in the request itself."""
    return int(getattr(settings, "SPREADSHEET_SYNC_ROWS", SYNC_ROWS_DEFAULT))


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def load(job: ImportJob, *, user=None, progress=None):
    """The job's resource (for ``user``) and its dataset, headers checked."""
    resource = resource_class_for(job.model_label)(
        user=user if user is not None else job.user, progress=progress
    )
    dataset = read_dataset(Upload(job.file_name, bytes(job.data or b"")))
    resource.check_headers(dataset)
    return resource, dataset


def start_import(*, user, model_label: str, file_name: str, data: bytes, now=None) -> ImportJob:
    """Check a file (size, kind, columns) and record it; refuses with ``SpreadsheetRefused``.

    The job is left "previewing": the caller runs ``preview_import`` in the request for a
    small file, or through the Celery task for a large one.
    """
    check_size(len(data))
    resource_class = resource_class_for(model_label)
    upload = Upload(file_name, data)
    dataset = read_dataset(upload)
    resource_class(user=user).check_headers(dataset)
    return ImportJob.objects.create(
        user=user,
        model_label=resource_class._meta.model._meta.label_lower,
        file_name=file_name[:255],
        file_size=len(data),
        file_sha256=upload.sha256,
        data=data,
        total_rows=len(dataset),
        created_at=_now(now),
    )


class ProgressWriter:
    """Writes ``done_rows`` of a job every ``every`` rows, outside the import's transaction."""

    def __init__(self, job_id: int, *, every: int | None = None):
        self.job_id = job_id
        self.every = every or PROGRESS_EVERY
        base = connections[DEFAULT_DB_ALIAS]
        self.connection = type(base)(copy.deepcopy(base.settings_dict), DEFAULT_DB_ALIAS)

    def __call__(self, row_number: int) -> None:
        if row_number % self.every:
            return
        with self.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE spreadsheets_importjob SET done_rows = LEAST(%s, total_rows) WHERE id = %s",
                [row_number, self.job_id],
            )

    def close(self) -> None:
        self.connection.close()


def _finish(job: ImportJob, report: Report, **fields) -> None:
    counts = report.counts
    job.report = report.as_json()
    job.new_count = counts["new"]
    job.changed_count = counts["changed"]
    job.unchanged_count = counts["unchanged"]
    job.invalid_count = counts["invalid"] + counts["error"]
    job.done_rows = job.total_rows
    job.message = report.message
    for name, value in fields.items():
        setattr(job, name, value)
    job.save()


def preview_import(*, job_id: int, track_progress: bool = False, now=None) -> ImportJob:
    """The dry run: every row validated and written, then rolled back; the report kept."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.PREVIEWING:
        return job  # already previewed (a task delivered twice)
    progress = ProgressWriter(job.pk) if track_progress else None
    try:
        resource, dataset = load(job, progress=progress)
        report = run_import(resource=resource, dataset=dataset, dry_run=True)
    finally:
        if progress is not None:
            progress.close()
    _finish(
        job,
        report,
        status=ImportJob.Status.FAILED if report.failed else ImportJob.Status.PREVIEWED,
        previewed_at=_now(now),
    )
    return job


def claim_for_apply(*, job_id: int, by=None, all_or_nothing: bool = False) -> ImportJob:
    """Move a previewed job to "applying" under its row lock; refuse any other state."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if by is not None and not by.is_superuser and job.user_id != by.pk:
            raise ImportStateError("forbidden", _t("只能确认自己上传的导入。"))
        if job.status != ImportJob.Status.PREVIEWED:
            raise ImportStateError("state", _t("该导入已确认或已结束，不能再次确认。"))
        job.status = ImportJob.Status.APPLYING
        job.all_or_nothing = all_or_nothing
        job.done_rows = 0
        job.save(update_fields=["status", "all_or_nothing", "done_rows"])
    return job


def apply_import(*, job_id: int, track_progress: bool = False, now=None) -> ImportJob:
    """Write a claimed job's valid rows (or none, all-or-nothing) and its final state, atomically."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.APPLYING:
        return job  # finished already (a task delivered twice), or never claimed
    progress = ProgressWriter(job.pk) if track_progress else None
    try:
        with transaction.atomic():
            resource, dataset = load(job, progress=progress)
            report = run_import(
                resource=resource,
                dataset=dataset,
                dry_run=False,
                all_or_nothing=job.all_or_nothing,
                history={"import_id": job.pk, "import_file": job.file_name, "user": job.user_id},
            )
            if report.applied:
                _log_untracked(job, resource, report)
                status = ImportJob.Status.APPLIED
            elif report.failed:
                status = ImportJob.Status.FAILED
            else:
                status = ImportJob.Status.ROLLED_BACK
            _finish(
                job,
                report,
                status=status,
                applied_at=_now(now) if report.applied else None,
                data=None if report.applied else job.data,
            )
    finally:
        if progress is not None:
            progress.close()
    return job


def discard_import(*, job_id: int, by=None) -> ImportJob:
    """Give up a previewed (or refused) import: its file is deleted, its log row stays."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if by is not None and not by.is_superuser and job.user_id != by.pk:
            raise ImportStateError("forbidden", _t("只能放弃自己上传的导入。"))
        if job.status in (ImportJob.Status.APPLYING, ImportJob.Status.APPLIED):
            raise ImportStateError("state", _t("该导入已确认，不能放弃。"))
        job.status = ImportJob.Status.DISCARDED
        job.data = None
        job.save(update_fields=["status", "data"])
    return job


def _log_untracked(job: ImportJob, resource, report: Report) -> None:
    """Models without a pghistory record (buildings, enterprises) get the admin's log entries,
    naming the import; tracked models carry the import in their history context instead."""
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

    from core.adminkit.history import tracked_event_models

    model = resource._meta.model
    if job.user_id is None or tracked_event_models(model):
        return
    for kind, flag in (("new", ADDITION), ("changed", CHANGE)):
        instances = report.instances.get(kind) or []
        if instances:
            LogEntry.objects.log_actions(
                job.user_id,
                instances,
                flag,
                change_message=job.history_label,
                single_object=len(instances) == 1,
            )
