"""Waking whoever delivers a freshly encoded downlink, as soon as it is there.

- Listener integrations: every listener host of this process registered with :func:`register`
  is woken at once (embedded mode: ``serve`` and the tests run the host in-process); with
  REDIS_URL the integration ids are also published on CHANNEL for the hosts of other processes
  (runintegrations). Hosts also poll, so a lost message only costs latency.
- Push integrations that send through their cloud's API (ChirpStack, ThingPark, ...): the
  delivery task is scheduled (integrations/api_downlinks.py).
- Push integrations (HTTP): the ingress of this process learns at once that the integration has
  a pending downlink (integrations/ingress/downlinks.py); other processes within its cache TTL.
"""

import json
import logging
import threading
import weakref

from django.conf import settings

from tbproject import redis_client

__all__ = ["CHANNEL", "register", "unregister", "encoded", "wake"]

log = logging.getLogger(__name__)

CHANNEL = "tbproject:downlinks"

_hosts: "weakref.WeakSet" = weakref.WeakSet()
_lock = threading.Lock()


def register(host) -> None:
    """``host.wake(integration_ids)`` is called from any thread when downlinks are ready."""
    with _lock:
        _hosts.add(host)


def unregister(host) -> None:
    with _lock:
        _hosts.discard(host)


def encoded(listener_ids, push_ids, api_ids=()) -> None:
    if api_ids:  # push types that send through their cloud's API: a worker does (integrations/api_downlinks.py)
        from integrations import api_downlinks

        try:
            api_downlinks.schedule()
        except Exception:  # the periodic sweep schedules them too
            log.exception("scheduling the delivery of API downlinks failed")
    if push_ids:
        from integrations.ingress import downlinks

        downlinks.mark_pending(push_ids)
    if listener_ids:
        wake(listener_ids)


def wake(integration_ids) -> None:
    ids = sorted(str(i) for i in integration_ids)
    with _lock:
        hosts = list(_hosts)
    for host in hosts:
        try:
            host.wake(ids)
        except Exception:
            log.exception("waking a listener host failed")
    if settings.REDIS_URL:
        try:
            _redis().publish(CHANNEL, json.dumps(ids))
        except Exception as exc:  # the hosts' poll picks the downlinks up
            log.warning("could not announce downlinks on Redis: %s", exc)


def _redis():
    return redis_client.shared(socket_timeout=2)
