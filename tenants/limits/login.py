"""Failed logins per client (``LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT``, ThingsBoard's rate-limit format,
``10:60`` by default): what bounds password guessing while the per-user lockout (tenants/lockout.py,
``USER_MAX_FAILED_LOGIN_ATTEMPTS``) is off, as it is by default.

A wrong name or password takes one token from the client's bucket (its address, an IPv6 client by its
/64: tenants/limits/mail.py's ``client_of``); a successful login takes none. A client whose bucket is
empty is refused before any password is checked, so that guessing on past the limit learns nothing.
Counted by the limiter every other limit takes from (one count across processes through REDIS_URL).

    wait = login.blocked(request)     # 0: check the password; else seconds until the client may try again
    wait = login.count_failure(request)
"""

from django.conf import settings

from tenants.limits import buckets
from tenants.limits.mail import client_of

__all__ = ["PER_CLIENT", "blocked", "count_failure"]

PER_CLIENT = "loginFailuresPerClient"


def blocked(request) -> int:
    """Seconds until ``request``'s client may try a password again; 0: now (nothing is taken)."""
    return buckets.waiting(PER_CLIENT, settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT, client_of(request))


def count_failure(request) -> int:
    """Count a failed login of ``request``'s client: 0, or the seconds it waits when there was no token left."""
    return buckets.take(PER_CLIENT, settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT, client_of(request))
