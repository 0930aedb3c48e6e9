"""``GET /healthz`` for the load balancer: 200 when PostgreSQL and Redis answer, else 503.

The body names the failed dependency (``{"status": "unavailable", "failed": ["redis"]}``)
and nothing else: no versions, hosts, error messages or timings, since the URL is
public. Each check has a short timeout so that a probe never hangs a worker.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger("portal.health")

_redis_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    # One client per process: redis-py keeps a small connection pool and reconnects by itself.
    global _redis_client
    if _redis_client is None:
        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, health_check_interval=0
        )
    return _redis_client


def database_ok() -> bool:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() == (1,)
    except Exception:
        logger.warning("health check: database unavailable", exc_info=True)
        return False


def redis_ok() -> bool:
    try:
        return bool(_redis().ping())
    except Exception:
        logger.warning("health check: redis unavailable", exc_info=True)
        return False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    failed = [name for name, ok in (("database", database_ok()), ("redis", redis_ok())) if not ok]
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok"})
