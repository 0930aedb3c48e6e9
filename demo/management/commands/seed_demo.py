"""``manage.py seed_demo``: the demo data set (idempotent), or ``--scale city`` for load tests."""

from __future__ import annotations

import argparse
import time

from django.core.management.base import BaseCommand

from demo import city, small


class Command(BaseCommand):
    help = "写入演示数据（可重复运行，结果相同）；--scale city 再批量生成全市规模数据。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["demo", "city"],
            default="demo",
            help="demo：三个区的演示数据；city：另加全市规模数据（16个区、1569幢楼宇、100万条预约）。",
        )
        # A fraction of the city figures, for tests (e.g. 0.01).
        parser.add_argument("--factor", type=float, default=1.0, help=argparse.SUPPRESS)

    def handle(self, *args, scale: str, factor: float, verbosity: int, **options):
        started = time.monotonic()
        say = self.stdout.write if verbosity > 0 else (lambda line: None)
        result = small.seed_demo(out=say)
        say(
            f"演示数据：新建 {result.created} 条，更新 {result.updated} 条（{time.monotonic() - started:.1f} 秒）。"
        )
        if scale == "city":
            report = city.seed_city(factor=factor, out=say)
            for line in report.lines():
                say(line)
        counts = small.demo_counts()
        say("数据量：" + "，".join(f"{name} {n:,}" for name, n in counts.items()))
        say("演示账号（密码均为 demo12345）：")
        for username, _password, role in result.logins:
            say(f"  {username:<10} {role}")
