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

import functools

from django.conf import settings

from tenants.limits.limiter import get_limiter
from tenants.limits.mail import client_of
from tenants.limits.spec import Window, parse, retry_after

__all__ = ["PER_CLIENT", "blocked", "count_failure"]

PER_CLIENT = "loginFailuresPerClient"


def blocked(request) -> int:
    """Seconds until ``request``'s client may try a password again; 0: now (nothing is taken)."""
    windows = _windows(settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT)
    if not windows:
        return 0
    return _seconds(get_limiter().wait(_key(request), windows))


def count_failure(request) -> int:
    """Count a failed login of ``request``'s client: 0, or the seconds it waits when there was no token left."""
    windows = _windows(settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT)
    if not windows:
        return 0
    granted, wait_ms = get_limiter().take(_key(request), windows)
    return 0 if granted else _seconds(wait_ms)


def _key(request) -> str:
    return f"{PER_CLIENT}:{client_of(request)}"


def _seconds(ms: int) -> int:
    return retry_after(ms) if ms else 0


@functools.lru_cache(maxsize=16)
def _windows(text: str) -> tuple[Window, ...]:
    # one tuple per setting value: the limiter keeps its reserve while the limit is the same object
    return parse(text)  # tenants/apps.py refused a malformed value at boot
