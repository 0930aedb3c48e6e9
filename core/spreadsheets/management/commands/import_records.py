"""manage.py import_records MODEL FILE [--dry-run] [--all-or-nothing] [--user USERNAME]

The admin's import from the command line, for a district's large files: the same checks,
the same row report, the same import log row and history context. MODEL is
"members.partymember" or just "partymember". Without ``--user`` it runs as the server's
operator: no territory limit, full personal data in the report, no admin log entries;
with ``--user`` it is limited to that user's streets like the admin.

Exit status: 0 when every row was imported (or, with --dry-run, could be), 1 when rows
were invalid or nothing was written, 2 when the file was refused.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _t

from core.errors import DomainError
from core.spreadsheets import jobs
from core.spreadsheets.engine import KIND_LABELS
from core.spreadsheets.models import ImportJob


class Command(BaseCommand):
    help = "Import a spreadsheet (.xlsx or .csv) of records, with the admin's checks and row report."

    def add_arguments(self, parser):
        parser.add_argument("model", help='e.g. "members.partymember" or "partymember"')
        parser.add_argument("file", help="an .xlsx or .csv file")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument(
            "--all-or-nothing", action="store_true", help="write nothing when a single row is invalid"
        )
        parser.add_argument("--user", help="import as this user (limited to their streets)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_t("找不到文件：%(path)s") % {"path": path})
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(_t("没有用户“%(name)s”。") % {"name": options["user"]})
        try:
            job = jobs.start_import(
                user=user, model_label=options["model"], file_name=path.name, data=path.read_bytes()
            )
        except DomainError as refusal:
            self.stderr.write(str(refusal.message))
            raise SystemExit(2) from None
        job = jobs.preview_import(job_id=job.pk)
        if not options["dry_run"] and job.status == ImportJob.Status.PREVIEWED:
            jobs.claim_for_apply(job_id=job.pk, all_or_nothing=options["all_or_nothing"])
            job = jobs.apply_import(job_id=job.pk)
        elif options["dry_run"] and job.status == ImportJob.Status.PREVIEWED:
            jobs.discard_import(job_id=job.pk)
            job.refresh_from_db()
        self.stdout.write(report_text(job, dry_run=options["dry_run"]))
        if job.invalid_count or job.status not in (ImportJob.Status.APPLIED, ImportJob.Status.DISCARDED):
            raise SystemExit(1)


def report_text(job: ImportJob, *, dry_run: bool) -> str:
    """The row report as the admin's preview shows it: row, result, record, explanation."""
    lines = []
    for row in job.report.get("rows", []):
        if row["kind"] == "unchanged":
            continue
        text = "；".join(
            f"{column}：{message}" if column else message for column, message in row.get("errors", [])
        )
        if row.get("changes"):
            text = "；".join(
                f"{column}：{before or '—'} → {after or '—'}" for column, before, after in row["changes"]
            )
        number = _t("第%(n)s行") % {"n": row["n"]}
        lines.append(f"{number}\t{KIND_LABELS[row['kind']]}\t{row.get('label', '')}\t{text}")
    summary = _t(
        "%(mode)s：共 %(total)d 行，新增 %(new)d，修改 %(changed)d，未变 %(unchanged)d，有误 %(invalid)d。"
    ) % {
        "mode": _t("预览（未写入）") if dry_run else job.get_status_display(),
        "total": job.total_rows,
        "new": job.new_count,
        "changed": job.changed_count,
        "unchanged": job.unchanged_count,
        "invalid": job.invalid_count,
    }
    lines.append(summary)
    if job.message:
        lines.append(job.message)
    lines.append(_t("导入记录 #%(id)s") % {"id": job.pk})
    return "\n".join(lines)
