#!/usr/bin/env python
"""Benchmark: 10,000 due reminders sent through a real Celery worker. Prints the time and rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/reminders.py
    .venv/bin/python bench/reminders.py --count 10000 --concurrency 4 --email smtp

What it does, end to end, with nothing mocked:

1. creates a fresh database ``<DATABASE_URL's name>_bench_reminders`` and migrates it;
2. writes 10,000 employees with a confirmed booking each (100 events of 100 seats, starting in
   1 h 59 min) and, as the booking engine would have, each booking's 2-hour reminder, now due;
3. starts its own redis-server on a free port, an SMTP server that counts what it receives
   (``--email smtp``, the default; ``file`` or ``locmem`` use Django's backends instead) and
   ``celery -A config worker`` with production settings;
4. sends the beat's task (``dispatch_due_notifications_task``) once and measures until every
   outbox row is sent: each reminder is an e-mail over SMTP and an in-portal notification;
5. checks that every reminder arrived exactly once, and drops the database (``--keep-db`` keeps it).

Target: under 60 s for 10,000.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402  (after the path is set)
    create_database,
    database_beside,
    drop_database,
    free_port,
    log,
    open_event_fields,
    production_env,
    start_celery_worker,
    start_redis,
    stop_all,
    stop_group,
    wait_port,
)

SMTP_SINK = textwrap.dedent(
    """
    import json, signal, smtpd, asyncore, sys, warnings
    warnings.simplefilter("ignore")
    seen = {"messages": 0, "ids": set()}
    class Sink(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            seen["messages"] += 1
            for line in data.split(b"\\n"):
                if line.lower().startswith(b"message-id:"):
                    seen["ids"].add(line.split(b":", 1)[1].strip())
                    break
    def stop(*_):
        with open(sys.argv[2], "w") as f:
            json.dump({"messages": seen["messages"], "unique": len(seen["ids"])}, f)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    Sink(("127.0.0.1", int(sys.argv[1])), None, decode_data=False)
    asyncore.loop(timeout=0.5)
    """
)


def seed(count: int) -> None:
    """``count`` confirmed bookings, each with its 2-hour reminder due now (as the engine writes it)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from buildings.models import Building, District, Street
    from core.notifications import outbox
    from core.notifications.models import Outbox as NotificationOutbox
    from members.models import User
    from services.models import Booking, Event, ServiceStation, Space
    from services.notifications import Kind

    per_event = 100
    now = timezone.now()
    starts = now + datetime.timedelta(hours=1, minutes=59)
    with transaction.atomic():
        district = District.objects.create(name="静安区", code="310106")
        street = Street.objects.create(district=district, name="南京西路街道")
        building = Building.objects.create(
            street=street, name="基准大厦", address="南京西路1号", floors=40, floor_area_m2=80000
        )
        station = ServiceStation.objects.create(building=building, name="党群服务站", floor=6, area_m2=300)
        n_events = -(-count // per_event)
        spaces = Space.objects.bulk_create(
            Space(
                station=station, name=f"活动室{i}", function=Space.Function.ACTIVITY_ROOM, capacity=per_event
            )
            for i in range(n_events)
        )
        events = Event.objects.bulk_create(
            Event(
                space=space,
                title=f"党课第{i}讲",
                **open_event_fields(starts=starts, capacity=per_event, now=now),
                confirmed_count=min(per_event, count - i * per_event),
            )
            for i, space in enumerate(spaces)
        )
        password = make_password(None)
        users = User.objects.bulk_create(
            (
                User(username=f"bench{i}", email=f"bench{i}@example.com", password=password)
                for i in range(count)
            ),
            batch_size=2000,
        )
        bookings = Booking.objects.bulk_create(
            (
                Booking(
                    event=events[i // per_event], user=user, status=Booking.Status.CONFIRMED, confirmed_at=now
                )
                for i, user in enumerate(users)
            ),
            batch_size=2000,
        )
        NotificationOutbox.objects.bulk_create(
            (
                outbox.row(
                    recipient_id=booking.user_id,
                    kind=Kind.EVENT_REMINDER,
                    cause=f"booking:{booking.pk}:before:120m",
                    street_id=street.pk,
                    subject=booking,
                    topic=f"event:{booking.event_id}",
                    context={"offset_minutes": 120},
                    due_at=starts - datetime.timedelta(hours=2),
                )
                for booking in bookings
            ),
            batch_size=2000,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=max(os.cpu_count() or 2, 2) * 2)
    parser.add_argument("--email", choices=["smtp", "file", "locmem"], default="smtp")
    parser.add_argument("--batch-size", type=int, default=500, help="rows per send task")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        print(
            "Set DATABASE_URL to a PostgreSQL database (the benchmark creates one beside it).",
            file=sys.stderr,
        )
        return 2
    db_url, db_name = database_beside(base_url, "bench_reminders")
    create_database(base_url, db_name, replace=True)
    os.environ.update(DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="config.settings.development")
    import django

    django.setup()
    from django.core.management import call_command

    from core.notifications.models import Outbox as NotificationOutbox
    from core.notifications.models import PortalNotification

    tmp = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    procs: list[subprocess.Popen] = []
    try:
        log(f"database {db_name}: migrating")
        call_command("migrate", verbosity=0)
        log(f"writing {args.count} bookings with a due reminder each")
        t = time.monotonic()
        seed(args.count)
        log(f"  seeded in {time.monotonic() - t:.1f} s")

        redis, redis_url = start_redis()
        procs.append(redis)
        env = production_env(
            database_url=db_url,
            redis_url=redis_url,
            NOTIFICATIONS_BATCH_SIZE=str(args.batch_size),
            LOG_LEVEL="WARNING",
        )
        sink_report = tmp / "smtp.json"
        if args.email == "smtp":
            smtp_port = free_port()
            sink = subprocess.Popen(
                [sys.executable, "-c", SMTP_SINK, str(smtp_port), str(sink_report)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            procs.append(sink)
            wait_port(smtp_port)
            env.update(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(smtp_port),
                EMAIL_USE_TLS="0",
                EMAIL_HOST_USER="",
                EMAIL_HOST_PASSWORD="",
            )
        elif args.email == "file":
            env.update(
                EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                EMAIL_FILE_PATH=str(tmp / "mail"),
            )
        else:
            env.update(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")

        worker = start_celery_worker(env, tmp / "worker.log", concurrency=args.concurrency, name="bench")
        procs.append(worker)

        from config.celery import app

        app.conf.broker_url = redis_url
        log(f"worker ready (concurrency {args.concurrency}, e-mail: {args.email}); sending the beat's task")
        pending = NotificationOutbox.objects.filter(status=NotificationOutbox.Status.PENDING)
        started = time.monotonic()
        app.send_task("core.notifications.tasks.dispatch_due_notifications_task")
        while True:
            left = pending.count()
            if left == 0:
                break
            if time.monotonic() - started > args.timeout:
                raise SystemExit(f"timed out with {left} still pending")
            time.sleep(0.1)
        elapsed = time.monotonic() - started

        sent = NotificationOutbox.objects.filter(status=NotificationOutbox.Status.SENT).count()
        other = NotificationOutbox.objects.exclude(status=NotificationOutbox.Status.SENT).count()
        in_portal = PortalNotification.objects.count()
        workers_seen = NotificationOutbox.objects.values("sent_by").distinct().count()
        print()
        print(f"reminders sent:     {sent} of {args.count} (not sent: {other})")
        print(f"in-portal copies:   {in_portal}")
        print(f"time:               {elapsed:.1f} s")
        print(f"rate:               {sent / elapsed:.0f} reminders/s")
        print(f"worker processes:   {workers_seen} (concurrency {args.concurrency}, batch {args.batch_size})")
        stop_group(worker)
        if args.email == "smtp":
            sink.terminate()
            sink.wait(10)
            report = json.loads(sink_report.read_text())
            print(
                f"SMTP received:      {report['messages']} messages, {report['unique']} distinct Message-IDs"
            )
            ok = report["messages"] == report["unique"] == sent
        else:
            ok = True
        ok = ok and sent == args.count == in_portal and other == 0
        print(f"exactly once:       {'yes' if ok else 'NO'}")
        print(f"target (< 60 s):    {'met' if elapsed < 60 else 'MISSED'}")
        return 0 if ok else 1
    finally:
        stop_all(procs)
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(base_url, db_name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
