"""gunicorn settings for the portal: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Workers and threads, chosen for the machine:

- ``gthread`` workers: a request mostly waits on PostgreSQL, so threads let one
  process overlap those waits, and a slow client (a phone on the metro) holds a
  thread, not a whole process. nginx in front buffers request and response bodies.
- ``workers = 2 × cores + 1`` (5 on the 2-core reference machine), each with
  ``threads = 4``: 20 requests in flight per machine. A worker uses about 100 MB,
  so memory is not the limit on 2 cores / 24 GB; the CPU is.
- Every thread keeps its database connection open between requests
  (``CONN_MAX_AGE``), so one machine holds up to ``workers × threads`` = 20
  connections, plus the Celery worker's. PostgreSQL's default
  ``max_connections = 100`` leaves room for four such web machines; add
  PgBouncer (transaction pooling) before going further.

Every value can be overridden from the environment: ``GUNICORN_BIND``,
``WEB_CONCURRENCY`` (workers), ``GUNICORN_THREADS``, ``GUNICORN_TIMEOUT``.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A stuck request is killed after 30 s; graceful restarts (HUP, deploys) let requests finish.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak never grows unbounded; the jitter
# keeps them from restarting all at once.
max_requests = 2000
max_requests_jitter = 200

# The request line is logged by core.middleware.RequestLogMiddleware (no client IPs);
# gunicorn's own access log would repeat it with the address, so it stays off.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# Only nginx on this machine may tell gunicorn the original scheme.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Worker heartbeats in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "portal-web"
