"""What the city-scale benchmark (``bench/run``) needs from the portal, off unless it asks.

* ``QueryCountMiddleware`` — with ``PORTAL_QUERY_COUNT_HEADER=1`` in the environment
  (``settings.QUERY_COUNT_HEADER``) every response carries ``X-Query-Count``: the SQL
  statements the request ran, counted with ``connection.execute_wrapper`` (so it works with
  ``DEBUG`` off, where ``connection.queries`` is empty). It sits first in ``MIDDLEWARE`` and
  so counts the session, user and throttling queries too.
  With it, the booking engine also says how long a booking held its event's row lock
  (``X-Lock-Hold-Ms``, ``record_lock_hold``): on PostgreSQL's clock, from taking the lock to
  the end of the statement that wrote everything; the COMMIT (the WAL flush) follows inside
  PostgreSQL, with no round trip.
* ``baseline`` — ``GET /bench/baseline`` returns a fixed JSON body: the cheapest request the
  same server can answer through the same middleware, the yardstick the benchmark divides
  every endpoint's throughput by. Routed only with ``PORTAL_BENCH=1``
  (``settings.BENCH_ENDPOINTS``); otherwise the URL does not exist (404).

Both are off by default and in production; ``bench/run`` turns them on for its own server.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from contextlib import ExitStack
from contextvars import ContextVar

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

QUERY_COUNT_HEADER = "X-Query-Count"
LOCK_HOLD_HEADER = "X-Lock-Hold-Ms"
# The current request's figures for the benchmark's headers; None outside QueryCountMiddleware.
_figures: ContextVar[dict | None] = ContextVar("bench_figures", default=None)


def record_lock_hold(locked_at: datetime.datetime, written_at: datetime.datetime | None = None) -> None:
    """Note how long the current request held a row lock before its COMMIT, for the benchmark.

    ``locked_at``: PostgreSQL's ``clock_timestamp()`` when the lock was taken; ``written_at``:
    the same clock when everything under the lock was written (the end of the statement that
    commits by itself, in a request). Without ``written_at``, until now (this machine's clock:
    an upper bound that includes this thread getting the GIL back). A no-op unless the
    benchmark's middleware is on.
    """
    figures = _figures.get()
    if figures is not None:
        end = written_at.timestamp() if written_at is not None else time.time()
        figures["lock_hold_ms"] = max((end - locked_at.timestamp()) * 1000, 0.0)


BASELINE_BODY = {"status": "ok", "portal": "楼宇党建", "purpose": "benchmark baseline"}


class QueryCountMiddleware:
    """Counts the SQL statements a request runs, on every database, into ``X-Query-Count``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        figures: dict = {}
        token = _figures.set(figures)
        try:
            with ExitStack() as stack:
                for alias in connections:
                    stack.enter_context(connections[alias].execute_wrapper(counter))
                response = self.get_response(request)
        finally:
            _figures.reset(token)
        response[QUERY_COUNT_HEADER] = str(count)
        if "lock_hold_ms" in figures:
            response[LOCK_HOLD_HEADER] = f"{figures['lock_hold_ms']:.3f}"
        return response


@never_cache
@require_safe
def baseline(request: HttpRequest) -> JsonResponse:
    """A fixed JSON body and no database: what the server costs before any portal work."""
    return JsonResponse(BASELINE_BODY, json_dumps_params={"ensure_ascii": False})


def bench_urlpatterns() -> list[URLPattern]:
    """The benchmark's routes, present only when ``settings.BENCH_ENDPOINTS`` is on."""
    if not getattr(settings, "BENCH_ENDPOINTS", False):
        return []
    return [path("bench/baseline", baseline, name="bench_baseline")]
