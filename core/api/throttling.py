"""Throttling: one bucket per API key (per user for sessions, per address for anonymous
requests); a 429 carries ``Retry-After``."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ApiRateThrottle(SimpleRateThrottle):
    """One bucket per API key; sessions per user, anonymous requests per address.

    Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``api_token``,
    ``api_user``, ``api_anon``), read per request so that settings overrides apply.
    """

    def allow_request(self, request, view):
        # request.auth is the API key (members.authentication) for key requests, None for sessions.
        if getattr(request.auth, "pk", None) is not None:
            self.scope, self.ident = "api_token", f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            self.scope, self.ident = "api_user", f"user:{request.user.pk}"
        else:
            self.scope, self.ident = "api_anon", f"ip:{self.get_ident(request)}"
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        # Chosen per request in allow_request(); nothing to decide at construction.
        return None

    def get_cache_key(self, request, view) -> str:
        return f"throttle_{self.ident}"
