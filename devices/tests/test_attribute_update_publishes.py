"""Shared-attribute changes cross processes (Redis pub/sub, every web process's listener decodes each
one) only for a device some process has a long poll waiting for (devices/attribute_updates.py,
tbproject.waits.expect): an asset's shared attributes, or a device nobody polls, publish nothing.
Counted with a stand-in Redis client (always) and on the Redis of REDIS_URL (when set)."""

import os
import threading
import time
import uuid

import pytest

from devices import attribute_updates
from devices.attributes import delete_attributes, save_attributes, save_attributes_many
from devices.choices import AttributeScope
from tbproject import waits
from tbproject.clock import now_ms
from tbproject.testing.factories import make_asset, make_device

SHARED = AttributeScope.SHARED_SCOPE
BIG = {"blob": "x" * 100_000}
BOUND = 30  # seconds: a bound on a step, never a measurement


class FakeRedis:
    """What waits.notify_many and waits.expect ask of a Redis client, with the PUBLISHes recorded."""

    def __init__(self):
        self.keys, self.published = {}, []
        self.connection_pool = type("Pool", (), {"connection_kwargs": {"db": 3}})()

    def mget(self, names):
        return [self.keys.get(name) for name in names]

    def pipeline(self, transaction=True):
        return FakePipeline(self)


class FakePipeline:
    def __init__(self, redis):
        self.redis, self.ops = redis, []

    def set(self, name, value, px=None, nx=False):
        keys = self.redis.keys
        self.ops.append(lambda: keys.setdefault(name, value) if nx else keys.update({name: value}))

    def pexpire(self, name, ms, gt=False):
        self.ops.append(lambda: None)

    def publish(self, channel, message):
        self.ops.append(lambda: self.redis.published.append((channel, message)))

    def execute(self):
        for op in self.ops:
            op()


@pytest.fixture
def fake_redis(settings, monkeypatch):
    settings.REDIS_URL = "redis://stand-in:6379/3"
    fake = FakeRedis()
    monkeypatch.setattr(waits.redis_client, "shared", lambda **_: fake)
    return fake


def test_it_publishes_only_for_a_device_a_poll_waits_for(db, tenant, fake_redis, django_capture_on_commit_callbacks):
    polled, idle, asset = make_device(tenant, "polled"), make_device(tenant, "idle"), make_asset(tenant, "plant")
    with django_capture_on_commit_callbacks(execute=True):
        save_attributes(asset.pk, SHARED, BIG)
        save_attributes(idle.pk, SHARED, BIG)
        save_attributes_many([(asset.pk, SHARED, "k", 1, now_ms()), (idle.pk, SHARED, "k", 1, now_ms())])
        delete_attributes(asset.pk, SHARED, ["k"])
    assert fake_redis.published == []  # nobody polls them: no payload on the channel

    waits.expect(attribute_updates.key(polled.pk), 60_000)  # what a poll of the device does before it waits
    with django_capture_on_commit_callbacks(execute=True):
        save_attributes(polled.pk, SHARED, {"target": 21})
        save_attributes(asset.pk, SHARED, BIG)
    assert len(fake_redis.published) == 1
    assert str(polled.pk) in fake_redis.published[0][1] and "blob" not in fake_redis.published[0][1]


def test_a_batch_decodes_values_only_for_a_device_a_poll_waits_for(db, tenant, fake_redis, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    from devices import attributes

    polled, idle = make_device(tenant, "polled-d"), make_device(tenant, "idle-d")
    decoded = []
    real = attributes.decode
    monkeypatch.setattr(attributes, "decode", lambda *cols: decoded.append(cols) or real(*cols))
    with django_capture_on_commit_callbacks(execute=True):
        save_attributes_many([(idle.pk, SHARED, f"k{i}", i, now_ms()) for i in range(50)])
    assert decoded == [] and fake_redis.published == []  # nobody polls: nothing decoded, nothing sent

    waits.expect(attribute_updates.key(polled.pk), 60_000)
    with django_capture_on_commit_callbacks(execute=True):
        save_attributes_many([(idle.pk, SHARED, "k", 1, now_ms()), (polled.pk, SHARED, "target", 21.5, now_ms())])
    assert len(decoded) == 1  # the polled device's one value
    assert len(fake_redis.published) == 1 and '"target":21.5' in fake_redis.published[0][1]


def test_a_poll_marks_its_device_as_expected_before_it_waits(db, tenant, fake_redis, monkeypatch):
    device, seen = make_device(tenant, "marked"), []
    mark = f"{waits.CHANNEL}:expect:{attribute_updates.key(device.pk)}"
    monkeypatch.setattr(attribute_updates.deferred, "answer_when",
                        lambda request, key, **kw: seen.append((key, mark in fake_redis.keys, kw["device_poll"])))
    attribute_updates.answer_when_changed(None, device, 1000, lambda update: update)
    assert seen == [(attribute_updates.key(device.pk), True, True)]  # marked first; counted as the device's poll


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL; .ci/run does)")
def test_on_redis_an_unpolled_entity_publishes_nothing_and_a_polled_device_is_woken(db, tenant, settings):
    import redis

    settings.REDIS_URL = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(waits._channel(client))
    device, asset = make_device(tenant, "r-polled"), make_asset(tenant, "r-plant")
    got = []
    try:
        attribute_updates._publish([(str(asset.pk), BIG, []), (str(uuid.uuid4()), BIG, [])])
        thread = threading.Thread(target=lambda: got.append(attribute_updates.wait(device.pk, BOUND)))
        thread.start()
        deadline = time.monotonic() + BOUND
        while not (attribute_updates.waiting(device.pk) and waits._listener().ready.is_set()):
            assert time.monotonic() < deadline, "the waiter never armed"
            time.sleep(0.01)
        attribute_updates._publish([(str(asset.pk), BIG, []), (str(device.pk), {"on": True}, [])])
        thread.join(BOUND)
        messages = []
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            if message["type"] == "message":
                messages.append(message["data"])
    finally:
        pubsub.close()
        client.delete(f"{waits.CHANNEL}:expect:{attribute_updates.key(device.pk)}")
    assert got == [{"on": True}]
    assert len(messages) == 1 and str(device.pk).encode() in messages[0]
