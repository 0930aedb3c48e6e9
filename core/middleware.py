"""The request log line, the Content-Security-Policy, and the client address for the lockout.

``RequestLogMiddleware`` sits first in ``MIDDLEWARE`` and writes one record per
request to the ``portal.request`` logger: method, path (without the query
string, which can carry names or phone numbers from a search box), status,
duration in milliseconds and the user's id — never a name, an address or an IP.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger("portal.request")


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    # Only read a user the request already loaded: resolving the lazy user here would
    # cost a session query (and fail while the database is down, e.g. during /healthz).
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        status = response.status_code
        logger.log(
            logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO,
            "%s %s %s %.1fms",
            request.method,
            request.path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            },
        )
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp with ``CONTENT_SECURITY_POLICY``, relaxed only for the API's Swagger page.

    drf-spectacular's Swagger UI page carries an inline ``<style>`` block (and, unless
    the split view is used, an inline ``<script>``) that cannot take a nonce. Under the
    prefixes in ``API_DOCS_CSP_PREFIXES`` inline scripts and styles are allowed;
    everywhere else the portal and the admin run without them.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        prefixes = tuple(getattr(settings, "API_DOCS_CSP_PREFIXES", ()))
        if not report_only and prefixes and request.path_info.startswith(prefixes):
            parts.replace = {
                **(parts.replace or {}),
                "script-src": [SELF, UNSAFE_INLINE],
                "style-src": [SELF, UNSAFE_INLINE],
                # ReDoc parses the schema in a web worker started from a blob: URL.
                "worker-src": [SELF, "blob:"],
            }
        return parts


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for the login lockout.

    Behind the nginx of ``deploy/nginx.conf`` every request comes from 127.0.0.1;
    nginx puts the real peer address in ``X-Real-IP`` (overwriting whatever the
    client sent), so that header is trusted when ``BEHIND_PROXY`` is on — and only then,
    since a client talking to gunicorn directly could forge it.
    """
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_REAL_IP", "").strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR")
