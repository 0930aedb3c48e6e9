#!/usr/bin/env python
"""CPU per request of the rush's paths, in-process, with the production settings (issue 19).

A developer's tool beside ``bench/run``: where ``profile_endpoints.py`` times requests, this
one counts the **CPU time of this process** per request (``time.thread_time``: Python, the
drivers, the template engine — not PostgreSQL's or Redis's own work, which run in other
processes), which is what bounds the web workers once the machine's cores are busy. With
``--cprofile`` it also prints where that CPU goes (``cProfile``, the functions with the most
cumulative and own time over all the timed requests of each path).

It runs the production settings (Redis cache, database sessions, every middleware, the
benchmark's query counter as ``bench/run`` turns it on) with Django's test ``Client``:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_city \\
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/cpu_profile.py -n 200
    ... bench/cpu_profile.py --only "event page" --cprofile           # where it goes

The paths: the event page and the event list as a cached hit (anonymous and an employee) and
as a conditional request answered 304, the API lists the benchmark measures, and the booking
POST through the API and through the portal's form (with its CSRF token). The bookings are
real and committed, on a new event in the benchmark's own room by the ``bench_racer_*``
accounts, as ``race_profile.py`` does; nothing else is written.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("PORTAL_QUERY_COUNT_HEADER", "1")
os.environ.setdefault("PORTAL_BENCH", "1")  # GET /bench/baseline, the yardstick
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# The hashed static files that bench/run collected (it runs collectstatic with this root).
os.environ.setdefault("STATIC_ROOT", str(ROOT / "var" / "bench-static"))
os.environ.pop("DEBUG", None)

import profile_endpoints as pe  # noqa: E402  (django.setup(), throttles lifted, DEBUG off)
import race_profile  # noqa: E402
from django.test import Client  # noqa: E402

HTTPS = {"HTTP_X_FORWARDED_PROTO": "https", "SERVER_PORT": "443"}


def scenarios(f: dict, race_event, racers: list) -> list[dict]:
    jingan = {"HTTP_AUTHORIZATION": f"Token {f['jingan_key']}"}
    admin = {"HTTP_AUTHORIZATION": f"Token {f['admin_key']}"}
    event = f["event"].pk
    street = f["street"].pk
    return [
        dict(name="baseline", path="/bench/baseline"),
        dict(name="event page (anonymous)", path=f"/events/{event}/"),
        dict(name="event page (employee)", user=f["employee"], path=f"/events/{event}/"),
        dict(name="event page 304 (employee)", user=f["employee"], path=f"/events/{event}/", etag=True),
        dict(name="event list (anonymous)", path="/"),
        dict(name="event list (employee)", user=f["employee"], path="/"),
        dict(name="event list 304 (employee)", user=f["employee"], path="/", etag=True),
        dict(name="api buildings (district)", headers=jingan, path="/api/v1/buildings/"),
        dict(
            name="api party-members ?street", headers=jingan, path=f"/api/v1/party-members/?street={street}"
        ),
        dict(name="api party-members (city)", headers=admin, path="/api/v1/party-members/"),
        dict(name="api events (district)", headers=jingan, path="/api/v1/events/"),
        dict(name="api POST booking", post="api", path=f"/api/v1/events/{race_event.pk}/bookings/"),
        dict(name="portal POST booking (form)", post="form", path=f"/events/{race_event.pk}/book/"),
    ]


def run(spec: dict, n: int, warmup: int, racers, profiler: cProfile.Profile | None) -> dict:
    # One client (one handler: whitenoise scans the static files when the middleware loads).
    client = Client(enforce_csrf_checks=spec.get("post") != "api")
    if spec.get("user") is not None:
        client.force_login(spec["user"])
    headers = {**HTTPS, **spec.get("headers", {})}
    cpu, wall, queries, statuses = [], [], [], set()
    sizes = set()
    if spec.get("etag"):
        # Twice: the first answer sets the CSRF cookie, which is part of the page (and its ETag).
        client.get(spec["path"], **headers)
        headers["HTTP_IF_NONE_MATCH"] = client.get(spec["path"], **headers)["ETag"]
    for i in range(warmup + n):
        data = None
        if spec.get("post"):
            racer = next(racers)
            client.cookies.clear()
            client.force_login(racer)
            if spec["post"] == "form":
                page = client.get(spec["path"].replace("book/", ""), **HTTPS).content.decode()
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
                data = {"csrfmiddlewaretoken": token}
                headers = {**HTTPS, "HTTP_REFERER": "https://testserver/"}
        if profiler is not None and i >= warmup:
            profiler.enable()
        c0, w0 = time.thread_time(), time.perf_counter()
        if spec.get("post"):
            response = client.post(spec["path"], data=data, **headers)
        else:
            response = client.get(spec["path"], **headers)
        c1, w1 = time.thread_time(), time.perf_counter()
        if profiler is not None and i >= warmup:
            profiler.disable()
        if i < warmup:
            continue
        cpu.append((c1 - c0) * 1000)
        wall.append((w1 - w0) * 1000)
        queries.append(int(response.get("X-Query-Count", -1)))
        statuses.add(response.status_code)
        sizes.add(len(response.content))
    return {
        "cpu": statistics.median(cpu),
        "cpu_mean": statistics.fmean(cpu),
        "wall": statistics.median(wall),
        "queries": sorted(set(queries)),
        "status": sorted(statuses),
        "bytes": sorted(sizes)[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=100, help="timed requests per path (default 100)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", action="append", default=[], help="paths whose name contains this")
    parser.add_argument("--cprofile", action="store_true", help="print where the CPU goes, per path")
    parser.add_argument("--top", type=int, default=30, help="functions printed with --cprofile")
    args = parser.parse_args()

    fixtures = pe.pick_fixtures()
    chosen = [
        s
        for s in scenarios(fixtures, fixtures["event"], [])
        if not args.only or any(word in s["name"] for word in args.only)
    ]
    posts = sum(1 for s in chosen if s.get("post"))
    race_event = None
    racer_iter = iter(())
    if posts:
        count = posts * (args.n + args.warmup)
        race_event, building = race_profile.race_event(count + 10)
        racer_iter = iter(race_profile.racers(count, building))
    specs = [
        s
        for s in scenarios(fixtures, race_event or fixtures["event"], [])
        if s["name"] in {c["name"] for c in chosen}
    ]
    print(
        f"database {pe.connection.settings_dict['NAME']}; n={args.n}, warmup={args.warmup}; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    header = f"{'path':32} {'CPU ms (median)':>15} {'CPU mean':>9} {'wall ms':>8} {'queries':>8} {'bytes':>7}  status"
    print(header)
    print("-" * len(header))
    try:
        for spec in specs:
            # The profiler's clock is this thread's CPU time: waiting for PostgreSQL or Redis is not counted.
            profiler = cProfile.Profile(time.thread_time) if args.cprofile else None
            r = run(spec, args.n, args.warmup, racer_iter, profiler)
            q = ",".join(map(str, r["queries"]))
            print(
                f"{spec['name']:32} {r['cpu']:15.2f} {r['cpu_mean']:9.2f} {r['wall']:8.2f} {q:>8} {r['bytes']:7}  "
                f"{','.join(map(str, r['status']))}",
                flush=True,
            )
            if profiler is not None:
                for sort in ("cumulative", "tottime"):
                    out = io.StringIO()
                    stats = pstats.Stats(profiler, stream=out)
                    stats.sort_stats(sort).print_stats(args.top)
                    print(f"--- {spec['name']}: by {sort} (over {args.n} requests)")
                    print("\n".join(out.getvalue().splitlines()[6:]))
    finally:
        from members.models import ApiToken

        ApiToken.objects.filter(name="profile_endpoints").delete()


if __name__ == "__main__":
    main()
