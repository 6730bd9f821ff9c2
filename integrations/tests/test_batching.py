"""The batcher between a listener and the queue: group commit, retries, and what stopping leaves
unacknowledged. No broker needed."""

import asyncio

import pytest

from integrations.listeners.batching import NotAcknowledged, UplinkBatcher
from integrations.messages import RawUplink


def uplink(n: int) -> RawUplink:
    return RawUplink("i-1", b"%d" % n)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 20))


def test_what_arrives_during_a_hand_over_goes_in_the_next_batch():
    batches = []
    gate = None

    async def emit(uplinks):
        batches.append([u.payload for u in uplinks])
        await gate.wait()

    async def scenario():
        nonlocal gate
        gate = asyncio.Event()
        batcher = UplinkBatcher(emit, max_batch=3)
        batcher.start()
        first = batcher.add(uplink(0))
        await asyncio.sleep(0.01)  # the lone message goes at once
        rest = [batcher.add(uplink(n)) for n in range(1, 6)]
        gate.set()
        await asyncio.gather(first, *rest)
        await batcher.close()

    run(scenario())
    assert batches == [[b"0"], [b"1", b"2", b"3"], [b"4", b"5"]]


def test_a_refused_batch_is_retried_and_only_then_resolved():
    calls = []

    async def emit(uplinks):
        calls.append(len(uplinks))
        if len(calls) == 1:
            raise RuntimeError("broker down")

    errors = []

    async def scenario():
        batcher = UplinkBatcher(emit, on_error=errors.append)
        batcher.start()
        future = batcher.add(uplink(1))
        await asyncio.sleep(0.05)
        assert not future.done()  # not queued yet: must not be acknowledged
        await future
        await batcher.close()

    run(scenario())
    assert calls == [1, 1] and errors == ["Failed to queue uplinks: broker down"]


def test_closing_refuses_what_could_not_be_queued_in_time():
    async def emit(uplinks):
        await asyncio.sleep(3600)

    async def scenario():
        batcher = UplinkBatcher(emit)
        batcher.start()
        waiting = batcher.add(uplink(1))
        await asyncio.sleep(0.01)
        await batcher.close(timeout=0.1)
        with pytest.raises(NotAcknowledged):
            await waiting
        with pytest.raises(NotAcknowledged):
            batcher.add(uplink(2))
        assert not batcher.offer(uplink(3))

    run(scenario())


def test_unacknowledged_messages_are_dropped_past_the_pending_limit():
    async def emit(uplinks):
        raise RuntimeError("down")

    async def scenario():
        batcher = UplinkBatcher(emit, max_pending=2)
        batcher.start()
        offered = [batcher.offer(uplink(n)) for n in range(5)]  # before the batcher runs: two are held
        await batcher.close(timeout=0.05)
        return offered, batcher.dropped, batcher.offer(uplink(6))

    assert run(scenario()) == ([True, True, False, False, False], 3, False)


def test_a_rate_limit_check_that_fails_does_not_stop_the_batcher():
    """The sink's admit reads the tenant's limits from the database; when that read failed (a
    terminated connection) the batcher's task died and the listener queued nothing more."""
    batches = []

    class Sink:
        admits = 0

        async def __call__(self, uplinks):
            batches.append([u.payload for u in uplinks])

        async def admit(self, n):
            Sink.admits += 1
            if Sink.admits == 1:
                raise RuntimeError("terminating connection due to administrator command")
            return n

    async def scenario():
        batcher = UplinkBatcher(Sink(), linger=0)
        batcher.start()
        await batcher.add(uplink(1))
        await batcher.add(uplink(2))
        await batcher.close()

    run(scenario())
    assert batches == [[b"1"], [b"2"]]


def _counting(batches: list, **options) -> UplinkBatcher:
    """A started batcher whose hand-on records each batch's size in ``batches``."""

    async def emit(uplinks):
        batches.append(len(uplinks))

    batcher = UplinkBatcher(emit, **options)
    batcher.start()
    return batcher


def test_under_load_a_batch_lingers_while_uplinks_keep_arriving(monkeypatch):
    """A stream that never pauses for QUIET fills one batch over the linger instead of a batch per
    loop turn (each batch is a Celery task: larger ones cost every process less per uplink)."""
    monkeypatch.setattr("integrations.listeners.batching.QUIET", 0.5)  # a stalled test machine still "streams"
    batches = []

    async def scenario():
        batcher = _counting(batches, max_batch=30, linger=60)
        await batcher.add(uplink(0))  # idle: at once; from here on a batch went less than the linger ago
        waiting = []
        for n in range(1, 31):
            waiting.append(batcher.add(uplink(n)))
            await asyncio.sleep(0.002)
        await asyncio.gather(*waiting)  # the 30th fills the batch: handed on without the linger
        await batcher.close()

    run(scenario())
    assert batches == [1, 30]


def test_a_source_that_waits_for_its_acknowledgements_is_not_held_for_the_linger(monkeypatch):
    """A window of messages that waits for its acknowledgements (a broker's in-flight limit, a
    consumer prefetch, an SQS receive of ten) goes once no uplink arrived for QUIET: with a
    60-second linger, ten windows in a row would otherwise take ten minutes (the test's 20 s
    limit fails it first)."""
    monkeypatch.setattr("integrations.listeners.batching.QUIET", 0.01)
    batches = []

    async def scenario():
        batcher = _counting(batches, max_batch=500, linger=60)
        for window in range(10):
            await asyncio.gather(*(batcher.add(uplink(window * 20 + n)) for n in range(20)))
        await batcher.close()

    run(scenario())
    assert sum(batches) == 200 and len(batches) >= 10
