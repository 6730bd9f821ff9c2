"""Limits set by a setting in ThingsBoard's rate-limit format (not by a tenant profile), taken from
the limiter every other limit takes from (one count across processes through REDIS_URL): account
mails (mail.py), failed logins (login.py), device provisioning and claims (device_attempts.py).

    wait = take(name, settings.SOME_RATE_LIMIT, subject)    # 0: granted; else seconds until a token is there
    wait = waiting(name, settings.SOME_RATE_LIMIT, subject)  # the same, taking nothing
    digest(secret)                                           # how a secret-ish subject is kept in a bucket name
"""

import functools
import hashlib
import hmac

from django.conf import settings

from tenants.limits.limiter import get_limiter
from tenants.limits.spec import Window, parse, retry_after

__all__ = ["take", "waiting", "windows", "digest"]


def take(name: str, text: str, subject: str) -> int:
    """One token of limit ``text`` (a setting's value; empty: no limit) from bucket ``name:subject``."""
    found = windows(text)
    if not found:
        return 0
    granted, wait_ms = get_limiter().take(f"{name}:{subject}", found)
    return 0 if granted else retry_after(wait_ms)


def waiting(name: str, text: str, subject: str) -> int:
    """Seconds until bucket ``name:subject`` has a token; 0: now (nothing is taken)."""
    found = windows(text)
    if not found:
        return 0
    wait_ms = get_limiter().wait(f"{name}:{subject}", found)
    return retry_after(wait_ms) if wait_ms else 0


@functools.lru_cache(maxsize=32)
def windows(text: str) -> tuple[Window, ...]:
    # one tuple per setting value: the limiter keeps its reserve while the limit is the same object
    return parse(text)  # tenants/apps.py refused a malformed value at boot


def digest(value: str) -> str:
    """An HMAC of ``value``: a bucket named after an address or a key does not keep it in clear."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]
