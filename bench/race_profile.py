#!/usr/bin/env python
"""The booking race in-process: how long each booking holds the event's lock, and what it runs.

A developer's tool beside ``bench/run`` (which races over HTTP through gunicorn): threads in
this process, each with its own database connection, call ``services.booking.book_event``
for one new event at the same moment, the way the API's 48 racers do. For every booking it
records, from outside the engine (so that any version of the engine is measured alike):

* the time from the statement that took the event's lock (the first statement on
  ``services_event`` with ``FOR UPDATE``) returning to the transaction's COMMIT (or ROLLBACK)
  returning: the time the event row stayed locked, as seen by the engine; when that statement
  commits by itself (the engine of issue 19, called outside a transaction), the engine's own
  figure (``core.bench.record_lock_hold``: from PostgreSQL's clock when the lock was taken to
  the statement's return);
* the statements it ran, and how many of them ran while the lock was held;
* the whole call's latency.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_city \\
        .venv/bin/python bench/race_profile.py --racers 200 --seats 50 --threads 16

Writes to the database like ``bench/run`` does: one new event in the bench's own room and its
bookings, by the ``bench_racer_*`` accounts (created when missing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.base.base import BaseDatabaseWrapper  # noqa: E402

from core import bench  # noqa: E402

settings.DEBUG = False

_local = threading.local()


def _finish(kind: str):
    original = getattr(BaseDatabaseWrapper, kind)

    def wrapped(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            locked = getattr(_local, "locked_at", None)
            if locked is not None:
                _local.holds.append(time.perf_counter() - locked)
                _local.ends.append(time.perf_counter() - started)
                _local.locked_at = None

    setattr(BaseDatabaseWrapper, kind, wrapped)


_finish("_commit")
_finish("_rollback")


def _statement_log(execute, sql, params, many, context):
    try:
        return execute(sql, params, many, context)
    finally:
        _local.statements += 1
        if _local.locked_at is not None:
            _local.under_lock += 1
        elif "FOR UPDATE" in sql and "services_event" in sql:
            _local.locked_at = time.perf_counter()


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def race_event(seats: int):
    import datetime

    from django.utils import timezone

    from bench.city import BENCH_SPACE
    from bench.common import open_event_fields
    from members.models import User
    from services.models import Event, Space

    now = timezone.now()
    zhangwei = User.objects.select_related("building").get(username="zhangwei")
    station = zhangwei.building.stations.order_by("pk").first()
    space, _ = Space.objects.get_or_create(
        station=station,
        name=BENCH_SPACE,
        defaults={"function": Space.Function.ACTIVITY_ROOM, "capacity": seats},
    )
    if space.capacity < seats:
        Space.objects.filter(pk=space.pk).update(capacity=seats)
        space.capacity = seats
    last = Event.objects.filter(space=space).order_by("-ends_at").values_list("ends_at", flat=True).first()
    starts = max(now + datetime.timedelta(days=3), last or now).replace(minute=0, second=0, microsecond=0)
    starts += datetime.timedelta(hours=1)
    event = Event(
        space=space,
        title=f"压测（进程内）：{seats} 个名额",
        **open_event_fields(starts=starts, capacity=seats, now=now),
    )
    event.full_clean()
    event.save()
    return event, zhangwei.building


def racers(count: int, building):
    from django.contrib.auth.hashers import make_password

    from members.models import User

    names = [f"bench_racer_{i:04d}" for i in range(count)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    password = make_password(None)
    User.objects.bulk_create(
        User(username=n, email=f"{n}@example.com", password=password, building=building)
        for n in names
        if n not in existing
    )
    return list(User.objects.filter(username__in=names).order_by("username"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--racers", type=int, default=200)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    from services import booking as engine
    from services.models import Booking, Event

    event, building = race_event(args.seats)
    users = racers(args.racers, building)
    connection.close()
    queue = list(reversed(users))
    lock = threading.Lock()
    barrier = threading.Barrier(args.threads + 1)
    results: list[dict] = []

    def worker():
        from django.db import connection as conn

        _local.locked_at = None
        mine = []
        conn.ensure_connection()
        with conn.execute_wrapper(_statement_log):
            barrier.wait()
            while True:
                with lock:
                    if not queue:
                        break
                    user = queue.pop()
                _local.holds, _local.ends, _local.statements, _local.under_lock = [], [], 0, 0
                _local.locked_at = None
                figures: dict = {}
                token = bench._figures.set(figures)  # the engine's own figure, as under bench/run
                started = time.perf_counter()
                try:
                    outcome = engine.book_event(user=user, event=Event(pk=event.pk)).status
                except engine.BookingError as exc:
                    outcome = exc.code
                finally:
                    bench._figures.reset(token)
                if "lock_hold_ms" in figures and not _local.holds:
                    # The locking statement committed by itself (no COMMIT from here): the engine
                    # says how long it held the lock, from PostgreSQL's clock when it took it.
                    _local.holds.append(figures["lock_hold_ms"] / 1000)
                    _local.under_lock = 0
                mine.append(
                    {
                        "outcome": outcome,
                        "seconds": time.perf_counter() - started,
                        "hold": sum(_local.holds),
                        "end": sum(_local.ends),
                        "locked": bool(_local.holds),
                        "statements": _local.statements,
                        "under_lock": _local.under_lock,
                    }
                )
        conn.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started

    outcomes = Counter(r["outcome"] for r in results)
    holds = [r["hold"] * 1000 for r in results if r["locked"]]
    made_ok = ("confirmed", "waitlisted")
    held_ok = [r["hold"] * 1000 for r in results if r["locked"] and r["outcome"] in made_ok]
    lat = [r["seconds"] * 1000 for r in results]
    print(
        f"event {event.pk}: {args.racers} racers, {args.seats} seats, {args.threads} threads, {elapsed:.2f} s "
        f"({len(results) / elapsed:.0f} bookings/s)"
    )
    print(f"outcomes: {dict(outcomes)}")
    print(
        f"latency ms: p50 {percentile(lat, 0.5):.1f}  p95 {percentile(lat, 0.95):.1f}  "
        f"p99 {percentile(lat, 0.99):.1f}"
    )
    print(
        f"lock held ms (every call that locked, {len(holds)}): p50 {percentile(holds, 0.5):.2f}  "
        f"p95 {percentile(holds, 0.95):.2f}  sum {sum(holds):.0f}"
    )
    print(
        f"lock held ms (bookings made, {len(held_ok)}): p50 {percentile(held_ok, 0.5):.2f}  "
        f"p95 {percentile(held_ok, 0.95):.2f}"
    )
    made = [r for r in results if r["outcome"] in ("confirmed", "waitlisted")]
    ends = [r["end"] * 1000 for r in made]
    print(
        f"  of which the COMMIT itself ms: p50 {percentile(ends, 0.5):.2f}  p95 {percentile(ends, 0.95):.2f}"
    )
    if made:
        print(
            f"statements per booking made: {statistics.mean(r['statements'] for r in made):.1f} "
            f"(under the lock: {statistics.mean(r['under_lock'] for r in made):.1f}, COMMIT not counted)"
        )
    counts = dict(
        Booking.objects.filter(event_id=event.pk)
        .values_list("status")
        .annotate(n=django.db.models.Count("id"))
    )
    event.refresh_from_db()
    print(
        f"in the database: {counts}; counters {event.confirmed_count}/{event.capacity}, "
        f"waitlist {event.waitlist_count}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
