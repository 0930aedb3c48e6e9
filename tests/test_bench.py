"""The benchmark's switches in the portal (core/bench.py) and its load generator (bench/load.py)."""

from __future__ import annotations

import importlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches

from bench.load import Client as LoadClient
from bench.load import Request, percentile, run_once, run_timed, summarize
from core.bench import BASELINE_BODY, QUERY_COUNT_HEADER, QueryCountMiddleware
from tests.buildings.factories import BuildingFactory

ROOT = Path(__file__).resolve().parent.parent
MIDDLEWARE = "core.bench.QueryCountMiddleware"


# --- X-Query-Count ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_middleware_counts_the_statements_a_request_runs():
    from members.models import User

    def view(request):
        User.objects.count()
        list(User.objects.filter(username="nobody"))
        return HttpResponse("ok")

    response = QueryCountMiddleware(view)(RequestFactory().get("/"))
    assert response[QUERY_COUNT_HEADER] == "2"
    # The wrapper is gone afterwards: statements outside a request are not counted into the next.
    assert connection.execute_wrappers == []
    response = QueryCountMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/"))
    assert response[QUERY_COUNT_HEADER] == "0"


@pytest.mark.django_db
def test_header_matches_the_queries_of_a_whole_request(settings, district_staff):
    """Through every middleware (session, user, throttle): the header equals what the database saw."""
    settings.MIDDLEWARE = [MIDDLEWARE, *settings.MIDDLEWARE]
    BuildingFactory.create_batch(3)
    client = Client()
    client.force_login(district_staff)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/buildings/")
    assert response.status_code == 200
    assert int(response[QUERY_COUNT_HEADER]) == len(captured.captured_queries) > 0


@pytest.mark.django_db
def test_no_header_by_default(district_staff):
    assert MIDDLEWARE not in django_settings.MIDDLEWARE
    assert django_settings.QUERY_COUNT_HEADER is False
    assert django_settings.BENCH_ENDPOINTS is False
    client = Client()
    client.force_login(district_staff)
    response = client.get("/api/v1/buildings/")
    assert response.status_code == 200
    assert QUERY_COUNT_HEADER not in response


def test_environment_switches_turn_them_on():
    """PORTAL_QUERY_COUNT_HEADER=1 puts the middleware first; PORTAL_BENCH=1 routes the baseline."""
    code = (
        "import django, json; django.setup();"
        "from django.conf import settings; from django.urls import resolve;"
        "print(json.dumps([settings.MIDDLEWARE[0], resolve('/bench/baseline').url_name]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "PORTAL_QUERY_COUNT_HEADER": "1",
        "PORTAL_BENCH": "1",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [MIDDLEWARE, "bench_baseline"]


# --- the baseline view --------------------------------------------------------------------------


@pytest.fixture
def bench_routes(settings):
    settings.BENCH_ENDPOINTS = True
    import config.urls

    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.BENCH_ENDPOINTS = False
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_baseline_absent_unless_switched_on(client):
    response = client.get("/bench/baseline")
    assert response.status_code == 404


@pytest.mark.django_db
def test_baseline_returns_fixed_json_without_the_database(client, bench_routes, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/bench/baseline")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == BASELINE_BODY
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/bench/baseline").status_code == 200
    assert client.post("/bench/baseline").status_code == 405


# --- statistics of the load generator -----------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_percentile_agrees_with_statistics_inclusive():
    rng = random.Random(6)
    values = sorted(rng.expovariate(1 / 30) for _ in range(997))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for q in (50, 95, 99):
        assert percentile(values, q) == pytest.approx(cuts[q - 1])


def test_summarize():
    result = summarize([0.010, 0.030, 0.020, 0.040], elapsed_s=2.0, errors=3, queries=[4, 4, 6, 4])
    assert result["requests"] == 4
    assert result["rps"] == 2.0
    assert result["errors"] == 3
    assert result["p50_ms"] == pytest.approx(25.0)
    assert result["max_ms"] == pytest.approx(40.0)
    assert result["queries_mean"] == 4.5
    assert result["queries_max"] == 6
    empty = summarize([], elapsed_s=1.0, errors=1)
    assert empty["rps"] == 0 and empty["queries_mean"] is None and math.isnan(empty["p95_ms"])


# --- the load generator against a small server --------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn

    def _answer(self, status: int, body: dict):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header(QUERY_COUNT_HEADER, "3")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.headers.get("Host") != "portal.example.org":
            return self._answer(400, {})
        self._answer(200 if self.path in {"/ok", "/drop"} else 500, {"path": self.path})
        if self.path == "/drop":
            # Close the keep-alive connection without saying so, as a recycled gunicorn worker does.
            self.close_connection = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.seats -= 1
            seat = self.server.seats
        if seat >= 0:
            self._answer(201, {"status": "confirmed"})
        else:
            self._answer(409, {"code": "waitlist_full"})

    def log_message(self, *args):
        pass


@pytest.fixture
def small_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.seats = 5
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_timed_job_counts_requests_errors_and_queries(small_server):
    job = {
        "host": "127.0.0.1",
        "port": small_server,
        "headers": {"Host": "portal.example.org"},
        "requests": [{"path": "/ok"}, {"path": "/ok"}, {"path": "/fail"}],
        "clients": 2,
        "seconds": 0.3,
        "warmup": 0.05,
    }
    result = run_timed(job)
    assert result["requests"] > 0
    assert result["errors"] > 0  # every third request is a 500
    assert set(result["statuses"]) == {"200", "500"}
    assert result["statuses"]["200"] == result["requests"]
    assert result["statuses"]["500"] == result["errors"]
    assert result["queries_mean"] == 3
    assert result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]


def test_once_job_sends_each_request_exactly_once(small_server):
    job = {
        "host": "127.0.0.1",
        "port": small_server,
        "headers": {"Host": "portal.example.org"},
        "requests": [{"method": "POST", "path": f"/book/{i}"} for i in range(12)],
        "clients": 4,
        "expect": [201, 409],
    }
    result = run_once(job)
    assert result["statuses"] == {"201": 5, "409": 7}
    assert result["body_statuses"] == {"confirmed": 5}
    assert result["errors"] == 0
    assert result["requests"] == 12


def test_client_reopens_a_connection_the_server_closed(small_server):
    client = LoadClient("127.0.0.1", small_server, {"Host": "portal.example.org"})
    assert client.send(Request("GET", "/drop")).status == 200
    first = client.conn
    assert first is not None  # the client still believes in the connection
    assert client.send(Request("GET", "/ok")).status == 200
    assert client.conn is not first
    client.close()
