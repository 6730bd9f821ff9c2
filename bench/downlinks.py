"""Downlink throughput: shared-attribute updates turned into MQTT publishes a subscriber receives.

Production configuration, started here: PostgreSQL (the bench database), Redis (Celery broker and
the downlink announcements), daphne serving tbproject.asgi, one Celery worker and one
runintegrations process, each its own OS process, and the local Mosquitto (127.0.0.1:1883).

The path measured is ThingsBoard's downlink example: ``POST /api/plugins/telemetry/DEVICE/{id}/
attributes/SHARED_SCOPE`` (16 keep-alive API clients) -> ATTRIBUTES_UPDATED -> the root rule
chain (message type switch -> integration downlink node, imported through the API) ->
integrations.downlinks.submit -> the downlink converter (worker, in batches) -> the listener host ->
a QoS 1 publish on ``<prefix>/<deviceName>/down``, counted by a gmqtt subscriber here. The rate
is updates / (time of the last publish received - time of the first request).

Baseline, in the same run: a bare gmqtt client publishing the same number of QoS 1 messages
through the same send window (16 unacknowledged) to the same broker, counted by the same kind of
subscriber: the most any downlink path could deliver on this machine.
"""

import asyncio
import json
import os
import time
import uuid

from bench import procs

__all__ = ["run"]

REDIS_URL = os.environ.get("BENCH_DOWNLINKS_REDIS_URL", "redis://127.0.0.1:6379/12")
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
DEVICES = 20
CLIENTS = 16
WINDOW = 16
ENCODER = ("return {contentType: 'JSON', data: JSON.stringify({fw: msg.firmware}), "
           "metadata: {topic: integrationMetadata.prefix + '/' + metadata.deviceName + '/down'}};")
_TB = "org.thingsboard.rule.engine."


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


def _objects(prefix: str):
    """Tenant, tenant admin, devices, converters and the MQTT integration, through the ORM."""
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
    up = Converter.objects.create(tenant=tenant, name="bench-up", type="UPLINK",
                                  configuration={"scriptLang": "JS", "decoder": "return [];"})
    down = Converter.objects.create(tenant=tenant, name="bench-down", type="DOWNLINK",
                                    configuration={"scriptLang": "JS", "encoder": ENCODER})
    mqtt = Integration.objects.create(
        tenant=tenant, name="bench-mqtt-downlinks", type="MQTT", default_converter=up, downlink_converter=down,
        configuration={"clientConfiguration": {"host": MQTT_HOST, "port": MQTT_PORT},
                       "topicFilters": [{"filter": f"{prefix}/up/+", "qos": 1}], "downlinkTopicPattern": "${topic}",
                       "metadata": {"prefix": prefix}})
    return issue_pair(admin)["token"], devices, mqtt


async def _request(reader, writer, method: str, path: str, token: str, body: bytes) -> tuple[int, bytes]:
    writer.write((f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  f"X-Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


async def _api(port: int, token: str, calls: list[tuple[str, str, dict | None]], clients: int = CLIENTS) -> list:
    """Run ``(method, path, json body)`` calls over ``clients`` keep-alive connections."""
    queue: asyncio.Queue = asyncio.Queue()
    for n, call in enumerate(calls):
        queue.put_nowait((n, call))
    results: list = [None] * len(calls)

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                n, (method, path, body) = queue.get_nowait()
                results[n] = await _request(reader, writer, method, path, token,
                                            json.dumps(body).encode() if body is not None else b"")
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(min(clients, len(calls)) or 1)))
    return results


class _Counter:
    """A gmqtt subscriber counting QoS 1 messages; ``last`` is the monotonic time of the latest."""

    def __init__(self, topic_filter: str):
        self.topic_filter, self.count, self.last = topic_filter, 0, 0.0
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


async def _pipeline(port: int, token: str, devices, prefix: str, n: int, timeout: float) -> tuple[float, float]:
    path = "/api/plugins/telemetry/DEVICE/{}/attributes/SHARED_SCOPE"
    async with _Counter(f"{prefix}/+/down") as counter:
        warm = [("POST", path.format(d.pk), {"firmware": "warm"}) for d in devices]
        assert all(status == 200 for status, _ in await _api(port, token, warm)), "warm-up updates refused"
        if not await counter.wait(len(warm), 60):
            raise RuntimeError(f"warm-up: {counter.count} of {len(warm)} downlinks arrived; see var/bench/*.log")
        calls = [("POST", path.format(devices[i % len(devices)].pk), {"firmware": f"1.{i}"}) for i in range(n)]
        base, started = counter.count, time.monotonic()
        statuses = await _api(port, token, calls)
        sent = time.monotonic() - started
        refused = [s for s, _ in statuses if s != 200]
        if refused:
            raise RuntimeError(f"{len(refused)} attribute updates refused: {refused[:3]}")
        if not await counter.wait(base + n, timeout):
            raise RuntimeError(f"{counter.count - base} of {n} downlinks arrived within {timeout:.0f} s")
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


def run(quick: bool = False) -> list[dict]:
    import redis

    from integrations.models import Integration

    redis.Redis.from_url(REDIS_URL).flushdb()
    n = 300 if quick else 3000
    prefix = f"bench-dl/{uuid.uuid4().hex[:8]}"
    token, devices, mqtt = _objects(prefix)
    env = procs.production_env(REDIS_URL)
    port = procs.free_port()
    with procs.web(env, port), procs.worker(env), procs.listener_host(env):
        chain = asyncio.run(_api(port, token, [("POST", "/api/ruleChain/import", _chain(mqtt.pk))]))[0]
        assert chain[0] == 200, chain
        chain_id = json.loads(chain[1])["ruleChain"]["id"]["id"]
        assert asyncio.run(_api(port, token, [("POST", f"/api/ruleChain/{chain_id}/root", None)]))[0][0] == 200
        deadline = time.monotonic() + 30
        while not Integration.objects.filter(pk=mqtt.pk, connected=True).exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the MQTT integration did not connect: see var/bench/integrations.log")
            time.sleep(0.1)
        took, sent = asyncio.run(_pipeline(port, token, devices, prefix, n, 60 if quick else 300))
    stages = _stages(mqtt)
    bare = asyncio.run(_bare(prefix, n))
    rate, bare_rate = n / took, n / bare
    return [{"metric": "downlinks_shared_attribute_to_mqtt_per_s", "value": round(rate), "unit": "msg/s",
             "baseline": f"bare gmqtt QoS 1 publish loop (window {WINDOW}) to the same broker (msg/s)",
             "baseline_value": round(bare_rate), "ratio": round(rate / bare_rate, 3),
             "target": "none set (issue 6 asks for the figure beside the baseline)", "messages": n,
             "api_update_rate": round(n / sent), "devices": DEVICES, "api_clients": CLIENTS, **stages}]


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
            print(f"{row['metric']}: {row['value']:,} {row['unit']} (API {row['api_update_rate']:,} updates/s); "
                  f"bare gmqtt publish loop: {row['baseline_value']:,} msg/s; ratio {row['ratio']}; "
                  f"median ms submit->encoded {row['median_submit_to_encoded_ms']}, "
                  f"encoded->delivered {row['median_encoded_to_delivered_ms']}")
