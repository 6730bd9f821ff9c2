"""Downlink throughput: shared-attribute updates turned into MQTT publishes a subscriber receives.

Production configuration, started here: PostgreSQL (the bench database), Redis (Celery broker and
the downlink announcements), uvicorn serving tbproject.asgi (with ``DB_POOL_SIZE``, as the README
advises for the web process), one Celery worker and one runintegrations process, each its own OS
process, and the local Mosquitto (127.0.0.1:1883).

The path measured is ThingsBoard's downlink example: ``POST /api/plugins/telemetry/DEVICE/{id}/
attributes/SHARED_SCOPE`` -> ATTRIBUTES_UPDATED (queued for the rule engine in batches,
rulechains/outbox.py) -> the root rule chain (message type switch -> integration downlink node,
imported through the API) -> integrations.downlinks.submit_many -> the downlink converter (in the
worker, one run per batch) -> the listener host -> a QoS 1 publish on ``<prefix>/<deviceName>/down``,
counted per topic by a gmqtt subscriber here. Three rows:

- updates through the API (16 keep-alive clients, 20 devices): updates / (last publish received -
  first request);
- the rule engine onwards: ATTRIBUTES_UPDATED messages of a fleet, one per device, queued in
  batches of 500 (what a save for a whole device group would queue; ThingsBoard has no such API
  call, see docs/performance.md) to the last publish received;
- the fleet fan-out a user does with ThingsBoard's API: one shared-attribute save per device of
  the fleet (10,000; 2,000 with --quick), pipelined over 16 connections, to the last publish
  received. Every device must receive its message exactly once, or the row fails.

Baseline, in the same run: a bare gmqtt client publishing as many QoS 1 messages as the fleet has
devices through the same send window (16 unacknowledged) to the same broker, counted by the same
kind of subscriber (the faster of a run before and one after the scenarios): the most any
downlink path could deliver on this machine.
"""

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from pathlib import Path

from bench import mqtt_uplinks, procs
from bench.api_calls import call_all

__all__ = ["run"]

REDIS_URL = os.environ.get("BENCH_DOWNLINKS_REDIS_URL", "redis://127.0.0.1:6379/12")
#: The bench's own Mosquitto (bench/mqtt_uplinks.broker: set_tcp_nodelay on), started by run().
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
DEVICES = 20
CLIENTS = 16
PIPELINE = 8
WINDOW = 16
RULE_BATCH = 500
#: The web process's database pool (README: DB_POOL_SIZE is meant for the web process).
WEB_DB_POOL = "20"
ENCODER = ("return {contentType: 'JSON', data: JSON.stringify({fw: msg.firmware}), "
           "metadata: {topic: integrationMetadata.prefix + '/' + metadata.deviceName + '/down'}};")
_TB = "org.thingsboard.rule.engine."
_ATTRIBUTES = "/api/plugins/telemetry/DEVICE/{}/attributes/SHARED_SCOPE"


def _chain(integration_id) -> dict:
    def node(kind, name, configuration):
        return {"type": _TB + kind, "name": name, "debugMode": False, "configuration": configuration,
                "additionalInfo": {"layoutX": 0, "layoutY": 0}}

    return {"ruleChain": {"name": "bench downlinks", "root": False, "debugMode": False, "configuration": None},
            "metadata": {"firstNodeIndex": 0,
                         "nodes": [node("filter.TbMsgTypeSwitchNode", "switch", {"version": 0}),
                                   node("integration.TbIntegrationDownlinkNode", "push",
                                        {"integrationId": str(integration_id)})],
                         "connections": [{"fromIndex": 0, "toIndex": 1, "type": "Attributes Updated"}],
                         "ruleChainConnections": None}}


def _objects(prefix: str, fleet_size: int):
    """Tenant, tenant admin, devices, a fleet, converters and the MQTT integration, through the ORM."""
    from django.db import connection

    from converters.models import Converter
    from devices.models import Device, DeviceProfile
    from integrations.models import Integration
    from tbproject.api.tokens import issue_pair
    from tenants.choices import Authority
    from tenants.models import Tenant, User

    tenant = Tenant.objects.create(title=f"bench-dl-{uuid.uuid4().hex[:6]}")
    admin = User.objects.create_user(f"{tenant.title}@example.com", uuid.uuid4().hex,
                                     authority=Authority.TENANT_ADMIN, tenant=tenant)
    profile = DeviceProfile.objects.filter(tenant=tenant, is_default=True).first() \
        or DeviceProfile.objects.create(tenant=tenant, name="default", is_default=True)
    devices = [Device.objects.create(tenant=tenant, name=f"dl-{i:03d}", profile=profile) for i in range(DEVICES)]
    fleet = Device.objects.bulk_create([Device(tenant=tenant, name=f"fleet-{i:05d}", profile=profile)
                                        for i in range(fleet_size)], batch_size=1000)
    with connection.cursor() as cursor:  # what autovacuum does within a minute of such an insert
        cursor.execute("ANALYZE devices_device")
    up = Converter.objects.create(tenant=tenant, name="bench-up", type="UPLINK",
                                  configuration={"scriptLang": "JS", "decoder": "return [];"})
    down = Converter.objects.create(tenant=tenant, name="bench-down", type="DOWNLINK",
                                    configuration={"scriptLang": "JS", "encoder": ENCODER})
    mqtt = Integration.objects.create(
        tenant=tenant, name="bench-mqtt-downlinks", type="MQTT", default_converter=up, downlink_converter=down,
        configuration={"clientConfiguration": {"host": MQTT_HOST, "port": MQTT_PORT},
                       "topicFilters": [{"filter": f"{prefix}/up/+", "qos": 1}], "downlinkTopicPattern": "${topic}",
                       "metadata": {"prefix": prefix}})
    return issue_pair(admin)["token"], devices, fleet, mqtt


class _Counter:
    """A gmqtt subscriber counting QoS 1 messages per topic; ``last`` is the monotonic time of the latest."""

    def __init__(self, topic_filter: str):
        self.topic_filter, self.count, self.last = topic_filter, 0, 0.0
        self.topics: Counter = Counter()
        self.client = None

    async def __aenter__(self):
        from gmqtt import Client

        subscribed = asyncio.Event()
        self.client = Client(f"bench-sub-{uuid.uuid4().hex[:8]}", clean_session=True)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        await self.client.connect(MQTT_HOST, MQTT_PORT, version=4)
        self.client.subscribe(self.topic_filter, qos=1)
        await asyncio.wait_for(subscribed.wait(), 10)
        return self

    def _on_message(self, client, topic, payload, qos, properties):
        self.count += 1
        self.topics[topic] += 1
        self.last = time.monotonic()
        return 0

    async def wait(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def __aexit__(self, *exc):
        await self.client.disconnect()


async def _updates(port: int, token: str, devices, prefix: str, n: int, timeout: float) -> tuple[float, float]:
    """n updates through the API over the 20 devices; (seconds to the last publish, seconds sending)."""
    async with _Counter(f"{prefix}/+/down") as counter:
        warm = [("POST", _ATTRIBUTES.format(d.pk), {"firmware": "warm"}) for d in devices]
        assert all(status == 200 for status, _ in await call_all(port, token, warm)), "warm-up updates refused"
        if not await counter.wait(len(warm), 60):
            raise RuntimeError(f"warm-up: {counter.count} of {len(warm)} downlinks arrived; see var/bench/*.log")
        calls = [("POST", _ATTRIBUTES.format(devices[i % len(devices)].pk), {"firmware": f"1.{i}"}) for i in range(n)]
        base, started = counter.count, time.monotonic()
        _refused(await call_all(port, token, calls, clients=CLIENTS))
        sent = time.monotonic() - started
        if not await counter.wait(base + n, timeout):
            raise RuntimeError(f"{counter.count - base} of {n} downlinks arrived within {timeout:.0f} s")
        return counter.last - started, sent


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its descendants (/proc), in seconds: a figure that, unlike a
    rate, does not depend on what else the machine runs."""
    ticks, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def _refused(statuses) -> None:
    refused = [s for s, _ in statuses if s != 200]
    if refused:
        raise RuntimeError(f"{len(refused)} attribute updates refused: {refused[:3]}")


def _exactly_once(counter: _Counter, prefix: str, fleet) -> None:
    wrong = [d.name for d in fleet if counter.topics[f"{prefix}/{d.name}/down"] != 1]
    if wrong:
        raise RuntimeError(f"{len(wrong)} of {len(fleet)} devices did not receive exactly one downlink: {wrong[:3]}")


async def _rule_engine(tenant_id, fleet, prefix: str, timeout: float) -> float:
    """One ATTRIBUTES_UPDATED per fleet device, queued in batches of RULE_BATCH; seconds to the last publish."""
    from celery import Celery

    from rulechains import messages as m

    producer = Celery("bench-downlinks", broker=REDIS_URL)
    payloads = [[m.encode(m.Msg(m.ATTRIBUTES_UPDATED, tenant_id, "DEVICE", d.pk, {"firmware": "2.0"},
                                {"scope": "SHARED_SCOPE", "deviceName": d.name, "deviceType": "default"}))
                 for d in fleet[start:start + RULE_BATCH]] for start in range(0, len(fleet), RULE_BATCH)]
    async with _Counter(f"{prefix}/+/down") as counter:
        started = time.monotonic()
        for payload in payloads:
            producer.send_task("rulechains.tasks.process_messages", args=[payload])
        if not await counter.wait(len(fleet), timeout):
            raise RuntimeError(f"rule engine: {counter.count} of {len(fleet)} downlinks arrived within {timeout:.0f} s")
        await asyncio.sleep(0.5)  # a duplicate would come right behind
        _exactly_once(counter, prefix, fleet)
        return counter.last - started


async def _fan_out(port: int, token: str, fleet, prefix: str, timeout: float) -> tuple[float, float]:
    """One save per fleet device, pipelined; (seconds to the last publish, seconds sending)."""
    calls = [("POST", _ATTRIBUTES.format(d.pk), {"firmware": "3.0"}) for d in fleet]
    async with _Counter(f"{prefix}/+/down") as counter:
        started = time.monotonic()
        _refused(await call_all(port, token, calls, clients=CLIENTS, pipeline=PIPELINE))
        sent = time.monotonic() - started
        if not await counter.wait(len(fleet), timeout):
            raise RuntimeError(f"fan-out: {counter.count} of {len(fleet)} downlinks arrived within {timeout:.0f} s")
        await asyncio.sleep(0.5)
        _exactly_once(counter, prefix, fleet)
        return counter.last - started, sent


async def _bare(prefix: str, n: int) -> float:
    from gmqtt import Client

    async with _Counter(f"{prefix}/bare/#") as counter:
        client = Client(f"bench-bare-{uuid.uuid4().hex[:8]}")
        await client.connect(MQTT_HOST, MQTT_PORT, version=4)
        started = time.monotonic()
        for i in range(n):
            client.publish(f"{prefix}/bare/dl-{i % DEVICES:03d}/down", json.dumps({"fw": f"1.{i}"}).encode(), qos=1)
            if (i + 1) % WINDOW == 0:  # the window a downlink publisher keeps (DESIGN.md section 9)
                await asyncio.wait_for(client._persistent_storage.wait_empty(), 30)
        await asyncio.wait_for(client._persistent_storage.wait_empty(), 30)
        if not await counter.wait(n, 60):
            raise RuntimeError(f"bare publish loop: {counter.count} of {n} messages arrived")
        took = counter.last - started
        await client.disconnect()
    return took


def _setup_chain(port: int, token: str, integration) -> None:
    from integrations.models import Integration

    chain = asyncio.run(call_all(port, token, [("POST", "/api/ruleChain/import", _chain(integration.pk))]))[0]
    assert chain[0] == 200, chain
    chain_id = json.loads(chain[1])["ruleChain"]["id"]["id"]
    assert asyncio.run(call_all(port, token, [("POST", f"/api/ruleChain/{chain_id}/root", None)]))[0][0] == 200
    deadline = time.monotonic() + 30
    while not Integration.objects.filter(pk=integration.pk, connected=True).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the MQTT integration did not connect: see var/bench/integrations.log")
        time.sleep(0.1)


def run(quick: bool = False) -> list[dict]:
    # Debian's default Mosquitto leaves Nagle's algorithm on for its clients: a window of QoS 1
    # publishes then waits for the client's delayed ACK (40 ms) before the broker's PUBACKs go out,
    # and a bare publish loop measured 360/s against 13,000/s with set_tcp_nodelay (DESIGN.md, section 9).
    global MQTT_PORT
    with mqtt_uplinks.broker() as MQTT_PORT:
        return _run(quick)


def _run(quick: bool) -> list[dict]:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    n, fleet_size = (300, 2000) if quick else (3000, 10_000)
    prefix = f"bench-dl/{uuid.uuid4().hex[:8]}"
    token, devices, fleet, mqtt = _objects(prefix, fleet_size)
    env = procs.production_env(REDIS_URL)
    port = procs.free_port()
    first_bare = asyncio.run(_bare(prefix, fleet_size))
    with procs.web(dict(env, DB_POOL_SIZE=WEB_DB_POOL), port) as web, procs.worker(env), procs.listener_host(env):
        _setup_chain(port, token, mqtt)
        cpu = _cpu_seconds(web.pid())
        took, sent = asyncio.run(_updates(port, token, devices, prefix, n, 60 if quick else 300))
        # the web process's CPU per API update (warm-up included: 20 more requests)
        web_cpu_ms = round((_cpu_seconds(web.pid()) - cpu) * 1000 / (n + DEVICES), 3)
        stages = _stages(mqtt)
        engine_took = asyncio.run(_rule_engine(mqtt.tenant_id, fleet, prefix, 120 if quick else 300))
        cpu = _cpu_seconds(web.pid())
        fan_took, fan_sent = asyncio.run(_fan_out(port, token, fleet, prefix, 300 if quick else 900))
        fan_cpu_ms = round((_cpu_seconds(web.pid()) - cpu) * 1000 / fleet_size, 3)
    # The bare loop's best of two runs, before and after the scenarios: the broker and the cores are
    # shared, and one short run can catch a slow moment (300 messages ran at 800/s and at 12,000/s).
    bare_fleet = min(first_bare, asyncio.run(_bare(prefix, fleet_size)))
    bare = bare_fleet * n / fleet_size
    baseline = f"bare gmqtt QoS 1 publish loop (window {WINDOW}) to the same broker (msg/s)"
    common = {"unit": "msg/s", "baseline": baseline, "target": ">= 2,000/s and >= 0.5 of the baseline (issue 18)"}
    return [
        {"metric": "downlinks_shared_attribute_to_mqtt_per_s", "value": round(n / took), **common,
         "baseline_value": round(n / bare), "ratio": round(bare / took, 3), "messages": n,
         "api_update_rate": round(n / sent), "web_cpu_ms_per_update": web_cpu_ms,
         "devices": DEVICES, "api_clients": CLIENTS, **stages},
        {"metric": "downlinks_rule_engine_to_mqtt_per_s", "value": round(fleet_size / engine_took), **common,
         "baseline_value": round(fleet_size / bare_fleet), "ratio": round(bare_fleet / engine_took, 3),
         "messages": fleet_size, "rule_engine_batch": RULE_BATCH, "exactly_once": True},
        {"metric": "downlinks_fleet_fan_out_seconds", "value": round(fan_took, 2), "unit": "s",
         "baseline": f"bare gmqtt QoS 1 publish loop (window {WINDOW}) of as many messages (s)",
         "baseline_value": round(bare_fleet, 2), "ratio": round(bare_fleet / fan_took, 3),
         "target": "every device receives its message exactly once (issue 18)", "devices": fleet_size,
         "rate": round(fleet_size / fan_took), "api_update_rate": round(fleet_size / fan_sent),
         "web_cpu_ms_per_update": fan_cpu_ms,
         "api_clients": CLIENTS, "pipeline": PIPELINE, "exactly_once": True},
    ]


def _stages(integration) -> dict:
    """Median milliseconds from submit to encoded and from encoded to delivered (the table's times)."""
    from integrations.models import OutgoingDownlink

    rows = list(OutgoingDownlink.objects.filter(integration=integration, delivered_ts__isnull=False)
                .values_list("created_ts", "encoded_ts", "delivered_ts"))

    def median(values):
        values = sorted(values)
        return values[len(values) // 2] if values else None

    return {"median_submit_to_encoded_ms": median([e - c for c, e, _ in rows]),
            "median_encoded_to_delivered_ms": median([d - e for _, e, d in rows])}


if __name__ == "__main__":  # python -m bench.downlinks [--quick]: this benchmark alone
    import sys

    from bench.setup import bench_database

    with bench_database():
        for row in run(quick="--quick" in sys.argv):
            print(json.dumps(row))
