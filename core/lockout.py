"""Login lockout with a limit per lockout parameter (django-axes' database handler, extended).

django-axes counts failed logins per combination of ``AXES_LOCKOUT_PARAMETERS`` but compares
every combination with one ``AXES_FAILURE_LIMIT``. Counted per user name *and* address
together, one password tried across many names and addresses (password spraying) is never
stopped; counted per name or per address with the same small limit, anyone could lock a
real user out from anywhere. So each parameter gets its own limit (``LOGIN_FAILURE_LIMITS``
in settings; the reasons are in docs/security.md):

* ``username,ip_address`` — 5: someone mistyping their own password;
* ``ip_address`` — 20, across names: one address spraying a password over many accounts
  (an office behind one address still has room for its people's typos);
* ``username`` — 30, across addresses: one account guessed from many addresses. Higher,
  because it is the limit a stranger can reach to keep a real user out; each address they
  use is itself stopped after 20.

Each lock lasts ``AXES_COOLOFF_TIME`` after the last failure it counted; failures during a
lock do not extend it. A successful login clears that user name's failures only — not the
address's failures against other names, or logging in to one's own account would reset a
spraying address's count.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def _parameter_key(parameter) -> str:
    return parameter if isinstance(parameter, str) else ",".join(parameter)


def failure_limit(parameter, default: int) -> int:
    return settings.LOGIN_FAILURE_LIMITS.get(_parameter_key(parameter), default)


class LockoutHandler(AxesDatabaseHandler):
    """``AXES_HANDLER``: each lockout parameter against its own limit."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Failures on axes' scale: ``AXES_FAILURE_LIMIT`` or more when any parameter reached its own limit.

        axes compares this number with ``AXES_FAILURE_LIMIT`` to lock (and to keep locked);
        below a limit each parameter's count is scaled to stay below it.
        """
        base = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            limit = failure_limit(parameter, base)
            if count >= limit:
                return max(base, count)
            worst = max(worst, count * base // limit)
        return worst

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful login: that user name's failures, from every address; nothing else."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _deleted = AccessAttempt.objects.filter(username=username).delete()
        return count
