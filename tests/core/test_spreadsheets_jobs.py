"""The write side of an import (core/spreadsheets/jobs.py, engine.py): valid rows in one transaction,
all-or-nothing, the same file twice changing nothing (history included), the history naming the
import, a constraint violation as a row error, a system error rolling everything back, states,
the Celery tasks with progress, and the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from pghistory.models import Events

from core.adminkit.history import history_entries
from core.spreadsheets import jobs
from core.spreadsheets.errors import ImportStateError
from core.spreadsheets.models import ImportJob
from members.models import PartyMember
from tests.members.factories import PartyOrganizationFactory, StaffUserFactory
from tests.spreadsheet_support import (
    ORGANIZATION,
    apply,
    import_file,
    preview,
    read_xlsx,
    rows_of,
    sample,
    xlsx,
)

pytestmark = pytest.mark.django_db
MODEL = "members.partymember"


@pytest.fixture
def organization(street_a):
    return PartyOrganizationFactory(street=street_a, name=ORGANIZATION)


def member_events() -> int:
    return Events.objects.filter(pgh_obj_model="members.PartyMember").count()


def test_confirm_writes_every_valid_row_and_reports_the_invalid_ones(social_worker, organization):
    job = import_file(user=social_worker, model=MODEL, name="errors.xlsx", data=sample("members-errors.xlsx"))
    assert job.status == ImportJob.Status.APPLIED
    assert (job.new_count, job.invalid_count) == (7, 3)
    assert PartyMember.objects.count() == 7
    assert [row["n"] for row in rows_of(job, "invalid")] == [4, 7, 10]
    assert job.data is None  # the file (personal data) is not kept once applied
    assert job.applied_at is not None


def test_all_or_nothing_leaves_the_database_untouched_when_one_row_is_bad(social_worker, organization):
    before = member_events()
    job = import_file(
        user=social_worker,
        model=MODEL,
        name="errors.xlsx",
        data=sample("members-errors.xlsx"),
        all_or_nothing=True,
    )
    assert job.status == ImportJob.Status.ROLLED_BACK
    assert "全部或全不" in job.message
    assert PartyMember.objects.count() == 0 and member_events() == before
    assert job.data is not None  # kept: the person fixes the rows and tries again


def test_all_or_nothing_with_every_row_valid_writes_them_all(social_worker, organization):
    job = import_file(
        user=social_worker, model=MODEL, name="v.xlsx", data=sample("members-valid.xlsx"), all_or_nothing=True
    )
    assert job.status == ImportJob.Status.APPLIED and PartyMember.objects.count() == 10


def test_the_preview_writes_nothing(social_worker, organization):
    before = member_events()
    job = preview(user=social_worker, model=MODEL, name="v.xlsx", data=sample("members-valid.xlsx"))
    assert job.status == ImportJob.Status.PREVIEWED and job.new_count == 10
    assert PartyMember.objects.count() == 0 and member_events() == before


def test_the_same_file_twice_changes_nothing_not_even_the_history(social_worker, organization):
    import_file(user=social_worker, model=MODEL, name="v.xlsx", data=sample("members-valid.xlsx"))
    stored = list(PartyMember.objects.order_by("pk").values())
    events = member_events()
    again = import_file(user=social_worker, model=MODEL, name="v.xlsx", data=sample("members-valid.xlsx"))
    assert (again.new_count, again.changed_count, again.unchanged_count) == (0, 0, 10)
    assert list(PartyMember.objects.order_by("pk").values()) == stored  # not even updated_at
    assert member_events() == events


def test_a_changed_row_reports_its_differences_and_updates_the_record(social_worker, organization):
    import_file(user=social_worker, model=MODEL, name="v.xlsx", data=sample("members-valid.xlsx"))
    headers, *rows = read_xlsx(sample("members-valid.xlsx"))
    rows[0][headers.index("学历")] = "博士研究生"
    job = import_file(user=social_worker, model=MODEL, name="v2.xlsx", data=xlsx(headers, rows))
    assert (job.changed_count, job.unchanged_count) == (1, 9)
    assert rows_of(job, "changed")[0]["changes"] == [["学历", "硕士研究生", "博士研究生"]]
    assert PartyMember.objects.get(name=rows[0][0]).education == PartyMember.Education.DOCTOR


def test_the_history_names_the_import(social_worker, organization):
    job = import_file(
        user=social_worker, model=MODEL, name="members-valid.xlsx", data=sample("members-valid.xlsx")
    )
    member = PartyMember.objects.get(name="王芳")
    event = Events.objects.filter(pgh_obj_model="members.PartyMember", pgh_obj_id=str(member.pk)).get()
    assert event.pgh_context["import_id"] == job.pk
    assert event.pgh_context["user"] == social_worker.pk
    entry = history_entries(PartyMember, member)[0]
    assert entry["via"] == f"导入 #{job.pk}（members-valid.xlsx）"
    assert entry["user"] == social_worker


def test_untracked_records_get_an_admin_log_entry_naming_the_import(social_worker, street_a):
    from django.contrib.admin.models import LogEntry

    job = import_file(
        user=social_worker, model="buildings.building", name="buildings.xlsx", data=sample("buildings.xlsx")
    )
    assert job.new_count == 2
    messages = set(LogEntry.objects.filter(user=social_worker).values_list("change_message", flat=True))
    assert messages == {f"导入 #{job.pk}（buildings.xlsx）"}


def test_a_database_constraint_violation_is_that_rows_error(social_worker, organization, monkeypatch):
    """With the model's own checks out of the way, the database refuses the row; the others are written."""
    headers, *rows = read_xlsx(sample("members-valid.xlsx"))
    rows[1][headers.index("入党日期")] = "1950-01-01"
    monkeypatch.setattr(PartyMember, "full_clean", lambda self, *a, **k: None)
    job = import_file(user=social_worker, model=MODEL, name="v.xlsx", data=xlsx(headers, rows))
    assert job.status == ImportJob.Status.APPLIED
    [bad] = rows_of(job, "invalid")
    assert bad["n"] == 3 and bad["errors"] == [["", "入党日期必须晚于出生日期。"]]
    assert PartyMember.objects.count() == 9


def test_a_system_error_on_one_row_writes_nothing(social_worker, organization, monkeypatch):
    from members.resources import PartyMemberResource

    original = PartyMemberResource.save_record

    def explode_on_third(self, instance, is_create):
        if instance.name == "刘洋":
            raise RuntimeError("disk full")
        original(self, instance, is_create)

    job = preview(user=social_worker, model=MODEL, name="v.xlsx", data=sample("members-valid.xlsx"))
    monkeypatch.setattr(PartyMemberResource, "save_record", explode_on_third)
    job = apply(job, by=social_worker)
    assert job.status == ImportJob.Status.FAILED
    assert "没有写入任何数据" in job.message
    assert PartyMember.objects.count() == 0


def test_confirming_twice_or_someone_elses_import_is_refused(social_worker, organization):
    job = preview(user=social_worker, model=MODEL, name="v.xlsx", data=sample("members-valid.xlsx"))
    other = StaffUserFactory(streets=[organization.street])
    with pytest.raises(ImportStateError):
        jobs.claim_for_apply(job_id=job.pk, by=other)
    apply(job, by=social_worker)
    with pytest.raises(ImportStateError):
        jobs.claim_for_apply(job_id=job.pk, by=social_worker)
    with pytest.raises(ImportStateError):
        jobs.discard_import(job_id=job.pk, by=social_worker)
    assert PartyMember.objects.count() == 10


def test_a_discarded_import_forgets_its_file_and_cannot_be_confirmed(social_worker, organization):
    job = preview(user=social_worker, model=MODEL, name="v.xlsx", data=sample("members-valid.xlsx"))
    jobs.discard_import(job_id=job.pk, by=social_worker)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DISCARDED and job.data is None
    with pytest.raises(ImportStateError):
        jobs.claim_for_apply(job_id=job.pk, by=social_worker)
    assert PartyMember.objects.count() == 0


def test_the_celery_tasks_run_once_even_when_delivered_twice(social_worker, organization):
    from core.spreadsheets.tasks import apply_import_task, preview_import_task

    job = jobs.start_import(
        user=social_worker, model_label=MODEL, file_name="v.xlsx", data=sample("members-valid.xlsx")
    )
    assert preview_import_task.apply(args=[job.pk]).get() == "previewed"
    assert preview_import_task.apply(args=[job.pk]).get() == "previewed"
    jobs.claim_for_apply(job_id=job.pk, by=social_worker)
    assert apply_import_task.apply(args=[job.pk]).get() == "applied"
    assert apply_import_task.apply(args=[job.pk]).get() == "applied"
    job.refresh_from_db()
    assert job.done_rows == job.total_rows == 10
    assert PartyMember.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_runs(street_a, monkeypatch):
    """The progress is written through a second connection, outside the import's open transaction."""
    from django.db import connection

    from core.spreadsheets.resources import PortalResource

    PartyOrganizationFactory(street=street_a, name=ORGANIZATION)
    user = StaffUserFactory(streets=[street_a])
    job = jobs.start_import(
        user=user, model_label=MODEL, file_name="v.xlsx", data=sample("members-valid.xlsx")
    )
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 1)
    observer = jobs.ProgressWriter(job.pk)  # just another connection, to look from outside
    seen = []
    original = PortalResource.after_import_row

    def watch(self, row, row_result, **kwargs):
        original(self, row, row_result, **kwargs)
        if kwargs["row_number"] in (3, 7):
            assert connection.in_atomic_block  # the import's transaction is still open
            with observer.connection.cursor() as cursor:
                cursor.execute("SELECT done_rows FROM spreadsheets_importjob WHERE id = %s", [job.pk])
                seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(PortalResource, "after_import_row", watch)
    try:
        jobs.preview_import(job_id=job.pk, track_progress=True)
    finally:
        observer.close()
    assert seen == [3, 7]
    job.refresh_from_db()
    assert job.done_rows == 10 and job.status == ImportJob.Status.PREVIEWED


def test_the_command_prints_the_row_report_and_writes_the_valid_rows(organization, tmp_path):
    path = tmp_path / "members-errors.xlsx"
    path.write_bytes(sample("members-errors.xlsx"))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("import_records", "partymember", str(path), "--dry-run", stdout=out)
    assert exit_status.value.code == 1
    report = out.getvalue()
    assert "第4行\t有误" in report and "身份证号：身份证号校验位不正确" in report
    assert "第7行\t有误" in report and "手机号码" in report
    assert "第10行\t有误" in report and "入党日期：入党日期必须晚于出生日期。" in report
    assert PartyMember.objects.count() == 0

    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_records", "members.partymember", str(path), "--all-or-nothing", stdout=out)
    assert PartyMember.objects.count() == 0 and "没有写入任何数据" in out.getvalue()

    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_records", "members.partymember", str(path), stdout=out)
    assert PartyMember.objects.count() == 7
    assert "新增 7" in out.getvalue()
    assert ImportJob.objects.filter(user=None).count() == 3


def test_the_command_refuses_a_bad_file_with_exit_status_2(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("import_records", "partymember", str(path), stderr=err)
    assert exit_status.value.code == 2 and "文件是空的" in err.getvalue()
