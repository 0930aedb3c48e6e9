#!/usr/bin/env python
"""City-scale benchmark: the portal as production runs it, under load, on the whole city's data.

Run it as ``bench/run`` (which makes the venv first); see bench/README.md. In short:

1. the database ``<DATABASE_URL's name>_bench_city`` (or ``portal_bench_city`` on the embedded
   PostgreSQL) is migrated and, the first time or with ``--reseed``, filled with
   ``seed_demo --scale city`` and ``VACUUM ANALYZE``d; it is kept for later runs;
2. its own redis-server on a free port, a Celery worker and gunicorn (``config/gunicorn.conf.py``:
   several gthread workers) start with the production settings, on loopback only;
3. ``bench/load.py``, in a second process, drives each endpoint for ``--seconds`` with 1 and
   with 8 keep-alive clients after a warm-up, and measures the baseline view the same way;
4. 200 employees race for the 50 seats of a new event (``POST /api/v1/events/{id}/bookings/``),
   each booking saying how long it held the event's lock (``X-Lock-Hold-Ms``); then they race
   for a second event while 200 clients reload its page (issue 19);
5. every event in the database is checked: confirmed bookings ≤ seats;
6. optionally (default on) ``bench/reminders.py`` times 10,000 reminders;
7. the table, the targets met or not, and the machine's facts are printed (``--json FILE`` too).

Exit status: 0 when the harness ran, nothing was overbooked and no request got a 5xx; 1
otherwise (latency and throughput targets missed are reported, not fatal); 2 for bad usage.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (after the path is set)
from bench.load import Client, Request, cookie_header, cookies_from, percentile  # noqa: E402

PASSWORD = "demo12345"  # the demo logins' password (demo/identifiers.py)
RACER_PREFIX = "bench_racer_"
BENCH_SPACE = "压测活动室"
# Every request says it came over HTTPS, as nginx does in production (deploy/nginx.conf sets
# X-Forwarded-Proto and the settings trust it behind the proxy); without it the production
# settings would answer each plain-HTTP request with a redirect to https://.
BASE_HEADERS = {"Host": common.HOST, "X-Forwarded-Proto": "https", "Accept-Language": "zh-hans"}
# Targets from issue 6.
P95_TARGET_MS = 100.0
COVERAGE_TARGET_MS = 200.0
RATIO_TARGET = 0.30
REMINDERS_TARGET_S = 60.0
# Targets from issue 19 (the rush at noon), ratios against the baseline at 8 clients.
RACE_P95_TARGET_MS = 1000.0
RACE_RATIO_TARGET = 0.15
ISSUE19_RATIOS = {"event_page": 0.4, "event_list": 0.2, "buildings": 0.2, "party_members": 0.2}
REFRESHERS = 200  # people refreshing the event page during the second race
LOCK_HOLD_HEADER = "X-Lock-Hold-Ms"  # core/bench.py
# What scenarios() measures, for --only; the *_city ones only with --citywide (or --only).
SCENARIO_KEYS = [
    "baseline",
    "event_list",
    "event_page",
    "buildings",
    "party_members",
    "coverage",
    "activity",
    "admin_members",
    "demands",
    "demand_stats",
    "admin_demands",
    "coverage_city",
    "activity_city",
]


@dataclass
class Scenario:
    key: str
    label: str
    path: str
    headers: dict = field(default_factory=dict)
    p95_target_ms: float | None = P95_TARGET_MS


@dataclass
class Row:
    key: str
    label: str
    clients: int
    result: dict
    ratio: float | None = None


# --- the database --------------------------------------------------------------------------------


def base_database_url() -> str:
    """``DATABASE_URL``, else the embedded PostgreSQL's (started if needed) as a URL."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from config.embedded import embedded_database

    db = embedded_database()
    return f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}/{db['NAME']}"


def prepare_database(base_url: str, db_url: str, db_name: str, *, reseed: bool) -> dict:
    """Migrate the bench database; seed the city into it when it is new, empty or ``reseed``."""
    fresh = reseed or not common.database_exists(base_url, db_name)
    if fresh:
        common.log(f"database {db_name}: {'re-creating' if reseed else 'creating'}")
        common.create_database(base_url, db_name, replace=True)
    os.environ.update(DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="config.settings.development")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from buildings.models import Building
    from demo.city import CITY_TARGETS

    common.log(f"database {db_name}: migrating")
    call_command("migrate", interactive=False, verbosity=0)
    info: dict = {"database": db_name, "seeded_now": False, "seed_seconds": None}
    if Building.objects.count() < CITY_TARGETS["buildings"]:
        common.log("seeding the city (seed_demo --scale city; about 2 minutes, once; kept for later runs)")
        started = time.monotonic()
        call_command("seed_demo", scale="city", verbosity=1)
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        info.update(seeded_now=True, seed_seconds=round(time.monotonic() - started, 1))
        common.log(f"  seeded and vacuumed in {info['seed_seconds']} s")
    else:
        common.log(f"database {db_name}: city data present (--reseed to start again)")
    return info


def data_counts() -> dict[str, int]:
    from demo.small import demo_counts

    counts = demo_counts()
    return {
        k: counts[k] for k in ("buildings", "party_members", "users", "events", "bookings") if k in counts
    }


def pick_fixtures(*, racers: int, seats: int) -> dict:
    """Ids, API keys and the race event the scenarios need, written to the bench database."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from members.models import User
    from members.tokens import issue_token
    from services.models import Event, Space

    now = timezone.now()
    jingan = User.objects.get(username="jingan")
    shegong = User.objects.get(username="shegong")
    zhangwei = User.objects.select_related("building__street").get(username="zhangwei")
    street = shegong.streets.filter(district_id=jingan.district_id).order_by("pk").first()
    if street is None:
        raise SystemExit("the social worker shegong has no street in jingan's district: reseed")
    # An event page as employees open it: the next published event in zhangwei's building.
    event = (
        Event.objects.filter(
            status=Event.Status.PUBLISHED,
            starts_at__gt=now,
            space__station__building=zhangwei.building,
        )
        .exclude(space__name=BENCH_SPACE)
        .order_by("starts_at", "pk")
        .first()
    ) or Event.objects.filter(status=Event.Status.PUBLISHED, starts_at__gt=now).order_by("starts_at").first()
    if event is None:
        raise SystemExit("no upcoming published event in the bench database: reseed")
    _district_token, district_key = issue_token(user=jingan, name="bench/run")
    city_key = issue_token(user=User.objects.get(username="admin"), name="bench/run city")[1]

    # The race: a new event with ``seats`` seats (default waitlist of 50) in the bench's own room,
    # after the last race; ``racers`` employees, each with an API key.
    station = zhangwei.building.stations.order_by("pk").first()
    with transaction.atomic():
        space, _ = Space.objects.get_or_create(
            station=station,
            name=BENCH_SPACE,
            defaults={"function": Space.Function.ACTIVITY_ROOM, "capacity": seats},
        )
        if space.capacity < seats:
            Space.objects.filter(pk=space.pk).update(capacity=seats)
            space.capacity = seats
        last = (
            Event.objects.filter(space=space).order_by("-ends_at").values_list("ends_at", flat=True).first()
        )
        starts = max(now + datetime.timedelta(days=3), last or now).replace(minute=0, second=0, microsecond=0)
        starts += datetime.timedelta(hours=1)
        race = Event(
            space=space,
            title=f"压测：{racers} 人抢 {seats} 个名额",
            **common.open_event_fields(starts=starts, capacity=seats, now=now),
        )
        race.full_clean()
        race.save()
        # The second race, while 200 people refresh its page (issue 19): three hours later.
        rush = Event(
            space=space,
            title=f"压测：{racers} 人抢 {seats} 个名额，{REFRESHERS} 人刷新页面",
            **common.open_event_fields(starts=starts + datetime.timedelta(hours=3), capacity=seats, now=now),
        )
        rush.full_clean()
        rush.save()
        names = [f"{RACER_PREFIX}{i:04d}" for i in range(racers)]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        password = make_password(None)
        User.objects.bulk_create(
            User(
                username=name,
                email=f"{name}@example.com",
                password=password,
                building=zhangwei.building,
            )
            for name in names
            if name not in existing
        )
    racer_keys = [
        issue_token(user=user, name="bench/run race")[1]
        for user in User.objects.filter(username__in=names).order_by("username")
    ]
    return {
        "district_key": district_key,
        "city_key": city_key,
        "street_id": street.pk,
        "street_name": street.name,
        "event_id": event.pk,
        "race_event_id": race.pk,
        "rush_event_id": rush.pk,
        "race_seats": seats,
        "racer_keys": racer_keys,
    }


def revoke_bench_tokens() -> int:
    """Revoke the keys this and earlier runs issued (they are printed nowhere, but still)."""
    from django.utils import timezone

    from members.models import ApiToken

    return ApiToken.objects.filter(name__startswith="bench/run", revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def overbooking_check() -> dict:
    """Events whose confirmed bookings (confirmed, attended, no-show: seats taken) exceed their seats."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM services_event")
        events = cur.fetchone()[0]
        cur.execute(
            """
            SELECT e.id, e.capacity, count(b.id)
            FROM services_event e
            JOIN services_booking b
              ON b.event_id = e.id AND b.status IN ('confirmed', 'attended', 'no_show')
            GROUP BY e.id, e.capacity
            HAVING count(b.id) > e.capacity
            ORDER BY e.id
            """
        )
        over = cur.fetchall()
    return {"events_checked": events, "overbooked": len(over), "examples": over[:5]}


def race_outcome(event_id: int) -> dict:
    from services.models import Booking

    rows = Booking.objects.filter(event_id=event_id).values_list("status", flat=True)
    counts: dict[str, int] = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return cur.fetchone()[0]


# --- the servers ---------------------------------------------------------------------------------


def start_servers(db_url: str, tmp: Path, args, procs: list) -> tuple[int, dict]:
    """redis-server, a Celery worker and gunicorn with the production settings, added to ``procs``
    as they start (so that a failure stops what did start); returns the port and facts."""
    redis, redis_url = common.start_redis()
    procs.append(redis)
    env = common.production_env(
        database_url=db_url,
        redis_url=redis_url,
        # The two benchmark switches (core/bench.py): X-Query-Count and GET /bench/baseline.
        PORTAL_QUERY_COUNT_HEADER="1",
        PORTAL_BENCH="1",
        # One district key sends thousands of requests a minute here; the throttle still runs
        # (a Redis round trip per request, as in production), its limit is only raised.
        API_TOKEN_RATE="1000000/min",
        API_USER_RATE="1000000/min",
        # Confirmations of the race's bookings go to memory, not to an SMTP server.
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        STATIC_ROOT=str(ROOT / "var" / "bench-static"),
    )
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
    manage = [sys.executable, str(ROOT / "manage.py")]
    common.log("collectstatic (the production settings serve hashed static files through whitenoise)")
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    worker = common.start_celery_worker(env, tmp / "worker.log", concurrency=2, name="bench-city")
    procs.append(worker)
    port = common.free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    web_log = tmp / "gunicorn.log"
    with open(web_log, "wb") as out:
        web = subprocess.Popen(
            [common.venv_bin("gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    procs.append(web)
    common.wait_for_log(web, web_log, "Booting worker", "gunicorn")
    client = Client("127.0.0.1", port, BASE_HEADERS)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.send(Request("GET", "/healthz")).status == 200:
                break
        except OSError:
            pass
        if web.poll() is not None or time.monotonic() > deadline:
            print(web_log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise SystemExit("gunicorn did not answer /healthz with 200")
        time.sleep(0.2)
    client.close()
    facts = {
        "gunicorn_workers": int(env.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2 + 1)),
        "gunicorn_threads": int(env.get("GUNICORN_THREADS", 4)),
        "celery_concurrency": 2,
    }
    return port, facts


def login(port: int, *, login_path: str, username: str) -> str:
    """Log in through a login form (GET for the CSRF cookie and token, then POST); the Cookie header."""
    client = Client("127.0.0.1", port, BASE_HEADERS)
    page = client.send(Request("GET", login_path))
    jar = cookies_from(page)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if page.status != 200 or not match or "csrftoken" not in jar:
        raise SystemExit(f"{login_path}: no login form (HTTP {page.status})")
    body = urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "username": username, "password": PASSWORD}
    )
    reply = client.send(
        Request(
            "POST",
            login_path,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie_header(jar),
                # HTTPS requests need a matching Origin (or Referer) for Django's CSRF check.
                "Origin": f"https://{common.HOST}",
                "Referer": f"https://{common.HOST}{login_path}",
            },
            body,
        )
    )
    client.close()
    jar.update(cookies_from(reply))
    if reply.status != 302 or "sessionid" not in jar:
        raise SystemExit(f"{username} could not log in at {login_path} (HTTP {reply.status})")
    return cookie_header(jar)


# --- load ----------------------------------------------------------------------------------------


def run_load(job: dict) -> dict:
    """One job in the load generator's own process (bench/load.py)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=job.get("seconds", 0) + job.get("warmup", 0) + 300,
    )
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit("the load generator failed")
    return json.loads(proc.stdout)


def scenarios(fx: dict, employee: str, social_worker: str) -> list[Scenario]:
    token = {"Authorization": f"Token {fx['district_key']}", "Accept": "application/json"}
    city = {"Authorization": f"Token {fx['city_key']}", "Accept": "application/json"}
    html_employee = {"Cookie": employee, "Accept": "text/html"}
    return [
        Scenario("baseline", "baseline: GET /bench/baseline", "/bench/baseline", p95_target_ms=None),
        Scenario("event_list", "portal event list / (employee)", "/", html_employee),
        Scenario(
            "event_page", f"event page /events/{fx['event_id']}/", f"/events/{fx['event_id']}/", html_employee
        ),
        Scenario("buildings", "GET /api/v1/buildings/ (district key)", "/api/v1/buildings/", token),
        Scenario(
            "party_members",
            f"GET /api/v1/party-members/?street={fx['street_id']} (district key)",
            f"/api/v1/party-members/?street={fx['street_id']}",
            token,
        ),
        Scenario(
            "coverage",
            "GET /api/v1/stats/coverage/ (district key)",
            "/api/v1/stats/coverage/",
            token,
            p95_target_ms=COVERAGE_TARGET_MS,
        ),
        Scenario("activity", "GET /api/v1/stats/activity/ (district key)", "/api/v1/stats/activity/", token),
        Scenario(
            "admin_members",
            "admin member list (social worker)",
            "/admin/members/partymember/",
            {"Cookie": social_worker, "Accept": "text/html"},
        ),
        # The committee's work (issue 16): the demand list and figures, the admin's demand list.
        Scenario("demands", "GET /api/v1/demands/ (district key)", "/api/v1/demands/", token),
        Scenario(
            "demand_stats", "GET /api/v1/stats/demands/ (district key)", "/api/v1/stats/demands/", token
        ),
        Scenario(
            "admin_demands",
            "admin demand list (social worker)",
            "/admin/committees/demand/",
            {"Cookie": social_worker, "Accept": "text/html"},
        ),
        # With --citywide: the statistics for the whole city (the superuser's key), the heaviest.
        Scenario(
            "coverage_city",
            "GET /api/v1/stats/coverage/ (city key)",
            "/api/v1/stats/coverage/",
            city,
            p95_target_ms=COVERAGE_TARGET_MS,
        ),
        Scenario("activity_city", "GET /api/v1/stats/activity/ (city key)", "/api/v1/stats/activity/", city),
    ]


def timed_job(port: int, item: Scenario, *, clients: int, seconds: float, warmup: float) -> dict:
    return run_load(
        {
            "mode": "timed",
            "host": "127.0.0.1",
            "port": port,
            "headers": BASE_HEADERS,
            "requests": [{"path": item.path, "headers": item.headers}],
            "clients": clients,
            "seconds": seconds,
            "warmup": warmup,
        }
    )


def measure(port: int, items: list[Scenario], levels: list[int], seconds: float) -> list[Row]:
    for item in items:
        # Warm every worker process and thread (imports, templates, database connections).
        warm = timed_job(port, item, clients=16, seconds=1.5, warmup=0)
        if warm["requests"] == 0:
            raise SystemExit(f"{item.label}: every warm-up request failed: {warm['error_samples']}")
    rows: list[Row] = []
    for clients in levels:
        for item in items:
            common.log(f"{item.label}: {clients} client{'s' if clients > 1 else ''}, {seconds:g} s")
            result = timed_job(
                port, item, clients=clients, seconds=seconds, warmup=min(2.0, max(seconds / 10, 0.5))
            )
            rows.append(Row(item.key, item.label, clients, result))
    base = {row.clients: row.result["rps"] for row in rows if row.key == "baseline"}
    for row in rows:
        if base.get(row.clients):
            row.ratio = row.result["rps"] / base[row.clients]
    return rows


def booking_race(port: int, fx: dict, threads: int, *, event_key: str = "race_event_id") -> dict:
    path = f"/api/v1/events/{fx[event_key]}/bookings/"
    requests = [
        {
            "method": "POST",
            "path": path,
            "headers": {"Authorization": f"Token {key}", "Accept": "application/json"},
        }
        for key in fx["racer_keys"]
    ]
    common.log(f"booking race: {len(requests)} employees, {fx['race_seats']} seats, {threads} threads")
    race = run_load(
        {
            "mode": "once",
            "host": "127.0.0.1",
            "port": port,
            "headers": BASE_HEADERS,
            "requests": requests,
            "clients": threads,
            "expect": [201, 409],
            # How long each booking held the event's row lock (the engine, core/bench.py).
            "collect_headers": [LOCK_HOLD_HEADER],
        }
    )
    holds = sorted(race.get("headers", {}).get(LOCK_HOLD_HEADER, []))
    race["lock_hold"] = {
        "bookings": len(holds),
        "p50_ms": percentile(holds, 50) if holds else None,
        "p95_ms": percentile(holds, 95) if holds else None,
        "max_ms": holds[-1] if holds else None,
    }
    race["requests_sent"] = len(requests)
    race["server_errors"] = server_errors(race["statuses"])
    race["outcome"] = race_outcome(fx[event_key])
    race["waitlist_order"] = waitlist_order_check(fx[event_key])
    return race


def rush(port: int, fx: dict, threads: int, employee: str, refreshers: int) -> tuple[dict, dict]:
    """The second race while ``refreshers`` clients reload its event page, as browsers do (each
    sends back the ETag of its last page). Returns (race, refreshers' result)."""
    path = f"/events/{fx['rush_event_id']}/"
    window = 8.0
    job = {
        "mode": "timed",
        "host": "127.0.0.1",
        "port": port,
        "headers": BASE_HEADERS,
        "requests": [{"path": path, "headers": {"Cookie": employee, "Accept": "text/html"}}],
        "clients": refreshers,
        "seconds": window,
        "warmup": 1.0,
        "expect": [200, 304],
        "revalidate": True,
    }
    common.log(f"rush: {refreshers} clients refresh {path} while the second race runs")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "load.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdin.write(json.dumps(job))
    proc.stdin.close()
    time.sleep(2.0)  # the refreshers are connected and past their warm-up
    race = booking_race(port, fx, threads, event_key="rush_event_id")
    out = proc.stdout.read()
    err = proc.stderr.read()
    if proc.wait(timeout=window + 120) != 0:
        print(err[-3000:], file=sys.stderr)
        raise SystemExit("the refreshers' load generator failed")
    return race, json.loads(out)


def waitlist_order_check(event_id: int) -> dict:
    """First come, first served: no waitlisted booking of the event came before a confirmed one
    in the waitlist's order (created_at, id)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT count(*) FROM services_booking w JOIN services_booking c
              ON c.event_id = w.event_id AND c.status = 'confirmed'
             WHERE w.event_id = %s AND w.status = 'waitlisted'
               AND (w.created_at, w.id) < (c.created_at, c.id)
            """,
            [event_id],
        )
        inversions = cur.fetchone()[0]
    return {"event": event_id, "inversions": inversions, "exact": inversions == 0}


def run_reminders(base_url: str) -> dict:
    common.log("reminders: bench/reminders.py (10,000 reminders through a Celery worker)")
    env = {**os.environ, "DATABASE_URL": base_url}
    env.pop("DEBUG", None)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "reminders.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    found = re.search(r"^time:\s+([\d.]+) s", proc.stdout, re.M)
    sent = re.search(r"^reminders sent:\s+(\d+) of (\d+)", proc.stdout, re.M)
    once = re.search(r"^exactly once:\s+(\S+)", proc.stdout, re.M)
    if proc.returncode != 0 or not found:
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
    return {
        "ok": proc.returncode == 0 and bool(found),
        "seconds": float(found.group(1)) if found else None,
        "sent": int(sent.group(1)) if sent else None,
        "count": int(sent.group(2)) if sent else None,
        "exactly_once": once.group(1) == "yes" if once else None,
    }


# --- report --------------------------------------------------------------------------------------


def _ms(value) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def _queries(result: dict) -> str:
    mean, top = result.get("queries_mean"), result.get("queries_max")
    if mean is None:
        return "—"
    return f"{top}" if abs(mean - top) < 0.05 else f"{mean:.1f} (max {top})"


def print_table(rows: list[Row], tail: list[tuple[str, dict, float | None]]) -> None:
    """The table: the endpoints' rows, then ``tail`` (label, result, ratio): the races and the
    refreshers."""
    header = [
        "endpoint",
        "clients",
        "rps",
        "×baseline",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "queries/req",
    ]

    def line(label: str, r: dict, ratio: float | None) -> list[str]:
        return [
            label,
            str(r["clients"]),
            f"{r['rps']:.1f}",
            "—" if ratio is None else f"{ratio:.2f}",
            _ms(r["p50_ms"]),
            _ms(r["p95_ms"]),
            _ms(r["p99_ms"]),
            str(r["errors"]),
            _queries(r),
        ]

    lines = [line(row.label, {**row.result, "clients": row.clients}, row.ratio) for row in rows]
    groups = [row.clients for row in rows]
    for label, result, ratio in tail:
        lines.append(line(label, result, ratio))
        groups.append("tail")
    widths = [max(_width(cells[i]) for cells in [header, *lines]) for i in range(len(header))]

    def fmt(cells):
        out = [cells[0] + " " * (widths[0] - _width(cells[0]))]
        out += [" " * (widths[i] - _width(cell)) + cell for i, cell in enumerate(cells[1:], start=1)]
        return " | ".join(out)

    print()
    print(fmt(header))
    print("-+-".join("-" * w for w in widths))
    previous = None
    for cells, group in zip(lines, groups, strict=True):
        if previous is not None and group != previous:
            print("-+-".join("-" * w for w in widths))
        previous = group
        print(fmt(cells))


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def check_targets(rows: list[Row], items: list[Scenario], race: dict | None, check: dict, reminders) -> list:
    targets = []
    wanted = {item.key: item for item in items}
    for row in rows:
        item = wanted[row.key]
        if row.clients == 1 and item.p95_target_ms is not None:
            p95 = row.result["p95_ms"]
            targets.append(
                (
                    f"{item.label}: p95 < {item.p95_target_ms:g} ms at 1 client",
                    f"{p95:.1f} ms",
                    p95 < item.p95_target_ms,
                )
            )
        if row.clients > 1 and row.key != "baseline" and row.ratio is not None:
            targets.append(
                (
                    f"{item.label}: ≥ {RATIO_TARGET:.0%} of baseline rps at {row.clients} clients",
                    f"{row.ratio:.2f}",
                    row.ratio >= RATIO_TARGET,
                )
            )
    if race is not None:
        targets.append(
            (
                "bookings: no overbooking (every event)",
                f"{check['overbooked']} of {check['events_checked']:,}",
                check["overbooked"] == 0,
            )
        )
        fives = race["server_errors"]
        targets.append(("bookings: no 5xx", str(fives), fives == 0))
    if reminders is not None:
        seconds = reminders["seconds"]
        targets.append(
            (
                f"10,000 reminders sent in < {REMINDERS_TARGET_S:g} s",
                "failed" if seconds is None else f"{seconds:.1f} s",
                bool(reminders["ok"] and seconds is not None and seconds < REMINDERS_TARGET_S),
            )
        )
    return targets


def issue19_targets(
    rows: list[Row], race: dict, rush_race: dict, refreshers: dict, check, reminders, ratio
) -> list:
    """Issue 19's targets: the race fast, the refreshed pages cheap, every answer still exact."""
    targets = []
    for name, r in (
        ("booking race", race),
        (f"booking race while {refreshers['clients']} refresh", rush_race),
    ):
        targets.append(
            (
                f"{name}: p95 ≤ {RACE_P95_TARGET_MS:g} ms",
                f"{r['p95_ms']:.1f} ms",
                r["p95_ms"] <= RACE_P95_TARGET_MS,
            )
        )
        value = ratio(r)
        targets.append(
            (
                f"{name}: ≥ {RACE_RATIO_TARGET:.2f} × baseline rps (8 clients)",
                "—" if value is None else f"{value:.2f}",
                value is not None and value >= RACE_RATIO_TARGET,
            )
        )
    for row in rows:
        want = ISSUE19_RATIOS.get(row.key)
        if want is not None and row.clients > 1 and row.ratio is not None:
            targets.append(
                (
                    f"{row.label}: ≥ {want:.2f} × baseline at {row.clients} clients",
                    f"{row.ratio:.2f}",
                    row.ratio >= want,
                )
            )

    def p95_target(row: Row) -> float:
        return COVERAGE_TARGET_MS if row.key.startswith("coverage") else P95_TARGET_MS

    slow = [r for r in rows if r.clients == 1 and r.key != "baseline" and r.result["p95_ms"] >= p95_target(r)]
    targets.append(
        ("every read: p95 < 100 ms at 1 client (coverage 200 ms)", f"{len(slow)} missed", not slow)
    )
    targets.append(
        (
            "bookings: no overbooking (every event)",
            f"{check['overbooked']} of {check['events_checked']:,}",
            check["overbooked"] == 0,
        )
    )
    fives = race["server_errors"] + rush_race["server_errors"] + server_errors(refreshers.get("statuses", {}))
    fives += sum(server_errors(row.result.get("statuses", {})) for row in rows)
    targets.append(("no 5xx (races, refreshers, every endpoint)", str(fives), fives == 0))
    exact = race["waitlist_order"]["exact"] and rush_race["waitlist_order"]["exact"]
    targets.append(("waitlist order exact (both races)", "exact" if exact else "NOT exact", exact))
    if reminders is not None:
        once = bool(reminders["ok"] and reminders["exactly_once"])
        targets.append(("reminders exactly once", str(reminders["exactly_once"]), once))
    return targets


def server_error_lines(web_log: str) -> list[str]:
    """The distinct errors in gunicorn's log (JSON lines): message and the exception's last line."""
    seen: dict[str, None] = {}
    for line in web_log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("level") in {"ERROR", "CRITICAL"} and record.get("traceback"):
            raised = re.findall(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit)\b.*$", record["traceback"], re.M)
            last = raised[-1] if raised else record["traceback"].strip().splitlines()[-1]
            seen.setdefault(f"{record.get('message')}: {last}", None)
    return list(seen)


def server_errors(statuses: dict) -> int:
    return sum(n for status, n in statuses.items() if status.isdigit() and int(status) >= 500)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per endpoint and level")
    parser.add_argument("--clients", type=int, default=8, help="the concurrent level (besides 1 client)")
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the config's 2 × cores + 1)")
    parser.add_argument("--threads", type=int, help="threads per gunicorn worker (default: the config's 4)")
    parser.add_argument("--racers", type=int, default=200)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--race-threads", type=int, default=48)
    parser.add_argument(
        "--refreshers",
        type=int,
        default=REFRESHERS,
        help="clients refreshing the page during the second race",
    )
    parser.add_argument(
        "--citywide", action="store_true", help="also the statistics for the whole city (superuser key)"
    )
    parser.add_argument("--no-reminders", action="store_true", help="skip the 10,000-reminder benchmark")
    parser.add_argument("--only", help="comma-separated scenario keys (baseline always runs)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.seconds <= 0 or args.clients < 1 or args.racers < 1 or args.seats < 1:
        parser.error("--seconds, --clients, --racers and --seats must be positive")

    keep = {key for key in SCENARIO_KEYS if args.citywide or not key.endswith("_city")}
    if args.only:
        keep = {"baseline", *args.only.split(",")}
        unknown = keep - set(SCENARIO_KEYS)
        if unknown:
            parser.error(
                f"unknown scenario(s): {', '.join(sorted(unknown))}; known: {', '.join(SCENARIO_KEYS)}"
            )

    started = time.monotonic()
    facts: dict = {
        "cores": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "started_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    base_url = base_database_url()
    db_url, db_name = common.database_beside(base_url, "bench_city")
    seed_info = prepare_database(base_url, db_url, db_name, reseed=args.reseed)
    import django
    from django.db import connections

    facts.update(
        postgresql=postgres_version(),
        django=django.get_version(),
        data=data_counts(),
        seed=seed_info,
    )
    fx = pick_fixtures(racers=args.racers, seats=args.seats)
    connections.close_all()

    tmp = Path(tempfile.mkdtemp(prefix="bench-city-"))
    procs: list = []
    rows: list[Row] = []
    race = rush_race = refreshers = None
    try:
        port, server_facts = start_servers(db_url, tmp, args, procs)
        facts.update(server_facts)
        common.log(
            f"gunicorn on 127.0.0.1:{port}: {server_facts['gunicorn_workers']} workers × {server_facts['gunicorn_threads']} threads"
        )
        employee = login(port, login_path="/accounts/login/", username="zhangwei")
        social_worker = login(port, login_path="/admin/login/", username="shegong")
        items = [item for item in scenarios(fx, employee, social_worker) if item.key in keep]
        levels = sorted({1, args.clients})
        rows = measure(port, items, levels, args.seconds)
        race = booking_race(port, fx, args.race_threads)
        rush_race, refreshers = rush(port, fx, args.race_threads, employee, args.refreshers)
        common.stop_group(procs.pop())  # gunicorn first: nothing writes while the check reads
        web_log = (tmp / "gunicorn.log").read_text(errors="replace")
        # gunicorn recycles a worker after max_requests (config/gunicorn.conf.py), as in production.
        facts["gunicorn_worker_restarts"] = max(
            web_log.count("Booting worker") - facts["gunicorn_workers"], 0
        )
        check = overbooking_check()
    finally:
        common.stop_all(procs)
    revoked = revoke_bench_tokens()
    connections.close_all()
    reminders = None if args.no_reminders else run_reminders(base_url)
    facts["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    facts["total_seconds"] = round(time.monotonic() - started, 1)

    base8 = next((r.result["rps"] for r in rows if r.key == "baseline" and r.clients == args.clients), None)

    def ratio(result):
        return result["rps"] / base8 if base8 else None

    tail = [
        (f"POST /api/v1/events/{{id}}/bookings/ ({race['requests_sent']} users race)", race, ratio(race)),
        (
            f"  the same race while {args.refreshers} refresh its page",
            rush_race,
            ratio(rush_race),
        ),
        (
            f"GET /events/{{id}}/ during that race ({args.refreshers} clients, reloading)",
            refreshers,
            ratio(refreshers),
        ),
    ]
    print_table(rows, tail)
    refresher_fives = server_errors(refreshers.get("statuses", {}))
    fives = (
        sum(server_errors(row.result.get("statuses", {})) for row in rows)
        + race["server_errors"]
        + rush_race["server_errors"]
        + refresher_fives
    )
    samples = list(dict.fromkeys(s for row in rows for s in row.result.get("error_samples", [])))
    for name, r, event_key in (
        ("booking race", race, "race_event_id"),
        ("rush race", rush_race, "rush_event_id"),
    ):
        body = r.get("body_statuses", {})
        hold = r["lock_hold"]
        print(
            f"{name}: {r['requests_sent']} users, {fx['race_seats']} seats, {r['clients']} threads, "
            f"{r['seconds']:.2f} s: "
            f"201 confirmed {body.get('confirmed', 0)}, 201 waitlisted {body.get('waitlisted', 0)}, "
            f"409 {r['statuses'].get('409', 0)}, 5xx {r['server_errors']}, "
            f"other {r['errors'] - r['server_errors']}"
        )
        print(
            f"  event lock held per booking ({hold['bookings']} bookings, {LOCK_HOLD_HEADER}): "
            f"p50 {_ms(hold['p50_ms'])} ms, p95 {_ms(hold['p95_ms'])} ms, max {_ms(hold['max_ms'])} ms"
        )
        print(
            f"  in the database for event {fx[event_key]}: {r['outcome']}; waitlist order "
            f"{'exact' if r['waitlist_order']['exact'] else 'NOT exact'} "
            f"({r['waitlist_order']['inversions']} waitlisted before a confirmed booking)"
        )
    statuses = refreshers.get("statuses", {})
    print(
        f"refreshers: {args.refreshers} clients reloading /events/{fx['rush_event_id']}/ for "
        f"{refreshers['seconds']:.0f} s around the rush race: 200 {statuses.get('200', 0)}, "
        f"304 {statuses.get('304', 0)}, other {sum(n for k, n in statuses.items() if k not in ('200', '304'))}"
    )
    print(
        f"overbooking check (confirmed + attended + no-show ≤ capacity, every event): "
        f"{check['events_checked']:,} events, {check['overbooked']} overbooked"
        + (f" e.g. {check['examples']}" if check["overbooked"] else "")
    )
    if reminders is not None:
        print(
            f"reminders: {reminders['sent']} of {reminders['count']} sent in {reminders['seconds']} s, "
            f"exactly once: {reminders['exactly_once']}"
        )
    if samples:
        print("error samples:")
        for sample in samples[:10]:
            print(f"  {sample}")
    if fives:
        print(f"5xx answers: {fives}; what the server logged:")
        for line in server_error_lines(web_log)[:5]:
            print(f"  {line}")

    targets = check_targets(rows, items, race, check, reminders)
    rush_targets = issue19_targets(rows, race, rush_race, refreshers, check, reminders, ratio)
    width = max(_width(name) for name, _, _ in targets + rush_targets)
    for title, listed in (
        ("targets (issue 6):", targets),
        ("targets (issue 19, the rush at noon):", rush_targets),
    ):
        print()
        print(title)
        for name, value, met in listed:
            print(f"  {name}{' ' * (width - _width(name))}  {value:>14}  {'met' if met else 'NOT met'}")

    print()
    data = ", ".join(f"{k} {v:,}" for k, v in facts["data"].items())
    print(
        f"machine: {facts['cores']} cores; load average at start {facts['load_average_start']}, "
        f"at end {facts['load_average_end']}; PostgreSQL {facts['postgresql']}; "
        f"Python {facts['python']}; Django {facts['django']}"
    )
    print(
        f"server: gunicorn {facts['gunicorn_workers']} workers × {facts['gunicorn_threads']} threads (gthread), "
        f"{facts['gunicorn_worker_restarts']} worker restarts (max_requests); "
        f"Celery worker concurrency {facts['celery_concurrency']}, Redis on loopback; "
        f"load generator: bench/load.py in its own process"
    )
    print(f"data ({db_name}): {data}")
    seed = facts["seed"]
    if seed["seeded_now"]:
        print(f"seeded in this run: {seed['seed_seconds']} s (not counted below)")
    measured = facts["total_seconds"] - (seed["seed_seconds"] or 0)
    print(f"run time: {measured:.0f} s (bench API keys revoked: {revoked})")

    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "facts": facts,
                    "rows": [asdict(row) for row in rows],
                    "race": race,
                    "rush_race": rush_race,
                    "refreshers": refreshers,
                    "overbooking": check,
                    "reminders": reminders,
                    "targets": [{"target": n, "value": v, "met": m} for n, v, m in targets + rush_targets],
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
        print(f"figures written to {args.json}")

    ok = check["overbooked"] == 0 and fives == 0
    ok = ok and race["errors"] == race["server_errors"] == 0 and rush_race["errors"] == 0
    ok = ok and race["waitlist_order"]["exact"] and rush_race["waitlist_order"]["exact"]
    ok = ok and (reminders is None or reminders["ok"])
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"FAILED: see above; the servers' logs are in {tmp}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
