"""Leases that give each listener integration to exactly one runintegrations host.

    holder = host_id()
    if claim(integration_id, holder, ttl=6):   # free, expired or already ours -> ours for 6 s
        ...start it...
    held = renew(running_ids, holder, ttl=6)   # every ~2 s; an id missing from `held` was lost
    release(integration_id, holder)            # on a clean stop: another host may take it at once

Claims and renewals are conditional UPDATEs (STYLE.md rule 6), so two hosts can never both
succeed, on SQLite as on PostgreSQL. Expiry is compared with the database's own clock.
"""

import os
import socket
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now

from integrations.models import IntegrationLease

__all__ = ["host_id", "claim", "renew", "release", "holders"]


def host_id() -> str:
    """A new holder id: readable (host and pid) and unique (a restarted pid gets a new one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _until(ttl: float):
    return Now() + timedelta(seconds=ttl)


def claim(integration_id, holder: str, ttl: float) -> bool:
    """Take the lease of ``integration_id`` if it is free, expired or ours; True when we hold it."""
    taken = (IntegrationLease.objects.filter(integration_id=integration_id)
             .filter(Q(holder=holder) | Q(expires_at__lt=Now()))
             .update(holder=holder, expires_at=_until(ttl)))
    if taken:
        return True
    try:
        with transaction.atomic():
            IntegrationLease.objects.create(integration_id=integration_id, holder=holder, expires_at=_until(ttl))
    except IntegrityError:  # another host holds it (or the integration was just deleted)
        return False
    return True


def renew(integration_ids, holder: str, ttl: float) -> set:
    """Extend our leases among ``integration_ids``; returns the ids we still hold."""
    ids = list(integration_ids)
    if not ids:
        return set()
    mine = IntegrationLease.objects.filter(integration_id__in=ids, holder=holder)
    # An expired lease of ours is only renewed while nobody else took it: the holder check
    # above decides, so a host that stalled past the TTL learns that it lost the lease.
    mine.update(expires_at=_until(ttl))
    return set(mine.values_list("integration_id", flat=True))


def release(integration_id, holder: str) -> None:
    IntegrationLease.objects.filter(integration_id=integration_id, holder=holder).delete()


def holders() -> dict:
    """integration id -> holder of every unexpired lease (for status pages and tests)."""
    return dict(IntegrationLease.objects.filter(expires_at__gte=Now()).values_list("integration_id", "holder"))
