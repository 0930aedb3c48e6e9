#!/usr/bin/env python
"""Benchmark: a district's 10,000 party members imported from one .xlsx. Prints the times.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/imports.py
    .venv/bin/python bench/imports.py --count 10000 --keep-db

What it does, with nothing mocked (the Celery tasks' bodies, in this process):

1. creates a fresh database ``<DATABASE_URL's name>_bench_imports`` and migrates it;
2. writes one district, ten streets with an organization each, and a social worker of all ten;
3. writes an .xlsx of ``--count`` members in the template's columns (valid ID numbers and phones);
4. times, as the social worker: reading and checking the file (``start_import``), the preview
   (``preview_import``: every row validated and written, then rolled back), the apply
   (``apply_import``: one transaction, history rows included), and the same file again
   (every row unchanged, nothing written);
5. checks the counts, prints a table (and ``--json FILE``), and drops the database
   (``--keep-db`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import create_database, database_beside, drop_database, log  # noqa: E402

STREETS = 10


def seed():
    from buildings.models import District, Street
    from members.models import PartyOrganization, User

    district = District.objects.create(name="基准区", code="319999")
    streets = [Street.objects.create(district=district, name=f"基准街道{i}") for i in range(STREETS)]
    for street in streets:
        PartyOrganization.objects.create(
            street=street,
            name=f"{street.name}联合党委",
            kind="joint_committee",
            founded_on=datetime.date(2015, 1, 1),
        )
    from members.groups import SOCIAL_WORKER, ensure_groups

    ensure_groups()
    user = User.objects.create_user("bench_shegong", password="x", is_staff=True)
    user.streets.set(streets)
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=SOCIAL_WORKER))
    return user, streets


def member_sheet(count: int, streets) -> bytes:
    from django.utils import translation

    from core.spreadsheets.writer import workbook_bytes
    from members.resources import PartyMemberResource
    from members.validators import id_number_check_char

    with translation.override("zh-hans"):
        headers = PartyMemberResource().headers()
    rows = []
    for n in range(count):
        born = datetime.date(1970, 1, 1) + datetime.timedelta(days=n % 9000)
        first17 = f"310106{born:%Y%m%d}{n // 9000:03d}"  # unique: a birth date and a sequence
        street = streets[n % len(streets)]
        rows.append(
            [
                f"党员{n}",
                "男" if n % 2 else "女",
                born.isoformat(),
                first17 + id_number_check_char(first17),
                f"139{n:08d}",
                "本科",
                (born + datetime.timedelta(days=365 * 25)).isoformat(),
                "正式党员",
                street.name,
                f"{street.name}联合党委",
                "",
                "否",
            ]
        )
    return workbook_bytes([("党员", headers, rows)])


def timed(label: str, results: dict, func):
    started = time.perf_counter()
    value = func()
    results[label] = round(time.perf_counter() - started, 2)
    log(f"{label}: {results[label]} s")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--no-again", action="store_true", help="skip importing the same file a second time")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        raise SystemExit("DATABASE_URL is required (the benchmark makes a database beside it)")
    db_url, db_name = database_beside(base_url, "bench_imports")
    create_database(base_url, db_name, replace=True)
    os.environ.update(
        DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="config.settings.development", LOG_LEVEL="WARNING"
    )
    import django

    django.setup()
    from django.core.management import call_command

    try:
        log(f"migrating {db_name}")
        call_command("migrate", verbosity=0)
        user, streets = seed()
        data = member_sheet(args.count, streets)
        log(f"{args.count} members, {len(data) / 1e6:.1f} MB of .xlsx")

        from pghistory.models import Events

        from core.spreadsheets import jobs
        from members.models import PartyMember

        results: dict = {"rows": args.count, "file_mb": round(len(data) / 1e6, 2)}
        job = timed(
            "read_and_check_s",
            results,
            lambda: jobs.start_import(
                user=user, model_label="members.partymember", file_name="m.xlsx", data=data
            ),
        )
        job = timed("preview_s", results, lambda: jobs.preview_import(job_id=job.pk))
        assert job.new_count == args.count, (job.status, job.message, job.invalid_count)
        jobs.claim_for_apply(job_id=job.pk, by=user)
        job = timed("apply_s", results, lambda: jobs.apply_import(job_id=job.pk))
        assert job.status == "applied" and PartyMember.objects.count() == args.count
        history = Events.objects.filter(pgh_obj_model="members.PartyMember").count()
        assert history == args.count

        if not args.no_again:
            again = jobs.start_import(
                user=user, model_label="members.partymember", file_name="m.xlsx", data=data
            )
            again = timed("same_file_preview_s", results, lambda: jobs.preview_import(job_id=again.pk))
            jobs.claim_for_apply(job_id=again.pk, by=user)
            again = timed("same_file_apply_s", results, lambda: jobs.apply_import(job_id=again.pk))
            assert again.unchanged_count == args.count
            assert Events.objects.filter(pgh_obj_model="members.PartyMember").count() == history

        for key in ("preview_s", "apply_s"):
            results[key.replace("_s", "_rows_per_s")] = round(args.count / results[key])
        print()
        print(f"{'step':<24}{'seconds':>10}")
        for key in ("read_and_check_s", "preview_s", "apply_s", "same_file_preview_s", "same_file_apply_s"):
            if key in results:
                print(f"{key:<24}{results[key]:>10}")
        print(f"preview {results['preview_rows_per_s']} rows/s, apply {results['apply_rows_per_s']} rows/s")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(base_url, db_name)


if __name__ == "__main__":
    sys.exit(main())
