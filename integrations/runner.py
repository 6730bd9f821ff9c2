"""The listener host: runs listener integrations (MQTT, ...) in one asyncio loop.

    runner = Runner()
    runner.run_forever()      # blocks until request_stop(); then stops every listener cleanly
    runner.request_stop()     # from a signal handler or another thread
    runner.nudge()            # "look at the database now" (an integration was saved here)

Every ``poll`` seconds (a third of the lease TTL) the host reads ``(id, version)`` of the
enabled, non-remote listener integrations and claims the leases of those nobody runs
(integrations/leases.py); then it starts what it claimed, stops what was disabled or deleted
(releasing the lease) and restarts what was saved with a different configuration (a save that
only changes debug settings is picked up without reconnecting). Each of these writes an LC_EVENT
(STARTED, STOPPED, UPDATED, FAILED) and the status columns. This works across processes, since
it only reads the database; saves in this process also nudge it at once, as does marking a tenant
for deletion (``tenants.deletion.tenant_marked``): the listeners of a tenant being deleted stop,
within one poll on the other hosts. Database work runs in one control thread, off the loop;
uplinks go to the queue from a few other threads.

Downlinks of the integrations hosted here are sent from the same loop (integrations/
downlink_host.py: ``await instance.downlink(...)``, woken by integrations.downlinks.notify).

A heartbeat task renews the leases on the same period, whatever else is going on. A lease found
taken by another host stops that integration here; if the database cannot be reached for most
of a TTL, the host stops all its listeners: another host may already have claimed them, and an
integration must never run on two.
"""

import asyncio
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import connections, transaction
from django.db.models.signals import post_delete, post_save

from integrations import events, leases
from integrations.downlink_host import DownlinkOutbox
from integrations.models import Integration
from integrations.sink import RunnerSink, record_lifecycle, with_connection
from integrations.types import TYPES
from tenants.deletion import tenant_marked
from tenants.models import Tenant
from vault.resolution import prepare, stamp_of

__all__ = ["Runner", "RunnerThread", "wanted_integrations"]

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
#: Seconds before a failed start is tried again with an unchanged configuration.
RETRY_FAILED_AFTER = 30.0
UPLINK_THREADS = 4


def _fingerprint(integration) -> str:
    """What a listener's connection depends on: a change means reconnecting (a secret's new value too:
    the stamp of the ones its configuration names, from ``_plan``'s ``vault.prepare``)."""
    return json.dumps([integration.type, integration.name, integration.configuration, stamp_of(integration)],
                      sort_keys=True, default=str)


@dataclass
class _Hosted:
    integration: Integration
    instance: object
    sink: RunnerSink
    fingerprint: str = field(init=False)

    def __post_init__(self):
        self.fingerprint = _fingerprint(self.integration)


@dataclass
class _Plan:
    wanted: dict  # id -> version
    existing: set  # of the ids we run that are no longer wanted: those that still exist (disabled)
    claimed: list  # Integration rows now leased to us
    changed: list  # Integration rows we run whose version moved


def wanted_integrations(kinds):
    """The integrations a host runs: enabled, local listeners of these kinds, of tenants not being
    deleted (tenants/deletion.py marks them; ``tenant_marked`` nudges the host at once)."""
    return Integration.objects.filter(enabled=True, remote=False, type__in=kinds, tenant__deleting_ts__isnull=True)


class Runner:
    """Hosts listener integrations; each runs on exactly one Runner among all processes."""

    def __init__(self, *, holder: str | None = None, lease_seconds: float | None = None,
                 poll_seconds: float | None = None):
        self.holder = holder or leases.host_id()
        self.ttl = float(lease_seconds or settings.INTEGRATION_LEASE_SECONDS)
        self.poll = float(poll_seconds or self.ttl / 3)
        self.kinds = [kind for kind, cls in TYPES.all().items() if cls.listener]
        self.hosted: dict = {}
        self._stopping: set = set()  # stopping now: their leases are still renewed
        self._background: set = set()
        self._failed: dict = {}  # id -> (version, monotonic time of the next try)
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._valid_until = 0.0
        self.control = ThreadPoolExecutor(1, thread_name_prefix="integrations-control")
        self.uplinks = ThreadPoolExecutor(UPLINK_THREADS, thread_name_prefix="integrations-uplinks")
        self.started = threading.Event()  # set once the first look at the database is done
        self.outbox = DownlinkOutbox(self)

    # --- control from other threads -------------------------------------------------------------

    def run_forever(self) -> None:
        asyncio.run(self.run())

    def request_stop(self) -> None:
        self._stop.set()
        self.nudge()

    def nudge(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # loop closed
                pass

    def _on_saved(self, sender, **kwargs) -> None:
        transaction.on_commit(self.nudge)

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        uid = f"integrations-runner-{id(self)}"
        post_save.connect(self._on_saved, sender=Integration, weak=False, dispatch_uid=uid)
        post_delete.connect(self._on_saved, sender=Integration, weak=False, dispatch_uid=uid)
        tenant_marked.connect(self._on_saved, sender=Tenant, weak=False, dispatch_uid=uid)  # its deletion began
        log.info("listener host %s started (lease %.0f s)", self.holder, self.ttl)
        # Renewal runs on its own, so that a slow stop or start never lets a lease lapse.
        heartbeat = self._loop.create_task(self._heartbeat(), name="lease-heartbeat")
        self.outbox.start()  # sends the downlinks of what runs here (integrations/downlink_host.py)
        try:
            while not self._stop.is_set():
                await self._tick()
                self.started.set()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            post_save.disconnect(dispatch_uid=uid, sender=Integration)
            post_delete.disconnect(dispatch_uid=uid, sender=Integration)
            tenant_marked.disconnect(dispatch_uid=uid, sender=Tenant)
            await self.outbox.stop()
            await asyncio.gather(*(self._stop_one(pk, events.STOPPED, release=True) for pk in list(self.hosted)))
            heartbeat.cancel()
            await asyncio.gather(heartbeat, *self._background, return_exceptions=True)
            self._shutdown_threads()
            log.info("listener host %s stopped", self.holder)

    async def _in_control(self, func, *args):
        return await self._loop.run_in_executor(self.control, with_connection, func, *args)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            await self._renew()

    async def _renew(self) -> None:
        ids = set(self.hosted) | self._stopping
        if not ids:
            return
        asked = time.monotonic()
        try:
            held = await asyncio.wait_for(self._in_control(leases.renew, ids, self.holder, self.ttl), self.ttl * 0.8)
        except Exception as exc:
            log.error("listener host %s cannot renew its leases: %s", self.holder, exc)
            if time.monotonic() > self._valid_until:
                log.error("listener host %s: its leases may have expired; stopping its integrations", self.holder)
                self._in_background(*(self._stop_one(pk, None, release=False) for pk in list(self.hosted)))
            return
        self._valid_until = asked + self.ttl * 0.8  # the leases renewed here hold at least until then
        for pk in set(self.hosted) - held:
            log.warning("listener host %s lost the lease of integration %s; stopping it", self.holder, pk)
            self._in_background(self._stop_one(pk, None, release=False))

    def _in_background(self, *coroutines) -> None:
        for coroutine in coroutines:
            task = self._loop.create_task(coroutine)
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _tick(self) -> None:
        running = {pk: hosted.integration.version for pk, hosted in self.hosted.items()}
        asked = time.monotonic()
        try:
            plan = await asyncio.wait_for(self._in_control(self._plan, running), self.ttl * 0.8)
        except Exception as exc:
            log.error("listener host %s cannot read the integrations: %s", self.holder, exc)
            return
        if plan.claimed and not self.hosted:
            self._valid_until = asked + self.ttl * 0.8  # the first leases: fresh since `asked`
        gone = [pk for pk in self.hosted if pk not in plan.wanted]
        await asyncio.gather(*(self._stop_one(pk, events.STOPPED if pk in plan.existing else None, release=True)
                               for pk in gone))
        await asyncio.gather(*(self._update(integration) for integration in plan.changed))
        await asyncio.gather(*(self._start(integration, events.STARTED) for integration in plan.claimed))

    def _plan(self, running: dict) -> _Plan:
        """In the control thread: what is wanted, what changed, and the leases newly claimed."""
        rows = wanted_integrations(self.kinds)
        wanted = dict(rows.values_list("pk", "version"))
        gone = [pk for pk in running if pk not in wanted]
        # a tenant being deleted gets no STOPPED event: its rows are going
        existing = set(Integration.objects.filter(pk__in=gone, tenant__deleting_ts__isnull=True)
                       .values_list("pk", flat=True)) if gone else set()
        now = time.monotonic()
        claimed = []
        for pk, version in wanted.items():
            failed = self._failed.get(pk)
            if pk in running or (failed and failed[0] == version and now < failed[1]):
                continue
            if leases.claim(pk, self.holder, self.ttl):
                integration = rows.filter(pk=pk).first()
                if integration is None:
                    leases.release(pk, self.holder)
                else:
                    claimed.append(integration)
        changed_ids = [pk for pk, version in running.items() if wanted.get(pk, version) != version]
        changed = list(rows.filter(pk__in=changed_ids)) if changed_ids else []
        for integration in (*claimed, *changed):
            # secrets resolved here, off the loop (vault/resolution.py), in the type's secret fields only
            prepare(integration, integration.type_class.secret_keys(integration.configuration))
        return _Plan(wanted, existing, claimed, changed)

    # --- one integration --------------------------------------------------------------------------

    async def _start(self, integration: Integration, event: str) -> None:
        sink = RunnerSink(integration, loop=self._loop, uplink_executor=self.uplinks, control_executor=self.control)
        try:
            instance = integration.type_class(integration)
            await asyncio.wait_for(instance.start(sink), START_TIMEOUT)
        except Exception as exc:
            error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            log.error("integration %s (%s) failed to start: %s", integration.name, integration.pk, error)
            self._failed[integration.pk] = (integration.version, time.monotonic() + RETRY_FAILED_AFTER)
            await self._in_control(partial(record_lifecycle, integration, events.FAILED, error=error, connected=False))
            await self._in_control(leases.release, integration.pk, self.holder)
            return
        self._failed.pop(integration.pk, None)
        self.hosted[integration.pk] = _Hosted(integration, instance, sink)
        log.info("integration %s (%s) %s on %s", integration.name, integration.pk, event, self.holder)
        sink.control(partial(record_lifecycle, integration, event, service_id=self.holder))
        self.outbox.wake([integration.pk])  # downlinks that waited while it was not running

    async def _update(self, integration: Integration) -> None:
        hosted = self.hosted.get(integration.pk)
        if hosted is None:  # stopped meanwhile (lease lost)
            return
        if _fingerprint(integration) == hosted.fingerprint:
            hosted.integration = hosted.sink.integration = integration  # debug settings etc.
            return
        await self._stop_one(integration.pk, None, release=False)
        await self._start(integration, events.UPDATED)

    async def _stop_one(self, pk, event: str | None, *, release: bool) -> None:
        hosted = self.hosted.pop(pk, None)
        if hosted is None:
            return
        self._stopping.add(pk)
        try:
            try:
                await asyncio.wait_for(hosted.instance.stop(), STOP_TIMEOUT)
            except Exception:
                log.exception("integration %s did not stop cleanly", pk)
            log.info("integration %s (%s) stopped on %s", hosted.integration.name, pk, self.holder)
            if event is not None:
                await self._in_control(partial(record_lifecycle, hosted.integration, event, connected=False))
            if release:
                await self._in_control(leases.release, pk, self.holder)
        except Exception:
            log.exception("listener host %s: recording the stop of %s failed", self.holder, pk)
        finally:
            self._stopping.discard(pk)

    def _shutdown_threads(self) -> None:
        """Close the database connections of the host's threads, then the threads themselves."""
        for executor, count in ((self.control, 1), (self.uplinks, UPLINK_THREADS)):
            barrier = threading.Barrier(count)

            def close(barrier=barrier):
                connections.close_all()
                try:
                    barrier.wait(5)
                except threading.BrokenBarrierError:
                    pass

            wait([executor.submit(close) for _ in range(count)], timeout=10)
            executor.shutdown(wait=False, cancel_futures=True)


class RunnerThread:
    """A Runner in a daemon thread with its own event loop: the embedded mode of ``serve``."""

    def __init__(self, runner: Runner | None = None):
        self.runner = runner or Runner()
        self.thread = threading.Thread(target=self.runner.run_forever, name="integrations-host", daemon=True)

    def start(self) -> "RunnerThread":
        self.thread.start()
        return self

    def stop(self, timeout: float = 20.0) -> None:
        self.runner.request_stop()
        self.thread.join(timeout)
