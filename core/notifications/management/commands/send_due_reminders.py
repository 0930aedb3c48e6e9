"""Send the notifications that are due: the beat task's code, run in this process.

For operators and for cron on machines without Celery::

    python manage.py send_due_reminders            # everything due now
    python manage.py send_due_reminders --limit 100

It first runs the registered scans (the end-of-term (换届) reminders that have fallen
due, ...: idempotent), then sends. Running it twice in a row sends nothing the second
time; running it beside Celery workers is safe (rows are claimed with
SELECT ... FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.notifications.outbox import run_scans
from core.notifications.sender import default_worker_id, process_due


class Command(BaseCommand):
    help = "发送已到期的通知和提醒（与 Celery beat 定时任务相同的代码，在本进程内运行）。"

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="最多处理多少条（默认：全部到期的）")
        parser.add_argument(
            "--skip-term-scan",
            "--skip-scans",
            action="store_true",
            dest="skip_scans",
            help="不做定期检查（如换届日期），只发送已在发件箱中的通知",
        )

    def handle(self, *args, limit=None, skip_scans=False, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit 必须是正整数。")
        written = 0 if skip_scans else run_scans()
        stats = process_due(limit=limit, worker_id=default_worker_id("manage.py@"))
        self.stdout.write(
            f"换届提醒新增 {written} 条；已发送 {stats.sent} 条，跳过 {stats.skipped} 条，"
            f"待重试 {stats.retrying} 条，放弃 {stats.failed} 条，改期 {stats.rescheduled} 条。"
        )
        if stats.failed:
            self.stderr.write(f"{stats.failed} 条通知多次发送失败，已放弃；请在管理后台“通知发件箱”中查看。")
