"""MQTT QoS 1 uplinks end to end, through a Mosquitto configured for an integration subscriber.

The benchmark starts its own Mosquitto (the machine's, on a free port, config below) rather than
using the system broker's defaults: Mosquitto sends a subscriber at most 20 unacknowledged QoS 1
messages (``max_inflight_messages``) and silently drops past 1,000 queued (DESIGN.md section 9).
An integration acknowledges a message only once it is durably queued, a few milliseconds after it
arrived, so 20 in flight caps any subscriber near 3,000 msg/s, and a broker that drops measures
nothing. A deployment that feeds an integration this fast configures its broker the same way.
Both the integration and the baseline (a bare gmqtt subscriber counting the same messages,
bench/bare_mqtt.py) subscribe to this broker.
"""

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench import procs
from bench.setup import processed

__all__ = ["run", "broker"]

HOST = "127.0.0.1"
CONFIG = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 1000
set_tcp_nodelay true
max_queued_messages 1000000
"""


@contextmanager
def broker(logs: Path | None = None):
    """A Mosquitto of the benchmark's own; yields its port."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = procs.free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(CONFIG.format(port=port))
        with procs.Service("mosquitto", [binary, "-c", str(conf)], {}, port=port, logs=logs):
            yield port


async def _publish(port: int, topic_prefix: str, bodies: list[bytes], clients: int = 8, window: int = 100) -> None:
    from gmqtt import Client

    async def one(part: list[bytes], k: int):
        client = Client(f"bench-pub-{uuid.uuid4().hex[:8]}")
        await client.connect(HOST, port, version=4)
        for n, body in enumerate(part, 1):
            client.publish(f"{topic_prefix}/{k}", body, qos=1)
            if n % window == 0:  # bounded in flight: a publisher must not outrun the broker's queue
                await asyncio.wait_for(client._persistent_storage.wait_empty(), 30)
        await asyncio.wait_for(client._persistent_storage.wait_empty(), 30)
        await client.disconnect()

    await asyncio.gather(*(one(bodies[k::clients], k) for k in range(clients)))


def _integration(tenant, conv, port: int, prefix: str):
    from integrations.models import Integration

    return Integration.objects.create(tenant=tenant, name=f"bench-mqtt-{prefix[-8:]}", type="MQTT",
                                      default_converter=conv,
                                      configuration={"clientConfiguration": {"host": HOST, "port": port},
                                                     "topicFilters": [{"filter": f"{prefix}/+", "qos": 1}]})


def _wait_connected(integration) -> None:
    from integrations.models import Integration

    deadline = time.monotonic() + 30
    while not Integration.objects.filter(pk=integration.pk, connected=True).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the MQTT integration did not connect: see var/bench/integrations.log")
        time.sleep(0.1)


def _bare(env, port: int, bodies: list[bytes]) -> float:
    """Seconds the bare subscriber took to receive every message, from the first publish."""
    prefix = f"bench/{uuid.uuid4().hex[:8]}"
    bare = subprocess.Popen([sys.executable, "-m", "bench.bare_mqtt", HOST, str(port), f"{prefix}/+",
                             str(len(bodies))], cwd=procs.ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        if bare.stdout.readline().strip() != "ready":
            raise RuntimeError("the bare MQTT subscriber did not start")
        started = time.monotonic()
        asyncio.run(_publish(port, prefix, bodies))
        line = bare.stdout.readline().split()
        return float(line[1]) - started
    finally:
        bare.kill()
        bare.wait()


def _round(env, dsn, mqtt, port: int, prefix: str, clock, n: int, concurrency: int | None, *, readings,
           wait_stored, devices: int):
    """Publish ``n`` messages with one worker of ``concurrency`` pool processes (None: bench/procs.worker's
    default, one per CPU); (seconds to stored, publish seconds)."""
    first = clock.take(n)
    bodies = [json.dumps(r).encode() for r in readings(n, first)]
    from integrations.models import Integration

    Integration.objects.filter(pk=mqtt.pk).update(connected=False)  # the next listener host sets it
    with ExitStack() as stack:
        stack.enter_context(procs.worker(env, concurrency))
        stack.enter_context(procs.listener_host(env))
        _wait_connected(mqtt)
        before = processed(dsn) + devices  # once the warm-up is stored and counted
        warm_first = clock.take(devices)  # every worker process learns the devices and the converter
        asyncio.run(_publish(port, prefix, [json.dumps(r).encode() for r in readings(devices, warm_first)]))
        if wait_stored(dsn, warm_first, warm_first + devices, devices * 3, 120, processed_at_least=before) is None:
            raise RuntimeError("MQTT warm-up uplinks were not stored")
        started = time.perf_counter()
        asyncio.run(_publish(port, prefix, bodies))
        published = time.perf_counter() - started
        done = wait_stored(dsn, first, first + n, n * 3, 180, processed_at_least=before + n)
    if done is None:
        raise RuntimeError(f"MQTT (concurrency {concurrency}): not all of {n} messages were stored in time")
    return done - started, published, bodies


def run(env, dsn, tenant, conv, clock, quick: bool, *, readings, wait_stored, row, devices, **_) -> list[dict]:
    """The MQTT row with the worker as production runs it (one pool process per CPU), then the
    same load with one pool process (``--concurrency 1``, its pipeline batches overlapped:
    integrations/overlap.py) for comparison (issue 18 items 3 and 4: the MQTT path is bound by
    the worker, and everything shares the machine's two cores)."""
    n = 5000 if quick else 30000
    shared = {"readings": readings, "wait_stored": wait_stored, "devices": devices}
    processes = procs.default_concurrency()
    with broker() as port:
        prefix = f"bench/{uuid.uuid4().hex[:8]}"
        mqtt = _integration(tenant, conv, port, prefix)
        try:
            took, published, bodies = _round(env, dsn, mqtt, port, prefix, clock, n, None, **shared)
            took1, _, _ = _round(env, dsn, mqtt, port, prefix, clock, n, 1, **shared)
        finally:
            mqtt.delete()
        bare_took = _bare(env, port, bodies)
    rate = n / took
    return [row("mqtt_qos1_uplink_stored_msg_per_s", rate, "msg/s",
                "bare gmqtt subscriber counting the same QoS 1 messages (msg/s)", n / bare_took,
                ">= 3000 msg/s (issue 4), >= 10000 and >= 0.5 of the bare subscriber (issues 9, 18)", messages=n,
                publish_rate=round(n / published), worker_pool_processes=processes,
                broker="Mosquitto, max_inflight_messages 1000, set_tcp_nodelay true (bench/mqtt_uplinks.py)"),
            row("mqtt_qos1_uplink_stored_msg_per_s_concurrency1", n / took1, "msg/s",
                f"the worker's default {processes} pool processes, same run (msg/s)", rate,
                "informational: one pool process, batches overlapped (issue 18 item 3)", messages=n,
                worker_pool_processes=1)]


if __name__ == "__main__":  # python -m bench.mqtt_uplinks: this scenario alone, quick
    from bench import uplinks
    from bench.setup import bench_database

    with bench_database() as url:
        for result in uplinks.run(quick=True, only={"mqtt"}):
            print(result)
