#!/usr/bin/env python
"""The load generator of ``bench/run``: HTTP/1.1 keep-alive clients in threads, standard library only.

``bench/city.py`` runs it as a separate process (so that its threads do not share a GIL with
the harness) and hands it one job as JSON on stdin; it prints the result as JSON on stdout.

Two kinds of job:

* ``"mode": "timed"`` — ``clients`` threads, each with its own connection, send ``requests``
  (taken in turn) back to back for ``seconds`` after ``warmup`` seconds that are not counted.
  Result: requests per second, p50/p95/p99 latency in ms, errors (a status other than
  ``expect`` or a broken connection) and the mean of the ``X-Query-Count`` header.
  With ``"revalidate": true`` each client sends the ``ETag`` of its last 200 back in
  ``If-None-Match``, as a browser's reload does (a 304 then counts when ``expect`` has it).
* ``"mode": "once"`` — every request in ``requests`` is sent exactly once by a pool of
  ``clients`` threads released together by a barrier (the booking race). Result: the same
  figures plus the count of each status and of each ``"status"`` field in the JSON bodies,
  and the values of the response headers named in ``collect_headers`` (numbers).

Latency is measured from sending the request to reading the last byte of the body. A
keep-alive connection the server closed in between (gunicorn recycles workers after
``max_requests``) is reopened once and the request resent, as browsers do for idempotent
requests; the time of both attempts counts.
"""

from __future__ import annotations

import http.client
import json
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

QUERY_COUNT_HEADER = "X-Query-Count"


# --- statistics (pure) ------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of already sorted values, interpolated linearly.

    The same definition as ``statistics.quantiles(method="inclusive")`` and NumPy's default:
    rank ``(n - 1) * q / 100`` between the two nearest values. NaN for no values.
    """
    if not sorted_values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    rank = (len(sorted_values) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def summarize(
    latencies_s: Sequence[float], *, elapsed_s: float, errors: int, queries: Sequence[int] = ()
) -> dict:
    """Requests per second, latency percentiles in ms, errors and SQL queries per request.

    ``latencies_s`` are the successful requests' latencies in seconds; ``elapsed_s`` is the
    wall time of the measured window (throughput counts successful requests only).
    """
    ordered = sorted(latencies_s)
    ms = [value * 1000 for value in ordered]
    return {
        "requests": len(ordered),
        "errors": errors,
        "seconds": round(elapsed_s, 3),
        "rps": len(ordered) / elapsed_s if elapsed_s > 0 else 0.0,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": ms[-1] if ms else math.nan,
        "queries_mean": sum(queries) / len(queries) if queries else None,
        "queries_max": max(queries) if queries else None,
    }


# --- HTTP -------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: str | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Request:
        return cls(data.get("method", "GET"), data["path"], data.get("headers", {}), data.get("body"))


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float


class Client:
    """One keep-alive connection to ``host:port`` with default headers (Host, proto, cookies)."""

    def __init__(self, host: str, port: int, headers: dict | None = None, timeout: float = 30):
        self.host, self.port, self.timeout = host, port, timeout
        self.headers = dict(headers or {})
        self.conn: http.client.HTTPConnection | None = None

    def _send(self, request: Request) -> Reply:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        self.conn.request(
            request.method, request.path, body=body, headers={**self.headers, **request.headers}
        )
        response = self.conn.getresponse()
        data = response.read()
        if response.will_close:
            self.close()
        return Reply(response.status, response.headers, data, 0.0)

    def send(self, request: Request) -> Reply:
        started = time.perf_counter()
        reused = self.conn is not None
        try:
            reply = self._send(request)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                raise
            reply = self._send(request)
        except Exception:
            self.close()
            raise
        reply.seconds = time.perf_counter() - started
        return reply

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def cookies_from(reply: Reply) -> dict[str, str]:
    """name → value of the cookies a response sets."""
    jar = {}
    for header in reply.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def describe(request: Request, reply: Reply) -> str:
    """A failed request in one line: the JSON error body, or the type and size of another body."""
    kind = (reply.headers.get("Content-Type") or "").split(";")[0]
    if kind == "application/json":
        text = reply.body[:160].decode(errors="replace")
    else:
        text = f"({kind or 'no type'}, {len(reply.body)} bytes)"
    location = reply.headers.get("Location")
    return f"{request.method} {request.path}: HTTP {reply.status} {text}" + (
        f" → {location}" if location else ""
    )


# --- jobs -------------------------------------------------------------------------------------


def _queries(reply: Reply) -> int | None:
    value = reply.headers.get(QUERY_COUNT_HEADER)
    return int(value) if value and value.isdigit() else None


def run_timed(job: dict) -> dict:
    requests = [Request.from_dict(r) for r in job["requests"]]
    expect = set(job.get("expect", [200]))
    clients, seconds, warmup = job["clients"], job["seconds"], job.get("warmup", 1.0)
    lock = threading.Lock()
    latencies: list[float] = []
    queries: list[int] = []
    samples: list[str] = []
    statuses: Counter = Counter()
    errors = 0
    start_barrier = threading.Barrier(clients + 1)
    window: dict[str, float] = {}

    revalidate = job.get("revalidate", False)

    def worker(index: int) -> None:
        nonlocal errors
        client = Client(job["host"], job["port"], job.get("headers"))
        etag = None  # with "revalidate", the last answer's ETag, sent back as a browser's reload does
        mine: list[float] = []
        my_queries: list[int] = []
        my_errors = 0
        my_statuses: Counter = Counter()
        i = index
        start_barrier.wait()
        while True:
            now = time.perf_counter()
            if now >= window["end"]:
                break
            request = requests[i % len(requests)]
            i += 1
            if revalidate and etag:
                request = Request(
                    request.method, request.path, {**request.headers, "If-None-Match": etag}, request.body
                )
            try:
                reply = client.send(request)
            except Exception as exc:  # a broken connection or a timeout is an error, not a crash
                if window["start"] <= time.perf_counter() <= window["end"]:
                    my_errors += 1
                    my_statuses["connection error"] += 1
                    with lock:
                        if len(samples) < 5:
                            samples.append(f"{request.path}: {type(exc).__name__}: {exc}")
                continue
            if revalidate and reply.status == 200:
                etag = reply.headers.get("ETag")
            # A request counts when it ended inside the window (so the rate is not biased by the
            # requests in flight at either edge).
            if not window["start"] <= time.perf_counter() <= window["end"]:
                continue
            my_statuses[str(reply.status)] += 1
            if reply.status in expect:
                mine.append(reply.seconds)
                q = _queries(reply)
                if q is not None:
                    my_queries.append(q)
            else:
                my_errors += 1
                with lock:
                    if len(samples) < 5:
                        samples.append(describe(request, reply))
        client.close()
        with lock:
            latencies.extend(mine)
            queries.extend(my_queries)
            errors += my_errors
            statuses.update(my_statuses)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    window["start"] = now + warmup
    window["end"] = now + warmup + seconds
    start_barrier.wait()
    for thread in threads:
        thread.join()
    result = summarize(latencies, elapsed_s=seconds, errors=errors, queries=queries)
    result.update(clients=clients, statuses=dict(statuses), error_samples=samples)
    return result


def run_once(job: dict) -> dict:
    requests = [Request.from_dict(r) for r in job["requests"]]
    expect = set(job.get("expect", [200]))
    clients = job["clients"]
    lock = threading.Lock()
    latencies: list[float] = []
    queries: list[int] = []
    statuses: Counter = Counter()
    body_statuses: Counter = Counter()
    samples: list[str] = []
    queue = list(reversed(requests))
    ready = threading.Barrier(clients + 1)
    collect = job.get("collect_headers", [])
    collected: dict[str, list[float]] = {name: [] for name in collect}

    def worker() -> None:
        client = Client(job["host"], job["port"], job.get("headers"))
        # Open the connection before the start, so that the race is between requests.
        client.conn = http.client.HTTPConnection(client.host, client.port, timeout=client.timeout)
        client.conn.connect()
        ready.wait()
        while True:
            with lock:
                if not queue:
                    break
                request = queue.pop()
            try:
                reply = client.send(request)
            except Exception as exc:
                with lock:
                    statuses["connection error"] += 1
                    if len(samples) < 5:
                        samples.append(f"{request.path}: {type(exc).__name__}: {exc}")
                continue
            try:
                field_status = json.loads(reply.body).get("status") if reply.body else None
            except (ValueError, AttributeError):
                field_status = None
            with lock:
                statuses[str(reply.status)] += 1
                if reply.status in expect:
                    latencies.append(reply.seconds)
                    if isinstance(field_status, str):
                        body_statuses[field_status] += 1
                    for name in collect:
                        value = reply.headers.get(name)
                        if value:
                            collected[name].append(float(value))
                    q = _queries(reply)
                    if q is not None:
                        queries.append(q)
                elif len(samples) < 5:
                    samples.append(describe(request, reply))
        client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    errors = sum(n for status, n in statuses.items() if not status.isdigit() or int(status) not in expect)
    result = summarize(latencies, elapsed_s=elapsed, errors=errors, queries=queries)
    result.update(
        clients=clients,
        statuses=dict(statuses),
        body_statuses=dict(body_statuses),
        error_samples=samples,
        headers=collected,
    )
    return result


def main() -> int:
    job = json.load(sys.stdin)
    result = run_timed(job) if job.get("mode", "timed") == "timed" else run_once(job)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
