"""Limits on what a device's or a customer user's guesses can do, in ThingsBoard's rate-limit format, taken
from the limiter every other limit takes from (one count across processes through REDIS_URL):

- provisioning (``POST /api/v1/provision``, anonymous: a profile's key and secret are the credentials),
  every request that names a key: per client (``DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT``, its address, an
  IPv6 client by its /64, as tenants/limits/mail.py's ``client_of``) and per provision key
  (``DEVICE_PROVISION_PER_KEY_RATE_LIMIT``), whether the key exists or not, so that a refusal tells nothing
  about keys; a client refused takes nothing from the key. A key is stored as an HMAC of it, never as
  it is. This bounds guessing secrets and the rate at which one key makes devices (the tenant
  profile's ``maxDevices`` bounds how many, devices/device_quota.py);
- claiming (``POST /api/customer/device/{name}/claim``): failed claims per user
  (``DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT``). As ThingsBoard's, a wrong secret key cancels the
  device's pending claim; past the limit the user is refused before any key is checked, so a stranger
  guessing names and keys cancels a few claims at most, and learns no more names.

    wait = device_attempts.take_provision(client, key)      # 0: go on; else seconds to wait (429)
    wait = device_attempts.claim_blocked(user_id)           # 0: check the key
    device_attempts.count_claim_failure(user_id)
"""

from django.conf import settings

from tenants.limits.buckets import digest, take, waiting

__all__ = ["PROVISION_PER_CLIENT", "PROVISION_PER_KEY", "CLAIM_FAILURES_PER_USER", "SETTINGS", "take_provision",
           "claim_blocked", "count_claim_failure"]

PROVISION_PER_CLIENT = "provisionRequestsPerClient"
PROVISION_PER_KEY = "provisionRequestsPerKey"
CLAIM_FAILURES_PER_USER = "claimFailuresPerUser"
#: the settings holding these limits (checked at boot by tenants/apps.py)
SETTINGS = ("DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT", "DEVICE_PROVISION_PER_KEY_RATE_LIMIT",
            "DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT")


def take_provision(client: str, key: str) -> int:
    """One provisioning request of ``client`` with provision key ``key``: 0 when both budgets had it, else
    the seconds until one will be there."""
    wait = take(PROVISION_PER_CLIENT, settings.DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT, client)
    if wait:
        return wait
    return take(PROVISION_PER_KEY, settings.DEVICE_PROVISION_PER_KEY_RATE_LIMIT, digest(key))


def claim_blocked(user_id) -> int:
    """Seconds until user ``user_id`` may try a claim again; 0: now (nothing is taken)."""
    return waiting(CLAIM_FAILURES_PER_USER, settings.DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT, str(user_id))


def count_claim_failure(user_id) -> int:
    """Count a failed claim of user ``user_id``: 0, or the seconds it waits when there was no token left."""
    return take(CLAIM_FAILURES_PER_USER, settings.DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT, str(user_id))
