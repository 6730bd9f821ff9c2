"""Device claiming (thingsboard.io/docs/user-guide/claiming-devices/), the rules of ThingsBoard's
ClaimDevicesService: a customer user who knows a device's name (and its secret key) makes its
customer the device's owner.

    register(device, secret_key, duration_ms)  # the device asks to be claimed: True, or False when it may not be
    claim(device, customer, secret_key)        # -> (SUCCESS | FAILURE | CLAIMED, the saved device or None)
    reclaim(device)                            # back to the tenant

Claim info comes from the device (kept in the cache, Redis in production, for ``durationMs`` or
SECURITY_CLAIM_DURATION, a second request while one is open does not replace it, as ThingsBoard's
``putIfAbsent``) or, when the device sent none, from the SERVER_SCOPE attribute ``claimingData``
``{"secretKey": ..., "expirationTime": ms}`` a tenant administrator set. A key given matches when
both are empty or they are equal. A device any customer owns is CLAIMED. With
SECURITY_CLAIM_ALLOW_CLAIMING_BY_DEFAULT off, a device asks in vain unless its SERVER_SCOPE attribute
``claimingAllowed`` is true; a successful claim deletes ``claimingAllowed`` and ``claimingData``, and
a reclaim sets ``claimingAllowed`` again in that mode.
"""

import hmac
import json
import math

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from devices.attributes import attribute_values, delete_attributes, save_attributes
from devices.choices import AttributeScope
from devices.models import Device
from tbproject.clock import now_ms

__all__ = ["register", "claim", "reclaim", "SUCCESS", "FAILURE", "CLAIMED", "CLAIMING_ALLOWED", "CLAIMING_DATA"]

SUCCESS, FAILURE, CLAIMED = "SUCCESS", "FAILURE", "CLAIMED"  # ThingsBoard's ClaimResponse
CLAIMING_ALLOWED, CLAIMING_DATA = "claimingAllowed", "claimingData"
SERVER = AttributeScope.SERVER_SCOPE
#: ThingsBoard's claimDevices cache keeps an entry at most a day unless the duration is set longer
_MIN_CACHE_SECONDS = 86_400


def _key(device_id) -> str:
    return f"tb:claim:{device_id}"


def _server_value(device_id, key: str):
    found = attribute_values([device_id], SERVER, [key]).get((device_id, key))
    return None if found is None else found[1]


def register(device: Device, secret_key: str, duration_ms: int) -> bool:
    """Open a claim of ``device`` for ``duration_ms`` (0 or less: SECURITY_CLAIM_DURATION). False
    when a customer owns it already, or claiming is not allowed for it."""
    if device.customer_id is not None:
        return False
    if not settings.SECURITY_CLAIM_ALLOW_CLAIMING_BY_DEFAULT and _server_value(device.pk, CLAIMING_ALLOWED) is not True:
        return False
    duration = duration_ms if duration_ms > 0 else settings.SECURITY_CLAIM_DURATION
    ttl = min(math.ceil(duration / 1000), max(_MIN_CACHE_SECONDS, math.ceil(settings.SECURITY_CLAIM_DURATION / 1000)))
    cache.add(_key(device.pk), {"secretKey": secret_key, "expirationTime": now_ms() + duration}, timeout=ttl)
    return True


def _claim_data(device: Device) -> tuple[dict | None, bool]:
    """(the claim info, whether it came from the cache); None when there is none (or it is unreadable)."""
    data = cache.get(_key(device.pk))
    if data is not None:
        return data, True
    value = _server_value(device.pk, CLAIMING_DATA)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None, False
    if not isinstance(value, dict):
        return None, False
    expiration = value.get("expirationTime")
    secret = value.get("secretKey")
    if isinstance(expiration, bool) or not isinstance(expiration, (int, float)):
        expiration = 0
    return {"secretKey": secret if isinstance(secret, str) else "", "expirationTime": expiration}, False


def _matches(given: str, stored) -> bool:
    stored = stored if isinstance(stored, str) else ""
    return hmac.compare_digest(given.encode(), stored.encode())


def _forget(device: Device) -> None:
    """ThingsBoard's removeClaimingSavedData: the cached request and both server attributes go."""
    cache.delete(_key(device.pk))
    delete_attributes(device.pk, SERVER, [CLAIMING_ALLOWED, CLAIMING_DATA])


def claim(device: Device, customer, secret_key: str) -> tuple[str, Device | None]:
    """Make ``customer`` the owner of ``device`` if its claim info allows it with ``secret_key``."""
    data, from_cache = _claim_data(device)
    if data is None:
        return (FAILURE if device.customer_id is None else CLAIMED), None
    if now_ms() > data["expirationTime"] or not _matches(secret_key, data.get("secretKey")):
        if from_cache:
            cache.delete(_key(device.pk))
        return FAILURE, None
    with transaction.atomic():
        locked = Device.objects.select_for_update().select_related("profile").get(pk=device.pk)
        if locked.customer_id is None:
            locked.customer = customer
            locked.save()
            _forget(locked)
            return SUCCESS, locked
        _forget(locked)
    return CLAIMED, None


def reclaim(device: Device) -> None:
    """Give ``device`` back to its tenant (and drop any open claim of it)."""
    cache.delete(_key(device.pk))
    if device.customer_id is None:
        return
    with transaction.atomic():
        device.customer = None
        device.save()
        if not settings.SECURITY_CLAIM_ALLOW_CLAIMING_BY_DEFAULT:
            save_attributes(device.pk, SERVER, {CLAIMING_ALLOWED: True}, tenant_id=device.tenant_id)
