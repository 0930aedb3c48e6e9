#!/usr/bin/env python
"""Profile the city-scale endpoints in-process: time and SQL queries per request.

A developer's tool beside ``bench/run`` (which drives gunicorn over HTTP): it
runs Django's test ``Client`` in this process against a seeded database, so a
slow endpoint can be taken apart at once (``--sql`` prints its slowest
statements, ``--only`` picks endpoints by name). It never writes anything that
stays: the booking POST runs in a transaction that is rolled back.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/hb \\
        .venv/bin/python bench/profile_endpoints.py            # every endpoint, 20 requests each
    ... bench/profile_endpoints.py -n 50 --only stats --sql    # the statistics, with their SQL

The database must hold ``manage.py seed_demo --scale city`` followed by
``VACUUM ANALYZE`` (fresh COPY'd tables have no statistics, and plans without
them say nothing). DEBUG=1 is only needed to start Django without production
secrets: the script turns DEBUG off before the first request, so Django does
not record every query, and counts queries with ``connection.execute_wrapper``.
API throttling is lifted (``API_*_RATE``) so that repeated requests are not 429s.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
for scope in ("API_TOKEN_RATE", "API_USER_RATE", "API_ANON_RATE"):
    os.environ[scope] = "1000000/min"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

settings.DEBUG = False
# Quiet: one request log line per request, and whitenoise's note about a missing collectstatic.
logging.getLogger("portal.request").setLevel(logging.ERROR)
logging.getLogger("django.request").setLevel(logging.CRITICAL)
logging.getLogger("axes").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message="No directory at")
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


class QueryLog:
    """Counts (and times) every statement the request runs, like django_assert_num_queries."""

    def __init__(self):
        self.statements: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - started) * 1000, sql))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def pick_fixtures() -> dict:
    """Users, a street of the district user's district, and events to open and book."""
    from buildings.models import Street
    from members.models import User
    from members.tokens import issue_token
    from services.models import Booking, Event

    admin = User.objects.get(username="admin")
    shegong = User.objects.get(username="shegong")
    jingan = User.objects.get(username="jingan")
    # The employee with the most bookings: "my bookings" at its heaviest.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT user_id FROM services_booking GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1"
        )
        busy_id = cur.fetchone()[0]
    employee = User.objects.get(pk=busy_id)
    street = Street.objects.filter(district_id=jingan.district_id).order_by("pk").first()
    now = timezone.now()
    upcoming = Event.objects.filter(status=Event.Status.PUBLISHED, ends_at__gt=now)
    event = upcoming.order_by("starts_at", "id").first()
    # Bookable: open now, seats left, everyone may come.
    bookable = (
        upcoming.filter(
            booking_opens_at__lte=now,
            booking_closes_at__gt=now,
            audience=Event.Audience.EVERYONE,
            kind__in=[Event.Kind.PARTY_CLASS, Event.Kind.SAFETY_LECTURE, Event.Kind.YOUTH_SOCIAL],
        )
        .exclude(bookings__user__username__in=["zhangwei"])
        .order_by("-capacity", "starts_at")
        .first()
    )
    bookers = list(
        User.objects.filter(is_staff=False, is_superuser=False, is_active=True)
        .exclude(bookings__event=bookable)
        .order_by("pk")[:1000]
        .values_list("pk", flat=True)
    )
    _token, key = issue_token(user=jingan, name="profile_endpoints")
    _token2, admin_key = issue_token(user=admin, name="profile_endpoints")
    bookings_of_event = Booking.objects.filter(event=event).count()
    return {
        "admin": admin,
        "shegong": shegong,
        "jingan": jingan,
        "employee": employee,
        "street": street,
        "event": event,
        "bookable": bookable,
        "bookers": bookers,
        "jingan_key": key,
        "admin_key": admin_key,
        "event_bookings": bookings_of_event,
    }


def endpoints(f: dict) -> list[dict]:
    """(name, who, method, path, expected status) for everything issue #6 measures, and a few more."""
    jingan = {"HTTP_AUTHORIZATION": f"Token {f['jingan_key']}"}
    admin = {"HTTP_AUTHORIZATION": f"Token {f['admin_key']}"}
    street = f["street"].pk
    event = f["event"].pk
    return [
        dict(name="portal /", user=None, path="/"),
        dict(name="portal / (employee)", user=f["employee"], path="/"),
        dict(name="portal /?kind&has_seats", user=None, path="/?kind=party_class&has_seats=on"),
        dict(name="portal /?street", user=f["employee"], path=f"/?street={street}"),
        dict(name="portal /?q", user=None, path="/?q=%E8%AE%B2%E5%BA%A7"),
        dict(name="portal /?page=50", user=None, path="/?page=50"),
        dict(name="portal event page", user=None, path=f"/events/{event}/"),
        dict(name="portal event page (employee)", user=f["employee"], path=f"/events/{event}/"),
        dict(name="portal my bookings", user=f["employee"], path="/bookings/"),
        dict(name="api buildings (district)", headers=jingan, path="/api/v1/buildings/"),
        dict(name="api buildings (city)", headers=admin, path="/api/v1/buildings/"),
        dict(
            name="api party-members ?street", headers=jingan, path=f"/api/v1/party-members/?street={street}"
        ),
        dict(name="api party-members (city)", headers=admin, path="/api/v1/party-members/"),
        dict(name="api events (district)", headers=jingan, path="/api/v1/events/"),
        dict(name="api bookings (district)", headers=jingan, path="/api/v1/bookings/"),
        dict(name="api bookings (city)", headers=admin, path="/api/v1/bookings/"),
        dict(name="api stats/coverage (district)", headers=jingan, path="/api/v1/stats/coverage/"),
        dict(name="api stats/coverage (city)", headers=admin, path="/api/v1/stats/coverage/"),
        dict(name="api stats/activity (district)", headers=jingan, path="/api/v1/stats/activity/"),
        dict(name="api stats/activity (city)", headers=admin, path="/api/v1/stats/activity/"),
        dict(name="admin members (shegong)", user=f["shegong"], path="/admin/members/partymember/"),
        dict(name="admin members (city)", user=f["admin"], path="/admin/members/partymember/"),
        dict(name="admin bookings (shegong)", user=f["shegong"], path="/admin/services/booking/"),
        dict(name="admin bookings (city)", user=f["admin"], path="/admin/services/booking/"),
        dict(
            name="admin bookings ?status (city)",
            user=f["admin"],
            path="/admin/services/booking/?status__exact=confirmed",
        ),
        dict(name="admin events (city)", user=f["admin"], path="/admin/services/event/"),
        dict(name="admin users (city)", user=f["admin"], path="/admin/members/user/"),
        dict(name="api demands (district)", headers=jingan, path="/api/v1/demands/"),
        dict(name="api stats/demands (district)", headers=jingan, path="/api/v1/stats/demands/"),
        dict(name="admin demands (shegong)", user=f["shegong"], path="/admin/committees/demand/"),
        dict(name="admin dashboard (district)", user=f["jingan"], path="/admin/dashboard/"),
        dict(name="admin dashboard (city)", user=f["admin"], path="/admin/dashboard/"),
        dict(
            name="api POST booking",
            method="post",
            path=f"/api/v1/events/{f['bookable'].pk}/bookings/",
            status=201,
        ),
    ]


def run_one(spec: dict, f: dict, n: int, warmup: int) -> dict:
    from members.models import User

    client = Client()
    if spec.get("user") is not None:
        client.force_login(spec["user"])
    method = spec.get("method", "get")
    expected = spec.get("status", 200)
    times, counts, sql_ms, statuses = [], [], [], []
    slowest: dict[str, float] = {}
    bookers = iter(f["bookers"])
    for i in range(warmup + n):
        log = QueryLog()
        if method == "post":
            # A new employee each time; rolled back, so the database stays as seeded.
            client.force_login(User.objects.get(pk=next(bookers)))
            with transaction.atomic():
                with connection.execute_wrapper(log):
                    started = time.perf_counter()
                    response = client.post(spec["path"], **spec.get("headers", {}))
                    elapsed = (time.perf_counter() - started) * 1000
                transaction.set_rollback(True)
        else:
            with connection.execute_wrapper(log):
                started = time.perf_counter()
                response = client.get(spec["path"], **spec.get("headers", {}))
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
                elapsed = (time.perf_counter() - started) * 1000
        if i < warmup:
            continue
        times.append(elapsed)
        counts.append(len(log.statements))
        sql_ms.append(sum(ms for ms, _ in log.statements))
        statuses.append(response.status_code)
        for ms, sql in log.statements:
            slowest[sql] = max(slowest.get(sql, 0), ms)
    return {
        "name": spec["name"],
        "median": statistics.median(times),
        "p95": percentile(times, 0.95),
        "queries": max(counts),
        "queries_min": min(counts),
        "sql_median": statistics.median(sql_ms),
        "bad": sum(1 for s in statuses if s != expected),
        "status": sorted(set(statuses)),
        "slowest": sorted(slowest.items(), key=lambda item: -item[1])[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=20, help="timed requests per endpoint (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests first (default 2)")
    parser.add_argument("--only", action="append", default=[], help="endpoints whose name contains this")
    parser.add_argument("--exact", action="store_true", help="--only names whole endpoint names")
    parser.add_argument("--no-header", action="store_true", help="print the result rows only")
    parser.add_argument("--sql", action="store_true", help="print each endpoint's slowest statements")
    args = parser.parse_args()

    fixtures = pick_fixtures()
    header = f"{'endpoint':38} {'median ms':>10} {'p95 ms':>8} {'SQL ms':>8} {'queries':>8}  status"
    if not args.no_header:
        print(
            f"database {connection.settings_dict['NAME']}; employee #{fixtures['employee'].pk}; "
            f"street #{fixtures['street'].pk}; event #{fixtures['event'].pk} "
            f"({fixtures['event_bookings']} bookings); bookable #{fixtures['bookable'].pk}; "
            f"n={args.n}, warmup={args.warmup}"
        )
        print(header)
        print("-" * len(header))
    try:
        for spec in endpoints(fixtures):
            if args.only and not any(
                word == spec["name"] if args.exact else word in spec["name"] for word in args.only
            ):
                continue
            r = run_one(spec, fixtures, args.n, args.warmup)
            queries = (
                str(r["queries"])
                if r["queries"] == r["queries_min"]
                else f"{r['queries_min']}-{r['queries']}"
            )
            flag = "" if not r["bad"] else f"  {r['bad']} unexpected"
            print(
                f"{r['name']:38} {r['median']:10.1f} {r['p95']:8.1f} {r['sql_median']:8.1f} {queries:>8}  "
                f"{','.join(map(str, r['status']))}{flag}",
                flush=True,
            )
            if args.sql:
                for sql, ms in r["slowest"]:
                    print(f"    {ms:8.1f} ms  {sql[:1500]}")
    finally:
        from members.models import ApiToken

        ApiToken.objects.filter(name="profile_endpoints").delete()


if __name__ == "__main__":
    main()
